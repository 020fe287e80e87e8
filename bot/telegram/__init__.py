"""The Telegram channel: python-telegram-bot adapters for sending and receiving."""
