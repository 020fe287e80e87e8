"""Whether `tbbot run` is doing its job, for a monitor to poll and for a dead-man's switch.

`GET /health` (on the shared web server, `TBBOT_HTTP_LISTEN`) answers 200 when healthy and 503
when not, with a JSON body a person can read:

- ``engine``: the oldest dose timer that came due and was not taken up (the engine is stuck or
  dead if that grows);
- ``outbox``: since when the longest-waiting due message has waited (the dispatcher is not
  draining if that grows), and how many wait for a retry;
- ``channels``: per channel, whether it is connected and when it last sent successfully.

Healthy means: no timer and no message waiting longer than `LATE`, every channel connected, and
the database answering. Nothing in the report names a patient or counts them.

The dead-man's switch (`DeadMansSwitch`, `TBBOT_HEALTHCHECK_URL`, off by default) pings a URL
(healthchecks.io, or a self-hosted twin) every `PING_EVERY` while healthy and stays silent
while not, so the service there raises the alarm when the pings stop: also when the whole
machine is down, which no endpoint on it can report.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web

from scheduler.clock import Clock
from scheduler.outbox import Payload
from scheduler.sending import Sender, SendResult, Sent
from storage.errors import StoreError
from storage.store import Store

logger = logging.getLogger(__name__)

LATE = timedelta(minutes=5)
"""A due timer or message waiting longer than this is a fault worth waking someone for."""
PING_EVERY = 60.0
PING_TIMEOUT = 10.0


@dataclass
class SendWatch:
    """A channel's `Sender`, remembering when it last delivered something."""

    inner: Sender
    clock: Clock
    last_sent: datetime | None = None

    async def send(self, address: str, payload: Payload) -> SendResult:
        result = await self.inner.send(address, payload)
        if isinstance(result, Sent):
            self.last_sent = self.clock.now()
        return result


@dataclass(frozen=True)
class ChannelWatch:
    """What the report says of one channel: `connected` is asked at each report."""

    connected: Callable[[], bool]
    sends: SendWatch


@dataclass
class Health:
    store: Store
    clock: Clock
    channels: Mapping[str, ChannelWatch] = field(default_factory=dict)
    late: timedelta = LATE

    async def report(self) -> dict[str, Any]:
        """The report described in the module docstring; ``ok`` says healthy or not."""
        now = self.clock.now()
        channels = {
            name: {
                "ok": watch.connected(),
                "connected": watch.connected(),
                "last_sent_at": _iso(watch.sends.last_sent),
            }
            for name, watch in self.channels.items()
        }
        try:
            overdue = await self.store.dose_timers.oldest_overdue(now)
            due_since, retrying = await self.store.outbox.backlog(now)
        except StoreError as exc:
            return {
                "ok": False,
                "checked_at": _iso(now),
                "database": {"ok": False, "error": type(exc).__name__},
                "channels": channels,
            }
        engine_late = _seconds_since(overdue, now)
        outbox_late = _seconds_since(due_since, now)
        limit = self.late.total_seconds()
        parts: dict[str, Any] = {
            "database": {"ok": True},
            "engine": {"ok": engine_late <= limit, "oldest_overdue_seconds": engine_late},
            "outbox": {
                "ok": outbox_late <= limit,
                "oldest_due_seconds": outbox_late,
                "retrying": retrying,
            },
            "channels": channels,
        }
        ok = all(part["ok"] for name, part in parts.items() if name != "channels") and all(
            channel["ok"] for channel in channels.values()
        )
        return {"ok": ok, "checked_at": _iso(now), **parts}

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/health", self._get)]

    async def _get(self, request: web.Request) -> web.Response:
        report = await self.report()
        return web.json_response(report, status=200 if report["ok"] else 503)


class DeadMansSwitch:
    """Pings `url` every `every` seconds while `health` says healthy (see the module)."""

    def __init__(self, health: Health, url: str, every: float = PING_EVERY) -> None:
        self.health = health
        self.url = url  # never logged: a ping URL is a credential of sorts
        self.every = every
        self.pings = 0

    async def run(self, stop: asyncio.Event) -> None:
        """1. Ask for the health report. 2. Healthy: GET the URL (a failure is logged by
        kind only and tried again next round). 3. Wait `every` seconds or until `stop`."""
        timeout = aiohttp.ClientTimeout(total=PING_TIMEOUT)
        async with aiohttp.ClientSession(timeout=timeout, trust_env=True) as session:
            while not stop.is_set():
                report = await self.health.report()
                if report["ok"]:
                    await self._ping(session)
                else:
                    logger.warning("unhealthy: not pinging the dead-man's switch")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.every)

    async def _ping(self, session: aiohttp.ClientSession) -> None:
        try:
            async with session.get(self.url, allow_redirects=False) as answer:
                if answer.status >= 400:
                    logger.warning("the dead-man's switch answered HTTP %d", answer.status)
                    return
            self.pings += 1
        except (aiohttp.ClientError, TimeoutError) as exc:
            logger.warning("the dead-man's switch could not be pinged: %s", type(exc).__name__)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="seconds")


def _seconds_since(then: datetime | None, now: datetime) -> float:
    return 0.0 if then is None else max(0.0, round((now - then).total_seconds(), 1))
