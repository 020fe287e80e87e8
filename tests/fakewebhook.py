"""Telegram's side of a webhook, for the fake Bot API (`tests.fakebotapi`).

Once the bot has called ``setWebhook``, Telegram POSTs each pending update to the URL as JSON,
with the secret in ``X-Telegram-Bot-Api-Secret-Token``, and delivers it again, later, until one
delivery is answered 2xx (https://core.telegram.org/bots/api#setwebhook). Deliveries of
different updates run side by side (Telegram opens up to 40 connections by default).

`targets` stands in for a load balancer in front of several bot processes: each delivery goes
to the next target in turn, so a re-delivery after a failure reaches another process.

Usage:

    async with WebhookDelivery(api, retry_delay=0.2) as delivery:
        api.inject_command(FakeUser(42), "start")
        await delivery.wait_answered(update_id)
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import aiohttp

from tests.fakebotapi import FakeBotApi

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass(frozen=True)
class Delivery:
    """One POST of an update: where, and the HTTP status (0: no answer, the connection failed
    or timed out)."""

    update_id: int
    url: str
    status: int
    at: float

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class WebhookDelivery:
    def __init__(
        self,
        api: FakeBotApi,
        *,
        targets: Sequence[str] | None = None,
        retry_delay: float = 0.2,
        timeout: float = 30.0,
    ) -> None:
        self.api = api
        self.targets = list(targets) if targets else None
        self.retry_delay = retry_delay
        self.timeout = timeout
        self.deliveries: list[Delivery] = []
        self.posting: dict[int, str] = {}  # update id -> the URL its delivery is posted to now
        self._turn = itertools.count()
        self._in_flight: set[int] = set()
        self._not_before: dict[int, float] = {}
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._posts: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Event()

    async def __aenter__(self) -> WebhookDelivery:
        self._session = aiohttp.ClientSession()
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        tasks = [t for t in (self._task, *self._posts) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    def of(self, update_id: int) -> list[Delivery]:
        return [d for d in self.deliveries if d.update_id == update_id]

    async def wait_for(self, predicate: Callable[[], bool], within: float = 10.0) -> None:
        async with asyncio.timeout(within):
            while not predicate():
                changed = self._changed
                await changed.wait()

    async def wait_answered(self, update_id: int, within: float = 10.0) -> Delivery:
        """The first 2xx delivery of `update_id`."""
        await self.wait_for(lambda: any(d.ok for d in self.of(update_id)), within)
        return next(d for d in self.of(update_id) if d.ok)

    async def post(self, update: dict[str, Any], url: str, secret: str | None) -> int:
        """One delivery as Telegram makes it (or as a forger would, with another secret);
        returns the status, 0 when no answer came."""
        assert self._session is not None
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        try:
            async with self._session.post(
                url,
                json=update,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            ) as response:
                await response.read()
                return response.status
        except (aiohttp.ClientError, TimeoutError):
            return 0

    async def _run(self) -> None:
        while True:
            hook = self.api.webhook
            now = time.monotonic()
            if hook is not None:
                for update in self.api.pending_updates():
                    update_id = update["update_id"]
                    if update_id in self._in_flight or self._not_before.get(update_id, 0) > now:
                        continue
                    self._in_flight.add(update_id)
                    task = asyncio.create_task(self._deliver(update, hook))
                    self._posts.add(task)
                    task.add_done_callback(self._posts.discard)
            await self.api.changed(self.retry_delay / 2)

    async def _deliver(self, update: dict[str, Any], hook: dict[str, Any]) -> None:
        update_id = update["update_id"]
        targets = self.targets or [hook["url"]]
        url = targets[next(self._turn) % len(targets)]
        self.posting[update_id] = url
        try:
            status = await self.post(update, url, hook.get("secret_token"))
            self.deliveries.append(Delivery(update_id, url, status, time.monotonic()))
            if 200 <= status < 300:
                self.api.confirm(update_id)
            else:
                self._not_before[update_id] = time.monotonic() + self.retry_delay
        finally:
            self.posting.pop(update_id, None)
            self._in_flight.discard(update_id)
            changed, self._changed = self._changed, asyncio.Event()
            changed.set()
