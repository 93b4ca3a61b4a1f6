"""HTTP face of the built-in OpenID Connect provider (``/idp``; demo and tests only)."""
