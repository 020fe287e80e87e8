"""The channel-agnostic conversation: inbound text, commands and choices become replies."""
