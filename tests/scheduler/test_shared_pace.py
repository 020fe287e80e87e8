"""The send pace shared through the database: turns at least `1/rate` apart whoever asks,
several stores (processes) at once included, and never earlier than asked."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from sqlalchemy.exc import OperationalError

from scheduler.clock import SystemClock
from scheduler.outbox import Payload
from scheduler.sending import RetryLater, SendResult, Sent
from scheduler.shared_pace import SharedPace
from storage.keyring import Keyring
from storage.store import Store
from tests.conftest import TestDatabase


async def test_turns_are_an_interval_apart_and_never_before_now(
    database: TestDatabase, keyring: Keyring
) -> None:
    store = await Store.open(database.url, keyring)
    try:
        pace = store.pace
        assert await pace.book("telegram", 0.5, 100.0, 0.2) == (True, 100.0)
        # Too far ahead: not yours, and when the next turn is.
        assert await pace.book("telegram", 0.5, 100.1, 0.2) == (False, 100.5)
        assert await pace.book("telegram", 0.5, 100.3, 0.2) == (True, 100.5)
        # Idle for a while: the turn is now, not a backlog of turns in the past.
        assert await pace.book("telegram", 0.5, 200.0, 0.2) == (True, 200.0)
        # Each channel keeps its own pace.
        assert await pace.book("sms", 6.0, 200.0, 0.2) == (True, 200.0)
        assert await pace.book("telegram", 0.5, 200.3, 0.2) == (True, 200.5)
        # Several turns at once: the next free one comes after all of them.
        assert await pace.book("telegram", 0.5, 300.0, 0.2, count=3) == (True, 300.0)
        assert await pace.book("telegram", 0.5, 301.3, 0.2) == (True, 301.5)
    finally:
        await store.close()


class Recording:
    def __init__(self, clock: SystemClock) -> None:
        self.clock = clock
        self.at: list[float] = []

    async def send(self, address: str, payload: Payload) -> SendResult:
        self.at.append(self.clock.now().timestamp())
        return Sent(None)


def spy_on_turns(store: Store, turns: list[float]) -> None:
    """Record every turn `store` is given."""
    book = store.pace.book

    async def booking(
        channel: str, interval: float, now: float, ahead: float, count: int = 1
    ) -> tuple[bool, float]:
        mine, at = await book(channel, interval, now, ahead, count)
        if mine:
            turns.extend(at + n * interval for n in range(count))
        return mine, at

    store.pace.book = booking  # type: ignore[method-assign]


@pytest.mark.postgres
async def test_three_processes_together_keep_one_rate(
    postgres_database: TestDatabase, keyring: Keyring
) -> None:
    """Three stores (as three processes would have), eight sends in flight in each: the turns
    are handed out across all of them, `1/rate` apart, and each send waits for its turn."""
    clock = SystemClock()
    rate = 40.0
    stores = [await Store.open(postgres_database.url, keyring) for _ in range(3)]
    turns: list[list[float]] = [[] for _ in stores]
    try:
        for store, mine in zip(stores, turns, strict=True):
            spy_on_turns(store, mine)
        recorders = [Recording(clock) for _ in stores]
        paces = [
            SharedPace(r, s, "telegram", rate, clock)
            for r, s in zip(recorders, stores, strict=True)
        ]
        sends = [pace.send(str(n), Payload.message("hi")) for pace in paces for n in range(8)]
        results = await asyncio.gather(*sends)
    finally:
        for store in stores:
            await store.close()
    assert all(isinstance(r, Sent) for r in results)
    every = sorted(at for mine in turns for at in mine)
    assert len(every) == 24
    assert min(b - a for a, b in itertools.pairwise(every)) >= 1 / rate - 1e-6
    for mine, recorder in zip(turns, recorders, strict=True):
        assert mine, "every process gets turns"
        assert all(
            sent >= turn - 1e-3 for turn, sent in zip(sorted(mine), recorder.at, strict=True)
        )


class Unreachable:
    async def book(
        self, channel: str, interval: float, now: float, ahead: float, count: int = 1
    ) -> None:
        raise OperationalError("UPDATE send_pace", None, ConnectionRefusedError())


class NoDatabase:
    pace = Unreachable()


async def test_the_database_out_of_reach_is_a_retryable_failure() -> None:
    clock = SystemClock()
    recorder = Recording(clock)
    pace = SharedPace(recorder, NoDatabase(), "telegram", 10.0, clock)  # type: ignore[arg-type]
    result = await pace.send("1", Payload.message("hi"))
    assert isinstance(result, RetryLater) and recorder.at == []
