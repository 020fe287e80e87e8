"""The SMS channel's sender: rendered, checked against STOP and the caps, counted, menu kept."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest_asyncio

from bot.sms.gateway import GatewayTransport
from bot.sms.gateway_config import GatewayConfig
from bot.sms.policy import SmsPolicy
from bot.sms.segments import segments
from bot.sms.sender import SmsSender
from scheduler.clock import FakeClock
from scheduler.outbox import Button, FailureReason, Payload
from scheduler.sending import Permanent, RetryLater, RetryReason, Sent
from storage.store import Store
from tests.fakegateway import FakeGateway

MINA = "+821012345678"
NOW = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
REMINDER = Payload.message(
    "8:00 비타민?",
    (
        (Button("챙겼어요", "taken:s1"), Button("나중에", "snooze:s1.60")),
        (Button("오늘은 안 해요", "skip:s1"), Button("몸이 안 좋아요", "symptom:s1")),
    ),
)


@dataclass
class Rig:
    store: Store
    gateway: FakeGateway
    sender: SmsSender
    patient_id: str


@pytest_asyncio.fixture
async def rig(store: Store) -> AsyncIterator[Rig]:
    patient = await store.patients.create(alias="Mina", language="ko", time_zone="Asia/Seoul")
    await store.identities.link(patient.id, "sms", MINA, MINA)
    async with FakeGateway.running() as gateway:
        transport = GatewayTransport.open(
            GatewayConfig(url=gateway.base_url, user=gateway.user, password=gateway.password)
        )
        sender = SmsSender(store, transport, FakeClock(NOW), SmsPolicy(3, 6))
        try:
            yield Rig(store, gateway, sender, patient.id)
        finally:
            await transport.close()


async def test_a_reminder_goes_out_numbered_and_its_menu_is_kept(rig: Rig) -> None:
    assert await rig.sender.send(MINA, REMINDER, message_id="r" * 32) == Sent(None)
    sent = rig.gateway.messages["r" * 32]
    assert sent.text == "8:00 비타민?\n1 챙겼어요\n2 나중에\n3 오늘은 안 해요\n4 몸이 안 좋아요"
    assert segments(sent.text) == 1
    assert await rig.store.sms.menu(MINA) == (
        rig.patient_id,
        {"options": ["taken:s1", "snooze:s1.60", "skip:s1", "symptom:s1"], "ref": "r" * 32},
    )
    assert await rig.store.sms.segments_on(MINA, NOW.date()) == 1


async def test_a_message_without_choices_leaves_the_open_menu_alone(rig: Rig) -> None:
    await rig.sender.send(MINA, REMINDER)
    await rig.sender.send(MINA, Payload.message("잘하셨어요!"))
    menu = await rig.store.sms.menu(MINA)
    assert menu is not None and menu[1]["options"][0] == "taken:s1"


async def test_the_menu_expires_with_the_message(rig: Rig) -> None:
    until = NOW + timedelta(hours=1)
    await rig.sender.send(MINA, REMINDER, valid_until=until)
    rows = await rig.store.sms.menu(MINA)
    assert rows is not None
    sent = rig.gateway.messages[rows[1]["ref"]]
    assert sent.valid_until is not None and datetime.fromisoformat(sent.valid_until) == until


async def test_a_stopped_number_gets_nothing_but_essentials(rig: Rig) -> None:
    await rig.store.sms.stop(MINA)
    assert await rig.sender.send(MINA, REMINDER) == Permanent(FailureReason.OPTED_OUT)
    assert rig.gateway.messages == {}
    assert not FailureReason.OPTED_OUT.unreachable
    confirmation = Payload.message("OK, no more messages.")
    assert await rig.sender.send(MINA, confirmation, essential=True) == Sent(None)
    assert len(rig.gateway.messages) == 1


async def test_long_content_is_held_to_the_per_message_cap(rig: Rig) -> None:
    long_text = "오늘의 진행 상황입니다. " * 40
    assert await rig.sender.send(MINA, Payload.message(long_text)) == Sent(None)
    (sent,) = rig.gateway.messages.values()
    assert segments(sent.text) <= 3 and sent.text.endswith("...")


async def test_the_daily_cap_holds_back_what_would_exceed_it(rig: Rig) -> None:
    text = "가" * 130  # two UCS-2 segments
    for _ in range(3):
        assert await rig.sender.send(MINA, Payload.message(text)) == Sent(None)
    assert await rig.sender.send(MINA, Payload.message(text)) == Permanent(FailureReason.OVER_CAP)
    assert not FailureReason.OVER_CAP.unreachable
    assert await rig.store.sms.segments_on(MINA, NOW.date()) == 6
    assert await rig.store.sms.segments_in_month(MINA, 2026, 12) == 6
    assert len(rig.gateway.messages) == 3
    assert await rig.sender.send(MINA, Payload.message("STOP ok"), essential=True) == Sent(None)


async def test_sms_cannot_edit_or_delete_and_says_so(rig: Rig) -> None:
    assert await rig.sender.send(MINA, Payload.edit(5, "x")) == Permanent(FailureReason.BAD_REQUEST)
    assert await rig.sender.send(MINA, Payload.delete(5)) == Permanent(FailureReason.BAD_REQUEST)
    assert await rig.sender.send("not a number", REMINDER) == Permanent(
        FailureReason.CHAT_NOT_FOUND
    )
    assert rig.gateway.messages == {}


async def test_a_resend_under_the_same_id_is_not_sent_twice(rig: Rig) -> None:
    assert await rig.sender.send(MINA, REMINDER, message_id="q" * 32) == Sent(None)
    assert await rig.sender.send(MINA, REMINDER, message_id="q" * 32) == Sent(None)
    assert len(rig.gateway.messages) == 1


async def test_an_unreachable_gateway_counts_nothing_and_keeps_no_menu(rig: Rig) -> None:
    async with rig.gateway.down():
        assert await rig.sender.send(MINA, REMINDER) == RetryLater(RetryReason.NETWORK)
    assert await rig.store.sms.menu(MINA) is None
    assert await rig.store.sms.segments_on(MINA, date(2026, 12, 1)) == 0
