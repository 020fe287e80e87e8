"""`bot.lifecycle`: the parts of `tbbot run` stop in bounded time, and a crash is reported."""

from __future__ import annotations

import asyncio

import pytest

from bot.lifecycle import finish, run_until_stopped

pytestmark = pytest.mark.asyncio


async def until_stopped(stop: asyncio.Event) -> None:
    await stop.wait()


async def test_a_stop_ends_every_part_and_reports_success() -> None:
    event = asyncio.Event()
    asyncio.get_running_loop().call_soon(event.set)
    assert await run_until_stopped({"a": until_stopped, "b": until_stopped}, event, within=1.0)


async def test_a_part_that_ignores_the_stop_is_cancelled_at_the_deadline() -> None:
    cancelled = asyncio.Event()

    async def stubborn(_stop: asyncio.Event) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    event = asyncio.Event()
    asyncio.get_running_loop().call_soon(event.set)
    assert await run_until_stopped({"stubborn": stubborn}, event, within=0.05)
    assert cancelled.is_set()


async def test_a_part_that_crashes_stops_the_others_and_reports_failure() -> None:
    async def crashes(_stop: asyncio.Event) -> None:
        raise RuntimeError("boom")

    event = asyncio.Event()
    assert not await run_until_stopped({"ok": until_stopped, "crashes": crashes}, event)
    assert event.is_set()


async def test_a_part_that_ends_early_without_an_error_is_a_failure_too() -> None:
    async def quits(_stop: asyncio.Event) -> None:
        return None

    assert not await run_until_stopped({"ok": until_stopped, "quits": quits}, asyncio.Event())


async def test_finish_gives_back_only_the_tasks_it_had_to_cancel() -> None:
    done = asyncio.ensure_future(asyncio.sleep(0))
    await done
    hung = asyncio.ensure_future(asyncio.Event().wait())
    assert await finish({done, hung}, within=0.01) == {hung}
    assert hung.cancelled()
    assert await finish(set()) == set()
