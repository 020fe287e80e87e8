"""SMS as a channel: segments, phone numbers, the reply reader, the gateway transport, webhooks."""
