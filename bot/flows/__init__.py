"""Conversation flows: each turns one inbound event into replies and a next state."""
