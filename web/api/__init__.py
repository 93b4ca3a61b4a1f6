"""API v1 (JSON, OpenAPI at /schema)."""
