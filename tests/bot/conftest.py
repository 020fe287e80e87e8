"""Fixtures of the dialogue tests (see `tests.bot.world`)."""

from tests.bot.world import world

__all__ = ["world"]
