"""Conversations, channels, the command line and configuration."""
