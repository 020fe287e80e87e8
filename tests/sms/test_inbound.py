"""A text someone sent, as the dialogue hears it, or as the SMS channel answers it itself."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.dialogue.choices import OPT, Picked
from bot.dialogue.messages import Inbound, Kind, Reply
from bot.sms.inbound import SmsInbound
from bot.sms.transport import InboundSms
from scheduler.clock import FakeClock
from storage.store import Store

MINA = "+821012345678"  # a patient, Korean
LI = "+8613800138000"  # a stranger, a Chinese number
VERBS = frozenset({OPT, "taken", "snooze", "skip", "symptom"})
REMINDER_MENU = {"options": ["taken:s1", "snooze:s1.60", "skip:s1", "symptom:s1"], "ref": "m7"}


@dataclass
class Out:
    notices: list[tuple[str, str, bool]] = field(default_factory=list)
    sent: list[tuple[Inbound, list[Reply]]] = field(default_factory=list)

    async def replies(self, event: Inbound, replies: Sequence[Reply]) -> None:
        self.sent.append((event, list(replies)))

    async def notice(self, number: str, text: str, *, essential: bool = False) -> None:
        self.notices.append((number, text, essential))


@dataclass
class Rig:
    store: Store
    inbound: SmsInbound
    out: Out
    heard: list[Inbound]
    patient_id: str
    clock: FakeClock
    refs: list[int] = field(default_factory=lambda: [0])

    async def text(self, sender: str, body: str) -> None:
        self.refs[0] += 1
        await self.inbound.received(
            InboundSms(sender, body, self.clock.now(), f"ref-{self.refs[0]}")
        )


@pytest_asyncio.fixture
async def rig(store: Store) -> AsyncIterator[Rig]:
    clock = FakeClock(datetime(2026, 12, 1, 0, 0, tzinfo=UTC))
    heard: list[Inbound] = []

    async def handle(event: Inbound) -> list[Reply]:
        heard.append(event)
        return [Reply("ok")]

    patient = await store.patients.create(alias="Mina", language="ko", time_zone="Asia/Seoul")
    await store.identities.link(patient.id, "sms", MINA, MINA)
    out = Out()
    yield Rig(store, SmsInbound(store, handle, VERBS, out, clock), out, heard, patient.id, clock)


async def open_menu(rig: Rig, number: str = MINA, menu: dict | None = None) -> None:
    await rig.store.sms.save_menu(
        number,
        rig.patient_id,
        menu or REMINDER_MENU,
        rig.store.context.clock() + timedelta(hours=2),
    )


async def test_a_number_answers_the_last_menu(rig: Rig) -> None:
    await open_menu(rig)
    await rig.text(MINA, "１ 감사합니다")
    (event,) = rig.heard
    assert (event.kind, event.pick, event.message_ref) == (Kind.PICK, Picked("taken", "s1"), "m7")
    assert (event.channel, event.user, event.update_ref) == ("sms", MINA, "ref-1")


async def test_words_answer_the_option_that_means_them(rig: Rig) -> None:
    await open_menu(rig)
    for text, pick in [
        ("먹었어요", Picked("taken", "s1")),
        ("later", Picked("snooze", "s1.60")),
        ("不舒服", Picked("symptom", "s1")),
        ("OK", Picked("taken", "s1")),
    ]:
        rig.heard.clear()
        await rig.text(MINA, text)
        assert rig.heard[0].pick == pick, text
    await open_menu(rig, menu={"options": ["opt:yes", "opt:no"], "ref": None})
    rig.heard.clear()
    await rig.text(MINA, "네")
    assert rig.heard[0].pick == Picked(OPT, "yes")


async def test_ok_on_a_reminder_means_taken_but_on_no_menu_it_is_just_text(rig: Rig) -> None:
    await rig.text(MINA, "ok")
    assert rig.heard[0].kind is Kind.TEXT


async def test_a_number_out_of_range_is_re_prompted_never_guessed(rig: Rig) -> None:
    await open_menu(rig)
    await rig.text(MINA, "7")
    assert rig.heard == []
    assert rig.out.notices == [(MINA, "보기 번호(1~4)로 답해 주세요.", False)]


async def test_a_number_with_no_menu_open_answers_nothing(rig: Rig) -> None:
    await rig.text(MINA, "2")
    assert rig.heard == []
    assert "HELP" in rig.out.notices[0][1] or "도움" in rig.out.notices[0][1]


async def test_a_number_reaches_a_question_that_wants_a_typed_answer(rig: Rig) -> None:
    await open_menu(rig, menu={"options": ["opt:skip"], "ref": None})
    await rig.store.conversations.save(
        rig.patient_id,
        {
            "flow": "onboarding",
            "step": "weight",
            "data": {},
            "updated_at": rig.clock.now().isoformat(),
        },
        expected_version=None,
    )
    await rig.text(MINA, "55")
    assert rig.heard[0].kind is Kind.TEXT and rig.heard[0].text == "55"


async def test_an_expired_menu_answers_nothing(rig: Rig) -> None:
    await rig.store.sms.save_menu(
        MINA, rig.patient_id, REMINDER_MENU, rig.store.context.clock() - timedelta(seconds=1)
    )
    await rig.text(MINA, "1")
    assert rig.heard == []


async def test_stop_stops_at_once_is_confirmed_once_and_then_silence(rig: Rig) -> None:
    await open_menu(rig)
    await rig.text(MINA, "중지")
    await rig.text(MINA, "STOP")
    await rig.text(MINA, "1")
    await rig.text(MINA, "help")
    assert await rig.store.sms.stopped(MINA)
    assert await rig.store.sms.menu(MINA) is None
    assert len(rig.out.notices) == 1 and rig.out.notices[0][2] is True
    assert "시작" in rig.out.notices[0][1]
    assert rig.heard == []


async def test_start_lifts_the_stop_and_says_so(rig: Rig) -> None:
    await rig.text(MINA, "stop")
    await rig.text(MINA, "START")
    assert not await rig.store.sms.stopped(MINA)
    assert len(rig.out.notices) == 2 and rig.heard == []


async def test_help_lists_the_keywords_in_the_readers_language(rig: Rig) -> None:
    await rig.text(MINA, "도움말")
    await rig.text(LI, "帮助")
    (mina, li) = rig.out.notices
    assert "중지" in mina[1] and "시작" in mina[1]
    assert "停止" in li[1] and "开始" in li[1]


async def test_a_stranger_is_greeted_once_a_day_and_start_begins_enrolment(rig: Rig) -> None:
    await rig.text(LI, "hello?")
    assert rig.out.notices and "开始" in rig.out.notices[0][1]
    await rig.store.sms.count_sent(LI, rig.clock.now().date(), 1)
    await rig.text(LI, "hello??")
    assert len(rig.out.notices) == 1
    await rig.text(LI, "开始")
    (event,) = rig.heard
    assert (event.kind, event.command, event.language) == (Kind.COMMAND, "start", "zh_Hans")


async def test_a_stopped_stranger_who_texts_start_begins_enrolment(rig: Rig) -> None:
    await rig.text(LI, "退订")
    await rig.text(LI, "START")
    assert rig.heard[0].command == "start"


async def test_forget_reaches_the_dialogues_confirmation(rig: Rig) -> None:
    await rig.text(MINA, "FORGET")
    assert (rig.heard[0].kind, rig.heard[0].command) == (Kind.COMMAND, "forget")


async def test_an_empty_text_is_silence(rig: Rig) -> None:
    await rig.text(MINA, "   ")
    assert rig.heard == [] and rig.out.notices == []


@settings(
    max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(text=st.text(max_size=1200))
async def test_any_text_gives_an_event_a_notice_or_silence_never_an_error(
    rig: Rig, text: str
) -> None:
    before = await rig.store.sms.stopped(MINA)
    rig.heard.clear()
    await rig.text(MINA, text)
    for event in rig.heard:
        assert event.user == MINA and event.chat == MINA
    if not before:
        await rig.store.sms.resume(MINA)


async def test_a_stranger_texting_join_and_a_code_reaches_the_helper_desk(rig: Rig) -> None:
    await rig.text(LI, "JOIN 4F7K Q2AB")
    (event,) = rig.heard
    assert (event.kind, event.command, event.args) == (Kind.COMMAND, "join", "4f7k q2ab")
