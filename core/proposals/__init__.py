"""Action proposals: their lifecycle, inbox, links for recipients without an account, escalation."""
