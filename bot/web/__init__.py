"""The bot's own HTTP server: webhooks (SMS gateway, later Telegram), health and metrics."""
