"""Outbox dedupe keys as the database holds them: keyed hashes, never the key itself.

A dedupe key names what a message is (``remind:<slot>``, ``nudge:<slot>:...``,
``incident:<id>:<helper>``), so written as it is it would tell a reader of the database which
rows are helper alerts. The ``dedupe_key`` column holds the key's blind index value (unique,
so a message is still queued once); the key itself is sealed beside it (``dedupe``). The
``topic`` column, also a keyed hash, groups what must be found together: every reminder and
nudge of one dose has the topic ``dose:<slot>``; any other message is its own topic.
"""

from __future__ import annotations

import re

from storage.blind_index import BlindIndex

_DOSE_MESSAGE = re.compile(r"^(?:remind|nudge):([^:]+)(?::|$)")


def topic_of(dedupe_key: str) -> str:
    found = _DOSE_MESSAGE.match(dedupe_key)
    return f"dose:{found.group(1)}" if found else dedupe_key


def stored_key(index: BlindIndex, dedupe_key: str) -> str:
    return index.lookup("outbox", dedupe_key).hex()


def stored_topic(index: BlindIndex, dedupe_key: str) -> str:
    return index.lookup("outbox-topic", topic_of(dedupe_key)).hex()


def dose_topic(index: BlindIndex, slot_id: str) -> str:
    """The topic of every reminder and nudge of the dose slot ``slot_id``."""
    return index.lookup("outbox-topic", f"dose:{slot_id}").hex()
