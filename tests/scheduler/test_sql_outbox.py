"""The SQL outbox behind the dispatcher: ordering, claim tokens, expiry, and faults end to end.

The end-to-end tests run the engine, the SQL outbox, the dispatcher and the real
`TelegramSender` (python-telegram-bot over HTTP) against the fake Bot API on 127.0.0.1, on a
fake clock: the clock jumps to the next due message or the end of a pause instead of waiting.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import event

from bot.telegram.channel import TELEGRAM
from bot.telegram.sender import TelegramSender, build_bot
from scheduler.clock import FakeClock
from scheduler.dispatcher import Backoff, Dispatcher, DispatcherConfig
from scheduler.engine import Engine
from scheduler.outbox import Kind, Payload
from scheduler.ratelimit import Limits
from scheduler.sending import Lane
from scheduler.sql_outbox import SqlOutbox
from storage.records import OutboxMessage, OutboxState
from storage.store import Store
from tests.fakebotapi import FakeBotApi, Fault
from tests.scheduler.conftest import TEST_TIMEOUTS
from tests.scheduler.engine_support import Enrolled, enrol_patient, make_engine

START = date(2026, 12, 1)
T0 = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
FIRST_DUE = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai


async def mina(store: Store, engine: Engine) -> Enrolled:
    """Mina in Shanghai, a dose at 08:00 from START, Telegram chat 1001."""
    return await enrol_patient(
        store,
        engine,
        T0,
        alias="Mina",
        zone="Asia/Shanghai",
        times=["08:00"],
        start=START,
        chat_id=1001,
    )


async def queue(store: Store, patient_id: str, kind: Kind, key: str, at: datetime) -> None:
    await store.outbox.enqueue(
        OutboxMessage(
            patient_id=patient_id,
            recipient="patient",
            kind=kind.value,
            payload=Payload.message(f"{kind} {key}").to_dict(),
            dedupe_key=key,
            not_before=at,
            priority=int(kind.priority),
        )
    )


async def test_when_backed_up_reminders_and_alerts_go_before_nudges_and_summaries(
    store: Store,
) -> None:
    clock = FakeClock(T0)
    engine = make_engine(store, clock)
    who = await mina(store, engine)
    pid = who.patient.id
    await queue(store, pid, Kind.SUMMARY, "s1", T0 - timedelta(minutes=9))
    await queue(store, pid, Kind.NUDGE, "n1", T0 - timedelta(minutes=8))
    await queue(store, pid, Kind.REMINDER, "r1", T0 - timedelta(minutes=1))
    await queue(store, pid, Kind.HELPER_ALERT, "a1", T0)
    outbox = SqlOutbox(store, "w1")
    claimed = await outbox.claim_due(T0, 3, timedelta(minutes=1), "telegram")
    assert [m.kind for m in claimed] == [Kind.REMINDER, Kind.HELPER_ALERT, Kind.NUDGE]
    assert all((m.channel, m.address) == ("telegram", "1001") for m in claimed)


async def test_a_worker_whose_lease_ran_out_cannot_overwrite_the_next_claim(
    store: Store,
) -> None:
    clock = FakeClock(T0)
    engine = make_engine(store, clock)
    who = await mina(store, engine)
    await queue(store, who.patient.id, Kind.REMINDER, "r1", T0)
    slow, fast = SqlOutbox(store, "slow"), SqlOutbox(store, "fast")
    (first,) = await slow.claim_due(T0, 10, timedelta(seconds=30), "telegram")
    assert (
        await fast.claim_due(T0 + timedelta(seconds=10), 10, timedelta(seconds=30), "telegram")
        == []
    )
    (second,) = await fast.claim_due(
        T0 + timedelta(seconds=31), 10, timedelta(seconds=30), "telegram"
    )
    assert second.id == first.id
    await fast.mark_sent(second.id, 77, T0 + timedelta(seconds=32))
    await slow.retry_later(first.id, T0 + timedelta(minutes=5), "timeout")  # too late
    entry = await store.outbox.get(first.id)
    assert entry.state is OutboxState.SENT and entry.sent_message_id == "77"


def dispatcher_for(
    store: Store, api: FakeBotApi, clock: FakeClock, bot: object, **limits: float | None
) -> tuple[Dispatcher, SqlOutbox]:
    outbox = SqlOutbox(store, "dispatcher")
    telegram = replace(TELEGRAM, limits=Limits(**limits))  # type: ignore[arg-type]
    dispatcher = Dispatcher(
        outbox,
        [Lane(telegram, TelegramSender(bot))],  # type: ignore[arg-type]
        clock,
        on_unreachable=outbox.record_unreachable,
        config=DispatcherConfig(batch_size=20, backoff=Backoff(base=2.0, cap=60.0, jitter=0.5)),
        random=lambda: 0.5,
    )
    return dispatcher, outbox


async def drain(dispatcher: Dispatcher, outbox: SqlOutbox, clock: FakeClock) -> None:
    """Cycles, jumping the clock to the next due message or pause end, until nothing waits."""
    for _ in range(300):
        report = await dispatcher.run_once()
        due = await outbox.next_due(clock.now())
        if due is None:
            return
        wake = max(due, report.paused_until or due)
        if wake > clock.now():
            clock.advance(wake - clock.now())
    raise AssertionError("outbox not drained")


async def test_reminders_survive_faults_and_blocked_patients_are_flagged(
    store: Store, fake_bot_api: FakeBotApi
) -> None:
    """Faults against the fake Bot API: 429 with retry_after, 500s, a timeout, connection
    refused for a while, and a patient who blocked the bot. Nothing is lost; the blocked
    patient's reminder fails for good and the patient is flagged unreachable."""
    clock = FakeClock(T0)
    fake_bot_api.clock = clock.monotonic
    engine = make_engine(store, clock)
    chats = [1001, 1002, 1003, 1004, 1005, 1006]
    people = [
        await enrol_patient(
            store,
            engine,
            T0,
            alias=f"P{chat}",
            zone="Asia/Shanghai",
            times=["08:00"],
            start=START,
            chat_id=chat,
        )
        for chat in chats
    ]
    clock.advance(FIRST_DUE - clock.now())
    assert (await engine.tick()).reminded == len(chats)

    fake_bot_api.add_fault(Fault.too_many_requests(3), method="sendMessage", chat_id=1001)
    fake_bot_api.add_fault(Fault.server_error(500), method="sendMessage", chat_id=1002, times=2)
    fake_bot_api.add_fault(Fault.server_error(502), method="sendMessage", chat_id=1003)
    fake_bot_api.add_fault(Fault.slow(1.0), method="sendMessage", chat_id=1004)
    fake_bot_api.add_fault(Fault.blocked(), method="sendMessage", chat_id=1006, times=None)
    bot = build_bot(fake_bot_api.token, base_url=fake_bot_api.base_url, timeouts=TEST_TIMEOUTS)
    async with bot:
        dispatcher, outbox = dispatcher_for(store, fake_bot_api, clock, bot, global_rate=25.0)
        await fake_bot_api.go_down()  # connection refused for the first round and its retries
        for _ in range(3):
            await dispatcher.run_once()
            clock.advance(timedelta(seconds=30))
        await fake_bot_api.come_back()
        await drain(dispatcher, outbox, clock)

    for person in people:
        (entry,) = await store.outbox.for_patient(person.patient.id)
        delivered = fake_bot_api.delivered_texts(person.chat_id)
        if person.chat_id == 1006:
            assert entry.state is OutboxState.FAILED and entry.last_error == "blocked"
            assert delivered == []
            assert await outbox.is_unreachable(person.patient.id)
        else:
            assert entry.state is OutboxState.SENT, (person.chat_id, entry.last_error)
            # The slow answer counts as a timeout and is retried, so it may arrive twice.
            assert 1 <= len(delivered) <= (2 if person.chat_id == 1004 else 1)
            assert not await outbox.is_unreachable(person.patient.id)
    assert fake_bot_api.calls("sendMessage", chat_id=1001, ok=False)[0].status == 429


async def test_a_reminder_whose_window_closed_is_not_sent_late(
    store: Store, fake_bot_api: FakeBotApi
) -> None:
    clock = FakeClock(T0)
    fake_bot_api.clock = clock.monotonic
    engine = make_engine(store, clock)
    who = await mina(store, engine)
    clock.advance(FIRST_DUE - clock.now())
    await engine.tick()
    # The Bot API is unreachable for longer than the dose window.
    bot = build_bot(fake_bot_api.token, base_url=fake_bot_api.base_url, timeouts=TEST_TIMEOUTS)
    async with bot:
        dispatcher, outbox = dispatcher_for(store, fake_bot_api, clock, bot)
        async with fake_bot_api.down():
            for _ in range(4):  # four attempts, two hours apart: past the 6 h window
                await dispatcher.run_once()
                clock.advance(timedelta(hours=2))
        await drain(dispatcher, outbox, clock)
    entries = await store.outbox.for_patient(who.patient.id)
    reminder = next(e for e in entries if e.kind == "reminder")
    assert reminder.state is OutboxState.EXPIRED
    assert fake_bot_api.delivered_texts(1001) == []


async def test_sends_completing_together_share_a_commit_and_each_is_recorded(
    store: Store,
) -> None:
    clock = FakeClock(T0)
    engine = make_engine(store, clock)
    who = await mina(store, engine)
    for n in range(20):
        await queue(store, who.patient.id, Kind.REMINDER, f"g{n}", T0)
    outbox = SqlOutbox(store, "group")
    claimed = await outbox.claim_due(T0, 50, timedelta(minutes=1), "telegram")
    commits: list[object] = []

    def count(connection: object) -> None:
        commits.append(connection)

    event.listen(store.engine.sync_engine, "commit", count)
    try:
        await asyncio.gather(*(outbox.mark_sent(m.id, 500 + n, T0) for n, m in enumerate(claimed)))
    finally:
        event.remove(store.engine.sync_engine, "commit", count)
    entries = [await store.outbox.get(m.id) for m in claimed]
    assert len(entries) == 20 and all(e.state is OutboxState.SENT for e in entries)
    assert sorted(int(e.sent_message_id or 0) for e in entries) == list(range(500, 520))
    assert 1 <= len(commits) <= 2  # the first send starts a commit; the rest share the next
