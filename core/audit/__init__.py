"""The audit trail: an append-only, hash-chained log of accesses and security events, per tenant."""
