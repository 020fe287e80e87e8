"""Running the long-lived parts of `tbbot run` side by side, and stopping them in bounded time.

A supervisor (systemd, Docker) gives a process a few seconds between SIGTERM and SIGKILL
(Docker: 10). A stop must fit in that even when the Bot API hangs: whatever has not finished by
`STOP_WITHIN` is cancelled. Nothing is lost by that: a send cut short leaves its message leased,
and the next start gives the leases of dead processes back (`scheduler.sql_outbox`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any

logger = logging.getLogger(__name__)

STOP_WITHIN = 8.0
"""Seconds from the stop signal to the end of every part (below Docker's 10)."""
CANCEL_GRACE = 1.0
"""Seconds a cancelled part may take to unwind."""

Part = Callable[[asyncio.Event], Awaitable[None]]
"""A long-lived part: runs until the event it is given is set."""


async def run_until_stopped(
    parts: Mapping[str, Part],
    stop: asyncio.Event,
    *,
    within: float = STOP_WITHIN,
) -> bool:
    """Run every part until `stop` is set, then give them `within` seconds to finish.

    1. Start each part as a task, given `stop`, which each watches itself.
    2. Wait for `stop`, or for a part to end on its own (a crash: nothing here ends early on
       purpose). Then set `stop`, so every other part begins to finish.
    3. Wait up to `within` seconds for them; cancel those still running, and give them
       `CANCEL_GRACE` seconds to unwind.
    Returns False if a part failed or ended before `stop` (the caller exits non-zero then);
    a part cancelled at the deadline is only logged: the stop itself went as asked.
    """
    tasks: dict[asyncio.Future[Any], str] = {
        asyncio.ensure_future(part(stop)): name for name, part in parts.items()
    }
    stopper = asyncio.ensure_future(stop.wait())
    await asyncio.wait([stopper, *tasks], return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    early = [name for task, name in tasks.items() if task.done()] if not stop.is_set() else []
    stop.set()
    for task in await finish(tasks, within):
        logger.warning("%s did not stop within %.0f s; cancelled", tasks[task], within)
    ok = True
    for task, name in tasks.items():
        if task.done() and not task.cancelled() and task.exception() is not None:
            error = task.exception()
            logger.error("%s failed: %s", name, type(error).__name__, exc_info=error)
            ok = False
        elif name in early:
            logger.error("%s ended unexpectedly", name)
            ok = False
    return ok


async def finish(
    tasks: Collection[asyncio.Future[Any]], within: float = STOP_WITHIN
) -> set[asyncio.Future[Any]]:
    """Wait up to `within` seconds for `tasks`, already asked to stop; cancel those still
    running and give them `CANCEL_GRACE` seconds to unwind. Returns the cancelled ones."""
    if not tasks:
        return set()
    _, pending = await asyncio.wait(tasks, timeout=within)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=CANCEL_GRACE)
    return pending
