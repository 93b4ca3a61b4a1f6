"""People, identifiers and (later) professionals, organisations and login."""
