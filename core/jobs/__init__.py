"""Background jobs on dramatiq: the broker, the actors, the outbox dispatcher."""
