"""The tenant registry: territories running Parcours."""
