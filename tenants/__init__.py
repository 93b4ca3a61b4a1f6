"""Territories: onboarding a tenant, and the demo territories with their fictional data."""
