"""Is the SMS gateway working? What the operator is told, in the log and on the health route.

The phone is a single point of failure that fails quietly: it runs out of battery, loses its
signal, or is switched off, and texts pile up unsent. `GatewayWatch` learns from every send and
every probe (`WatchedTransport` wraps the transport); when the gateway has been unreachable, or
texts have stayed pending, for longer than `alarm_after`, it logs one WARNING (and one line
when it recovers) and its health route answers 503 with what is wrong, so a monitor sees it.
Nothing is lost meanwhile: unsent texts stay in the outbox and are retried.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from bot.sms.policy import DEFAULT_ALARM_MINUTES
from bot.sms.transport import (
    Accepted,
    Health,
    OutgoingSms,
    SendOutcome,
    SmsTransport,
    StatusReport,
)
from scheduler.clock import Clock
from scheduler.sending import RetryLater, RetryReason

log = logging.getLogger(__name__)

HEALTH_PATH = "/health/sms"
DEFAULT_ALARM_AFTER = timedelta(minutes=DEFAULT_ALARM_MINUTES)
# Failures that mean "the gateway cannot be reached or cannot work", not "this text is bad".
_OUTAGES = frozenset(
    {RetryReason.NETWORK, RetryReason.TIMEOUT, RetryReason.SERVER_ERROR, RetryReason.UNAUTHORIZED}
)


@dataclass
class _Stuck:
    count: int = 0
    oldest: datetime | None = None


class GatewayWatch:
    def __init__(self, clock: Clock, alarm_after: timedelta = DEFAULT_ALARM_AFTER) -> None:
        self.clock = clock
        self.alarm_after = alarm_after
        self.failing_since: datetime | None = None
        self.last_ok: datetime | None = None
        self.last_problem = ""
        self._stuck = _Stuck()
        self._alarmed = False

    def sent(self, outcome: SendOutcome) -> None:
        if isinstance(outcome, Accepted):
            self._ok()
        elif isinstance(outcome, RetryLater) and outcome.reason in _OUTAGES:
            self._failing(f"sends failing ({outcome.reason.value})")
        self.check()

    def probed(self, health: Health) -> None:
        if health.ok:
            self._ok()
        else:
            self._failing(health.detail)
        self.check()

    def pending(self, count: int, oldest: datetime | None) -> None:
        """Texts the gateway accepted but has not sent yet (from the outbox's delivery states)."""
        self._stuck = _Stuck(count, oldest)
        self.check()

    def _ok(self) -> None:
        self.failing_since = None
        self.last_ok = self.clock.now()

    def _failing(self, problem: str) -> None:
        if self.failing_since is None:
            self.failing_since = self.clock.now()
        self.last_problem = problem

    def problems(self) -> list[str]:
        """What is wrong for longer than `alarm_after`; empty when all is well."""
        now = self.clock.now()
        found = []
        if self.failing_since is not None and now - self.failing_since >= self.alarm_after:
            minutes = int((now - self.failing_since).total_seconds() // 60)
            found.append(f"gateway unreachable for {minutes} min: {self.last_problem}")
        stuck = self._stuck
        if stuck.oldest is not None and now - stuck.oldest >= self.alarm_after:
            minutes = int((now - stuck.oldest).total_seconds() // 60)
            found.append(f"{stuck.count} text(s) pending on the phone, oldest {minutes} min")
        return found

    def check(self) -> None:
        """Log one WARNING when problems begin and one INFO line when they end."""
        problems = self.problems()
        if problems and not self._alarmed:
            self._alarmed = True
            log.warning("SMS: %s; texts stay queued and are retried", "; ".join(problems))
        elif not problems and self._alarmed:
            self._alarmed = False
            log.info("SMS: the gateway is working again")

    def snapshot(self) -> dict[str, Any]:
        problems = self.problems()
        return {
            "status": "failing" if problems else "ok",
            "problems": problems,
            "last_ok": self.last_ok.isoformat() if self.last_ok else None,
            "pending": self._stuck.count,
        }

    def routes(self) -> list[web.RouteDef]:
        return [web.get(HEALTH_PATH, self._health)]

    async def _health(self, request: web.Request) -> web.Response:
        self.check()
        snapshot = self.snapshot()
        return web.json_response(snapshot, status=200 if snapshot["status"] == "ok" else 503)


class WatchedTransport:
    """A transport whose every send and probe the watch hears of."""

    def __init__(self, transport: SmsTransport, watch: GatewayWatch) -> None:
        self.transport = transport
        self.watch = watch

    async def send(self, message: OutgoingSms) -> SendOutcome:
        outcome = await self.transport.send(message)
        self.watch.sent(outcome)
        return outcome

    async def status(self, message_id: str) -> StatusReport | None:
        return await self.transport.status(message_id)

    async def health(self) -> Health:
        health = await self.transport.health()
        self.watch.probed(health)
        return health

    async def close(self) -> None:
        await self.transport.close()
