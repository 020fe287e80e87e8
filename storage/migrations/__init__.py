"""Alembic migrations of the store; run through `storage.migrate`, which supplies the config."""
