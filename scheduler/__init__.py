"""Time: what is due when, the durable outbox and its dispatcher."""
