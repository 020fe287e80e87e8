"""Channel adapters: they turn a channel's events into `Inbound` and render `Reply`."""
