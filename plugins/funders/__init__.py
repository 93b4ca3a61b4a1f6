"""Funder plugins: one module per funder."""
