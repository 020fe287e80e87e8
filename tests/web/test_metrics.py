"""GET /metrics on the shared web server: what the engine, the outbox and the dispatcher did,
in Prometheus's text format, and nothing that names a patient, a chat or a text.

A real store (SQLite file and PostgreSQL), the real dispatcher and Telegram sender against the
fake Bot API, the real aiohttp server on 127.0.0.1, a fake clock.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bot.telegram.channel import TELEGRAM
from bot.telegram.sender import TelegramSender, build_bot
from bot.web.metrics import METRICS_PATH, metrics_routes
from bot.web.server import WebServer
from scheduler.clock import FakeClock
from scheduler.dispatcher import Backoff, Dispatcher, DispatcherConfig
from scheduler.metrics import MeteredOutbox, MeteredSender
from scheduler.ratelimit import Limits
from scheduler.sending import Lane
from scheduler.sql_outbox import SqlOutbox
from storage.store import Store
from tests.fakebotapi import FakeBotApi, Fault
from tests.fakebotapi import fake_bot_api as fake_bot_api
from tests.scheduler.conftest import TEST_TIMEOUTS
from tests.scheduler.engine_support import enrol_patient, make_engine, plan

START = date(2026, 12, 1)
T0 = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
FIRST_DUE = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
ALLOWED_LABELS = {"kind", "channel", "reason", "le"}


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(server: WebServer) -> tuple[str, Samples]:
    url = f"http://127.0.0.1:{server.port}{METRICS_PATH}"
    async with aiohttp.ClientSession() as client, client.get(url) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        body = await response.text()
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }
    return body, samples


async def test_metrics_count_reminders_sends_failures_and_the_backlog_without_naming_anyone(
    store: Store, fake_bot_api: FakeBotApi
) -> None:
    clock = FakeClock(T0)
    fake_bot_api.clock = clock.monotonic
    engine = make_engine(store, clock)
    people = [
        await enrol_patient(
            store,
            engine,
            T0,
            alias=alias,
            zone="Asia/Shanghai",
            times=["08:00"],
            start=START,
            chat_id=chat,
        )
        for alias, chat in (("Mina", 4101), ("Wei", 4102), ("Ana", 4103))
    ]
    # One enrolment stored without planning (as after an import): the horizon job plans it.
    later = await store.patients.create(alias="Jo", language="en", time_zone="Europe/Berlin")
    await store.enrolments.add(later.id, plan("Europe/Berlin", ["20:00"], START))
    assert await engine.extend_horizon() == 1
    server = WebServer()
    server.add_routes(metrics_routes(engine.metrics, store, clock.now))
    await server.start("127.0.0.1", 0)
    try:
        clock.advance(FIRST_DUE - clock.now())
        assert (await engine.tick()).reminded == 3
        clock.advance(timedelta(seconds=90))
        _, before = await scrape(server)
        assert before[("tbbot_reminders_queued_total", ())] == 3
        assert before[("tbbot_outbox_depth", ())] == 3
        assert before[("tbbot_outbox_oldest_age_seconds", ())] == 90

        fake_bot_api.add_fault(Fault.too_many_requests(2), method="sendMessage", chat_id=4102)
        fake_bot_api.add_fault(Fault.server_error(502), method="sendMessage", chat_id=4103)
        bot = build_bot(fake_bot_api.token, base_url=fake_bot_api.base_url, timeouts=TEST_TIMEOUTS)
        async with bot:
            outbox = SqlOutbox(store, "dispatcher")
            telegram = replace(TELEGRAM, limits=Limits(global_rate=None))
            dispatcher = Dispatcher(
                MeteredOutbox(outbox, engine.metrics),
                [Lane(telegram, MeteredSender(TelegramSender(bot), engine.metrics, "telegram"))],
                clock,
                on_unreachable=outbox.record_unreachable,
                config=DispatcherConfig(backoff=Backoff(base=2.0, cap=2.0, jitter=0.0)),
                random=lambda: 0.0,
            )
            for _ in range(10):
                await dispatcher.run_once()
                if not await outbox.next_due(clock.now() + timedelta(hours=1)):
                    break
                clock.advance(timedelta(seconds=5))
        body, after = await scrape(server)
    finally:
        await server.stop()

    assert after[("tbbot_messages_sent_total", (("kind", "reminder"),))] == 3
    assert after[("tbbot_messages_sent_total", (("kind", "nudge"),))] == 0  # there from the start
    # Replies kept for deletion never go through the outbox: no series that always reads 0.
    sent_kinds = {
        dict(labels)["kind"] for name, labels in after if name == "tbbot_messages_sent_total"
    }
    assert "reply" not in sent_kinds and "reminder" in sent_kinds
    assert after[("tbbot_flood_waits_total", (("channel", "telegram"),))] == 1
    failures = (("channel", "telegram"), ("reason", "server_error"))
    assert after[("tbbot_send_failures_total", failures)] == 1
    # Mina's went out 90 s after it was due; the others after a pause and a retry.
    assert after[("tbbot_reminder_lateness_seconds_count", ())] == 3
    assert after[("tbbot_reminder_lateness_seconds_bucket", (("le", "120.0"),))] == 3
    assert after[("tbbot_reminder_lateness_seconds_bucket", (("le", "60.0"),))] == 0
    assert after[("tbbot_outbox_depth", ())] == 0
    assert after[("tbbot_outbox_oldest_age_seconds", ())] == 0
    assert after[("tbbot_planning_seconds_count", ())] == 1
    assert after[("tbbot_patients_planned_total", ())] == 1
    # Nothing that names anyone: no ids, chats, aliases or texts; only the fixed labels.
    for person in people:
        assert person.patient.id not in body and str(person.chat_id) not in body
        assert person.patient.alias not in body
    assert "reminder 2026" not in body  # the composer's text
    for (_, labels), _ in after.items():
        assert {name for name, _ in labels} <= ALLOWED_LABELS
