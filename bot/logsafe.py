"""Logging that cannot give a patient away.

Our own code logs outbox ids, kinds and reason codes, never a chat id or message text. Libraries
are less careful: httpx logs every request URL at INFO, and a Bot API URL carries the bot token;
python-telegram-bot logs every call's parameters (chat ids, texts) at DEBUG, and the token when
it is rejected. So:

1. httpx and httpcore are held at WARNING and python-telegram-bot at INFO, whatever the level
   asked for: their DEBUG and INFO lines are exactly the ones that carry requests. aiohttp, the
   dispatcher's transport, is held at WARNING too, as a precaution. So are the SQL layers
   (SQLAlchemy, aiosqlite, asyncpg): at INFO and DEBUG they print statements and their
   parameters (blind index values, ids, ciphertext). APScheduler is held at WARNING because
   the engine re-arms a job every round and it says so at INFO.
2. Every record that reaches our handler is redacted: anything shaped like a bot token, and the
   configured token itself, in the message, its arguments, the exception and the stack.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from typing import TextIO

# A Bot API token: the bot's numeric id, a colon, and a secret of URL-safe characters.
TOKEN_PATTERN = re.compile(r"\d{6,12}:[A-Za-z0-9_-]{30,}")
REDACTED = "[redacted]"

# Loggers whose low levels carry request URLs (with the token) or request parameters.
QUIET_LEVELS = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "aiohttp": logging.WARNING,
    "telegram": logging.INFO,
    "sqlalchemy": logging.WARNING,
    "aiosqlite": logging.WARNING,
    "asyncpg": logging.WARNING,
    "apscheduler": logging.WARNING,
}
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactingFilter(logging.Filter):
    """Rewrites each record with every token removed. Attach it to handlers, not loggers:
    a logger's filters do not see records propagated from its children."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = sorted((s for s in secrets if s), key=len, reverse=True)
        self._formatter = logging.Formatter()

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return TOKEN_PATTERN.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            # Arguments that do not fit the format: keep both, redacted, rather than lose the line.
            message = f"{record.msg} {record.args}"
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info:
            record.exc_text = self.redact(self._formatter.formatException(record.exc_info))
            # The traceback text above replaces the exception object, whose message may hold
            # the token and which a later formatter would otherwise render again.
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def configure_logging(
    level: int | str = logging.INFO,
    *,
    token: str | None = None,
    stream: TextIO | None = None,
) -> logging.Handler:
    """Send log records to `stream` (stderr by default) through the redacting filter.

    Replaces a handler installed by an earlier call, leaves any others alone, and returns the
    handler so that a caller (or a test) can remove it.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _SafeHandler)]:
        root.removeHandler(old)
        old.close()
    handler = _SafeHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.addFilter(RedactingFilter([token] if token else []))
    root.addHandler(handler)
    root.setLevel(level)
    for name, quiet in QUIET_LEVELS.items():
        logging.getLogger(name).setLevel(max(quiet, root.level))
    return handler


class _SafeHandler(logging.StreamHandler[TextIO]):
    """Marks the handler `configure_logging` owns."""
