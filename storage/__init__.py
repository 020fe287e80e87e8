"""Encrypted persistence: models, envelope encryption, blind index, repositories, migrations."""
