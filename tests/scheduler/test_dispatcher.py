"""The dispatcher against the fake Bot API through the real python-telegram-bot, on a fake clock."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta

import pytest

from bot.telegram.sender import TelegramSender, build_bot
from bot.telegram.transport import Timeouts
from scheduler.dispatcher import Unreachable
from scheduler.outbox import FailureReason, Kind, Payload
from scheduler.sending import SendResult
from tests.fakebotapi import Fault
from tests.scheduler.harness import ANA, MINA, TAKEN, WEI, Harness

# PTB 22 warns on reading RetryAfter.retry_after as an int; the sender accepts either type.
pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")


def max_in_any_second(stamps: list[float]) -> int:
    """The most sends in any half-open window of one second (counted in microseconds)."""
    micros = sorted(round(t * 1_000_000) for t in stamps)
    best, start = 0, 0
    for end, t in enumerate(micros):
        while micros[start] <= t - 1_000_000:
            start += 1
        best = max(best, end - start + 1)
    return best


async def test_due_reminder_is_sent_with_its_buttons_and_marked_sent(harness: Harness) -> None:
    message_id = harness.enqueue(MINA, "Time for your 8:00 dose", buttons=TAKEN)

    report = await harness.dispatcher().run_once()

    assert report.sent == 1
    [shown] = harness.api.messages_in(MINA)
    assert shown.text == "Time for your 8:00 dose"
    assert shown.buttons == [[("Taken", "dose:taken:1"), ("Later", "dose:later:1")]]
    row = harness.outbox.rows[message_id]
    assert row.state == "sent"
    assert row.telegram_message_id == shown.message_id


async def test_message_not_yet_due_waits_for_its_time(harness: Harness) -> None:
    harness.enqueue(MINA, "Evening dose", due_in=60)
    dispatcher = harness.dispatcher()

    await dispatcher.run_once()
    assert harness.api.delivered_texts() == []

    harness.clock.advance(60)
    await dispatcher.run_once()
    assert harness.api.delivered_texts() == ["Evening dose"]


async def test_flood_control_waits_retry_after_and_pauses_every_chat(harness: Harness) -> None:
    mina = harness.enqueue(MINA, "Mina's dose")
    harness.enqueue(WEI, "Wei's dose")
    harness.api.add_fault(Fault.too_many_requests(retry_after=5), method="sendMessage")
    dispatcher = harness.dispatcher(max_in_flight=1)

    first = await dispatcher.run_once()
    assert first.deferred == 2
    assert harness.api.delivered_texts() == []
    [refused] = harness.api.calls("sendMessage", ok=False)
    assert refused.status == 429

    harness.clock.advance(4.9)
    assert (await dispatcher.run_once()).claimed == 0

    harness.clock.advance(0.1)
    await dispatcher.run_once()
    assert sorted(harness.api.delivered_texts()) == ["Mina's dose", "Wei's dose"]
    assert all(r.at - refused.at >= 5.0 for r in harness.api.calls("sendMessage", ok=True))
    assert harness.outbox.rows[mina].message.attempts == 0


async def test_server_errors_are_retried_with_growing_backoff_until_sent(harness: Harness) -> None:
    message_id = harness.enqueue(MINA, "Dose")
    harness.api.add_fault(Fault.server_error(500), method="sendMessage", times=3)

    await harness.drain(harness.dispatcher(random_fraction=0.0))

    row = harness.outbox.rows[message_id]
    assert row.state == "sent"
    assert row.message.attempts == 3
    assert row.retry_reasons == ["server_error"] * 3
    stamps = [r.at for r in harness.api.calls("sendMessage")]
    assert [round(b - a, 3) for a, b in itertools.pairwise(stamps)] == [2.0, 4.0, 8.0]


async def test_timed_out_send_is_retried_and_delivered(harness: Harness) -> None:
    message_id = harness.enqueue(MINA, "Dose")
    # Longer than the 0.3 s read timeout the harness's bot uses.
    harness.api.add_fault(Fault.slow(2.0), method="sendMessage")

    await harness.drain(harness.dispatcher())

    row = harness.outbox.rows[message_id]
    assert row.state == "sent"
    assert row.retry_reasons == ["timeout"]
    assert "Dose" in harness.api.delivered_texts(MINA)


async def test_nothing_is_lost_while_the_bot_api_refuses_connections(harness: Harness) -> None:
    ids = [harness.enqueue(chat, f"Dose for {chat}") for chat in (MINA, WEI, ANA)]
    dispatcher = harness.dispatcher()

    async with harness.api.down():
        for _ in range(3):
            report = await dispatcher.run_once()
            assert report.retried == 3
            harness.clock.advance(timedelta(minutes=1))

    await harness.drain(dispatcher)

    assert [harness.outbox.state(i) for i in ids] == ["sent"] * 3
    assert {r.retry_reasons[0] for r in harness.outbox.rows.values()} == {"network"}
    assert sorted(harness.api.delivered_texts()) == sorted(
        f"Dose for {c}" for c in (MINA, WEI, ANA)
    )


async def test_blocked_patient_is_flagged_unreachable_and_others_still_get_theirs(
    harness: Harness,
) -> None:
    blocked = harness.enqueue(MINA, "Dose", kind=Kind.REMINDER)
    harness.enqueue(WEI, "Dose")
    harness.api.add_fault(Fault.blocked(), chat_id=MINA, times=None)

    await harness.drain(harness.dispatcher())

    row = harness.outbox.rows[blocked]
    assert (row.state, row.failure) == ("failed", FailureReason.BLOCKED)
    assert len(harness.api.calls("sendMessage", chat_id=MINA)) == 1
    [event] = harness.unreachable
    assert (event.recipient, event.reason, event.kind) == (
        f"recipient-{MINA}",
        FailureReason.BLOCKED,
        Kind.REMINDER,
    )
    assert harness.api.delivered_texts(WEI) == ["Dose"]


async def test_chat_not_found_is_permanent_and_flagged_unreachable(harness: Harness) -> None:
    message_id = harness.enqueue(ANA, "Mina has not confirmed 3 doses", kind=Kind.HELPER_ALERT)
    harness.api.add_fault(Fault.chat_not_found(), chat_id=ANA, times=None)

    await harness.drain(harness.dispatcher())

    assert harness.outbox.rows[message_id].failure == FailureReason.CHAT_NOT_FOUND
    assert [e.reason for e in harness.unreachable] == [FailureReason.CHAT_NOT_FOUND]


async def test_gives_up_after_max_attempts_without_calling_the_patient_unreachable(
    harness: Harness,
) -> None:
    message_id = harness.enqueue(MINA, "Weekly summary", kind=Kind.SUMMARY)
    harness.api.add_fault(Fault.server_error(502), times=None)

    await harness.drain(harness.dispatcher(max_attempts=4))

    row = harness.outbox.rows[message_id]
    assert (row.state, row.failure) == ("failed", FailureReason.GAVE_UP)
    assert len(harness.api.calls("sendMessage")) == 4
    assert harness.unreachable == []


async def test_reminder_whose_window_has_passed_is_not_sent_late(harness: Harness) -> None:
    message_id = harness.enqueue(MINA, "Dose", window=3600)
    harness.clock.advance(timedelta(hours=2))

    report = await harness.dispatcher().run_once()

    assert report.expired == 1
    assert harness.outbox.state(message_id) == "expired"
    assert harness.api.calls("sendMessage") == []


async def test_retry_that_would_fall_after_the_window_marks_reminder_expired(
    harness: Harness,
) -> None:
    message_id = harness.enqueue(MINA, "Dose", window=1.5)
    harness.api.add_fault(Fault.server_error(503), times=None)

    await harness.drain(harness.dispatcher(random_fraction=0.0))

    assert harness.outbox.state(message_id) == "expired"
    assert len(harness.api.calls("sendMessage")) == 1


async def test_reminders_and_helper_alerts_go_before_nudges_and_summaries_under_backlog(
    harness: Harness,
) -> None:
    for i in range(6):
        harness.enqueue(1100 + i, "summary", kind=Kind.SUMMARY)
        harness.enqueue(1200 + i, "nudge", kind=Kind.NUDGE)
    harness.clock.advance(30)
    for i in range(3):
        harness.enqueue(1300 + i, "reminder", kind=Kind.REMINDER)
    for i in range(2):
        harness.enqueue(1400 + i, "helper alert", kind=Kind.HELPER_ALERT)

    await harness.drain(harness.dispatcher(global_rate=5, max_in_flight=1, batch_size=4))

    order = harness.api.delivered_texts()
    assert sorted(order[:5]) == ["helper alert"] * 2 + ["reminder"] * 3
    assert order[5:] == ["nudge"] * 6 + ["summary"] * 6


async def test_one_chat_gets_at_most_one_message_per_second(harness: Harness) -> None:
    for n in range(4):
        harness.enqueue(MINA, f"Mina {n}")
    harness.enqueue(WEI, "Wei")

    # One send at a time, so that each request reaches the fake before virtual time moves on.
    await harness.drain(harness.dispatcher(max_in_flight=1))

    assert harness.api.delivered_texts(MINA) == [f"Mina {n}" for n in range(4)]
    mina = [r.at for r in harness.api.calls("sendMessage", chat_id=MINA)]
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(mina))
    [wei] = harness.api.calls("sendMessage", chat_id=WEI)
    assert wei.at - mina[0] < 0.1


async def test_global_limit_keeps_every_second_within_the_rate(harness: Harness) -> None:
    harness.api.flood_limit = 25
    for chat in range(3000, 3060):
        harness.enqueue(chat, "Dose")

    await harness.drain(harness.dispatcher(global_rate=25, max_in_flight=1))

    assert len(harness.api.delivered_texts()) == 60
    assert [r for r in harness.api.requests if r.status == 429] == []
    stamps = [r.at for r in harness.api.calls("sendMessage")]
    assert max_in_any_second(stamps) == 25
    assert max(stamps) - min(stamps) >= 59 / 25


async def test_without_a_global_limit_every_chat_is_sent_at_once(harness: Harness) -> None:
    for chat in range(3000, 3030):
        harness.enqueue(chat, "Dose")

    report = await harness.dispatcher(global_rate=None).run_once()

    assert report.sent == 30
    assert harness.clock.slept == []


async def test_failing_unreachable_handler_does_not_stop_other_sends(harness: Harness) -> None:
    harness.enqueue(MINA, "Dose")
    harness.enqueue(WEI, "Dose")
    harness.api.add_fault(Fault.blocked(), chat_id=MINA)

    async def broken(event: Unreachable) -> None:
        raise RuntimeError("helper path down")

    report = await harness.dispatcher(on_unreachable=broken).run_once()

    assert (report.failed, report.sent) == (1, 1)


async def test_run_forever_claims_the_next_batch_while_sends_are_on_the_wire(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backlog flows past a slow send: the next batches are claimed and sent while it is
    still on the wire (waiting for it would stall every chat behind one), and all cycles
    together keep to `max_in_flight`."""
    chats = range(3000, 3030)
    for chat in chats:
        harness.enqueue(chat, f"dose {chat}")
    harness.api.add_fault(Fault.slow(1.0), method="sendMessage", chat_id=3000)
    dispatcher = harness.dispatcher(global_rate=None, max_in_flight=4, batch_size=5)
    # The harness's read timeout (0.3 s) would turn the slow send into a retry.
    unhurried = build_bot(harness.api.token, base_url=harness.api.base_url, timeouts=Timeouts())
    lane = dispatcher.lanes["telegram"]
    lane.sender = TelegramSender(unhurried)
    on_wire, most, others_when_slow_done = 0, 0, -1
    send = lane.sender.send

    async def counted_send(chat_id: str, payload: Payload) -> SendResult:
        nonlocal on_wire, most, others_when_slow_done
        on_wire += 1
        most = max(most, on_wire)
        try:
            return await send(chat_id, payload)
        finally:
            on_wire -= 1
            if chat_id == "3000":
                others_when_slow_done = len(harness.api.delivered_texts()) - 1

    monkeypatch.setattr(lane.sender, "send", counted_send)
    stop = asyncio.Event()
    async with unhurried:
        running = asyncio.create_task(dispatcher.run_forever(stop))
        await harness.api.wait_for(lambda: len(harness.api.delivered_texts()) == len(chats))
        stop.set()
        await asyncio.wait_for(running, 5.0)

    assert sorted(harness.api.delivered_texts()) == sorted(f"dose {chat}" for chat in chats)
    assert all(row.state == "sent" for row in harness.outbox.rows.values())
    assert others_when_slow_done == len(chats) - 1
    assert most == 4


async def test_run_forever_sends_what_falls_due_and_stops_when_asked(harness: Harness) -> None:
    harness.enqueue(MINA, "Morning dose")
    harness.enqueue(WEI, "Evening dose", due_in=timedelta(hours=10).total_seconds())
    dispatcher = harness.dispatcher()
    stop = asyncio.Event()

    running = asyncio.create_task(dispatcher.run_forever(stop))
    await harness.api.wait_for(lambda: len(harness.api.delivered_texts()) == 2)
    stop.set()
    await asyncio.wait_for(running, 1.0)

    assert harness.api.delivered_texts() == ["Morning dose", "Evening dose"]
    [evening] = harness.api.calls("sendMessage", chat_id=WEI)
    assert evening.at >= timedelta(hours=10).total_seconds()
