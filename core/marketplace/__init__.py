"""The public marketplace of home services: taxonomy, offers and their coverage, search."""
