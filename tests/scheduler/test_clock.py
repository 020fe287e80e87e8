"""The fake clock moves only when told or slept on; both clocks speak aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scheduler.clock import FakeClock, SystemClock

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


async def test_sleeping_on_the_fake_clock_moves_virtual_time_at_once() -> None:
    clock = FakeClock(START)

    await clock.sleep(3600)

    assert clock.now() == START + timedelta(hours=1)
    assert clock.monotonic() == 3600.0
    assert clock.slept == [3600]


async def test_many_small_sleeps_add_up_exactly() -> None:
    clock = FakeClock(START)

    for _ in range(25):
        await clock.sleep(0.04)

    assert clock.now() == START + timedelta(seconds=1)


def test_fake_clock_rounds_sleeps_up_never_down() -> None:
    clock = FakeClock(START)

    clock.advance(0.0000001)

    assert clock.now() == START + timedelta(microseconds=1)


def test_fake_clock_refuses_naive_start_and_going_backwards() -> None:
    with pytest.raises(ValueError, match="aware"):
        FakeClock(datetime(2026, 3, 2, 8, 0))
    with pytest.raises(ValueError, match="backwards"):
        FakeClock(START).advance(-1)


def test_system_clock_is_aware_utc() -> None:
    assert SystemClock().now().tzinfo is UTC
