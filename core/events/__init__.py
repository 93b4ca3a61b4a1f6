"""Life events, their intake and their routing into action proposals."""
