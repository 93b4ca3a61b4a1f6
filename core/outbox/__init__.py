"""Transactional outbox: work recorded with the data, delivered at least once."""
