"""SMS end to end: the real dialogue, engine, outbox and dispatcher, the real gateway client
over HTTP to the fake phone, and its signed webhooks back to the bot's web server."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import timedelta

import pytest
import pytest_asyncio
from sqlalchemy import text

from bot.i18n import translator
from bot.sms.gateway import GatewayTransport
from bot.sms.gateway_config import GatewayConfig
from bot.sms.policy import SmsPolicy
from bot.sms.segments import segments
from bot.sms.webhooks import WEBHOOK_PATH
from bot.sms.wiring import SmsService, prepare_sms
from bot.telegram.channel import TELEGRAM
from bot.telegram.sender import TelegramSender, build_bot
from bot.web.server import WebServer
from scheduler.clock import FakeClock
from scheduler.ratelimit import Limits
from scheduler.sending import Sender
from storage.keyring import Keyring
from storage.records import DoseOutcome, IncidentState
from storage.store import Store
from tests.bot.world import START, Person, World, make_world
from tests.conftest import TestDatabase
from tests.fakebotapi import FakeBotApi
from tests.fakebotapi import fake_bot_api as fake_bot_api
from tests.fakegateway import FakeGateway

KEY = "the signing key set in the app"
MENU_LINE = re.compile(r"^(\d{1,2}) (.+)$")
# The 20:00 Seoul dose of 2 March 2026 is 11:00 UTC.
DUE = START + timedelta(hours=11)


@dataclass
class Rig:
    world: World
    gateway: FakeGateway
    service: SmsService
    clock: FakeClock
    telegram: FakeBotApi


@dataclass
class Phone:
    """Someone with a phone: texts the bot's number, reads what arrived."""

    rig: Rig
    number: str
    read: int = 0
    seen: list[str] = field(default_factory=list)

    def inbox(self) -> list[str]:
        return [
            m.text for m in self.rig.gateway.messages.values() if m.phone_numbers == [self.number]
        ]

    async def text(self, body: str) -> None:
        self.seen = []
        await self.rig.gateway.receive_sms(self.number, body)
        await self.rig.gateway.idle()
        self._look()

    def _look(self) -> None:
        arrived = self.inbox()
        self.seen.extend(arrived[self.read :])
        self.read = len(arrived)

    def last_menu(self) -> dict[str, str]:
        """The numbered lines of the last menu, which may span several texts."""
        options: dict[str, str] = {}
        for message in reversed(self.inbox()):
            lines = [MENU_LINE.match(line) for line in message.splitlines()]
            found = {m.group(2): m.group(1) for m in lines if m}
            if not found:
                if options:
                    break
                continue
            options = {**found, **options}
            if "1" in found.values():
                break
        return options

    async def choose(self, label_part: str) -> None:
        for label, number in self.last_menu().items():
            if label_part in label:
                await self.text(number)
                return
        raise AssertionError(f"no choice {label_part!r} in {self.last_menu()}")

    def said(self) -> str:
        self._look()
        return "\n".join(self.seen)


@pytest_asyncio.fixture
async def rig(
    database: TestDatabase, keyring: Keyring, fake_bot_api: FakeBotApi
) -> AsyncIterator[Rig]:
    """The program as `tbbot run` joins it, with an SMS phone and a Telegram Bot API."""
    clock = FakeClock(START)
    store = await Store.open(database.url, keyring, clock=clock.now)
    server = WebServer()
    bot = build_bot(fake_bot_api.token, base_url=fake_bot_api.base_url)
    telegram = replace(TELEGRAM, limits=Limits(per_chat_interval=0.0, global_rate=None))
    try:
        async with FakeGateway.running(signing_key=KEY, clock=clock.now) as gateway, bot:
            config = GatewayConfig(
                url=gateway.base_url, user=gateway.user, password=gateway.password, timeout=5
            )
            prepared = prepare_sms(
                store,
                clock,
                [config],
                signing_key=KEY,
                policy=SmsPolicy(max_segments=3, daily_segments=60),
                per_minute=600,
                alarm_after=timedelta(minutes=15),
                region="KR",
            )
            senders: dict[str, Sender] = {
                "sms": prepared.sender,
                TELEGRAM.name: TelegramSender(bot),
            }
            # No pace in virtual time: the dispatcher's deferrals would wait for a clock that
            # only the test moves (the pace itself is the rate limiter's, tested there).
            sms = replace(prepared.spec, limits=Limits(per_chat_interval=0.0, global_rate=None))
            world = make_world(store, clock, senders, [sms, telegram])
            service = prepared.attach(world.runtime)
            server.add_routes(service.routes())
            await server.start("127.0.0.1", 0)
            registrar = GatewayTransport.open(config)
            await registrar.register_webhooks(f"http://127.0.0.1:{server.port}{WEBHOOK_PATH}")
            await registrar.close()
            try:
                yield Rig(world, gateway, service, clock, fake_bot_api)
            finally:
                await prepared.close()
    finally:
        await server.stop()
        await store.close()


async def deliver(rig: Rig) -> None:
    while (await rig.world.runtime.dispatcher.run_once()).claimed:
        pass
    await rig.gateway.idle()


# Each language's patient texts from a number of a country that speaks it, so the privacy
# notice comes first in their language (the language is guessed from the number).
NUMBERS = {"en": "+12025550123", "ko": "+821012345678", "zh_Hans": "+8613800138000"}


async def enrol(phone: Phone, language: str) -> None:
    """Set-up by SMS, as a patient reads it: the labels are the reader's language's own."""
    t = translator(language)
    await phone.text("START")
    await phone.choose(t._("I agree"))
    await phone.text("Mina")
    # The zone the number points to is offered first: Korea's is Seoul's; the others say no
    # and pick Seoul, where the test's dose time is.
    if language == "ko":
        await phone.choose(t._("Yes"))
    else:
        await phone.choose(t._("No, another place"))
        await phone.choose("Seoul")
    await phone.choose(t._("6 months daily (2+4)"))
    await phone.choose(t._("Today"))
    await phone.text("20:00")
    # Questions asked only for some regimens, before the wording: the weight (skip or
    # cancel: type it), and which tablets the patient has (take the first kind offered).
    cover = t._("vitamins")
    for _ in range(3):
        if any(cover == label for label in phone.last_menu()):
            break
        await phone.text("52" if len(phone.last_menu()) == 2 else "1")
    await phone.choose(cover)
    await phone.choose(t._("Start"))


@pytest.mark.parametrize("language", ["en", "ko", "zh_Hans"])
async def test_a_patient_enrols_and_answers_reminders_by_sms(rig: Rig, language: str) -> None:
    mina = Phone(rig, NUMBERS[language])
    await enrol(mina, language)
    identity = await rig.world.store.identities.find("sms", mina.number)
    assert identity is not None
    patient = await rig.world.store.patients.get(identity.patient_id)
    assert patient.language == language and patient.discreet
    assert all(segments(text) <= 3 for text in mina.inbox()), [
        (segments(t), t) for t in mina.inbox() if segments(t) > 3
    ]

    await rig.world.travel(DUE - rig.clock.now())
    before = len(mina.inbox())
    await deliver(rig)
    [reminder] = mina.inbox()[before:]
    assert segments(reminder) == 1, reminder
    assert len(mina.last_menu()) == 4
    answer = {"en": "taken thanks", "ko": "먹었어요", "zh_Hans": "１"}[language]
    await mina.text(answer)
    events = await rig.world.store.doses.events(identity.patient_id)
    assert [e.outcome for e in events] == [DoseOutcome.TAKEN]
    assert mina.seen, "the patient hears that it was recorded"


async def delivery_of_reminders(store: Store) -> list[str | None]:
    """The delivery column of the reminders (whose kind is sealed: read through the store)."""
    async with store.engine.connect() as connection:
        rows = (
            await connection.execute(
                text("SELECT id, patient_id, delivery FROM outbox ORDER BY created_at")
            )
        ).all()
    kinds = {
        entry.id: entry.kind
        for patient_id in {row[1] for row in rows}
        for entry in await store.outbox.for_patient(patient_id)
    }
    return [row[2] for row in rows if kinds[row[0]] == "reminder"]


async def test_delivery_reports_are_reconciled_into_the_outbox(rig: Rig) -> None:
    mina = Phone(rig, NUMBERS["en"])
    await enrol(mina, "en")
    await rig.world.travel(DUE - rig.clock.now())
    await deliver(rig)
    assert await delivery_of_reminders(rig.world.store) == ["delivered"]


async def test_stop_stops_every_message_at_once_and_start_resumes(rig: Rig) -> None:
    mina = Phone(rig, NUMBERS["en"])
    await enrol(mina, "en")
    await mina.text("STOP")
    assert "no more messages" in mina.said()
    await mina.text("stop please")
    assert mina.seen == []  # confirmed once
    await rig.world.travel(DUE - rig.clock.now())
    before = len(mina.inbox())
    await deliver(rig)
    assert len(mina.inbox()) == before  # the reminder was not sent
    await mina.text("1")
    assert mina.seen == []  # a stopped number hears nothing
    await mina.text("START")
    assert "Welcome back" in mina.said()
    await rig.world.travel(timedelta(days=1))
    await deliver(rig)
    assert "vitamins?" in mina.inbox()[-1]


# On SMS the invitation names the word to text, not a Telegram command.
CODE = re.compile(r"(?<!/)JOIN ([0-9A-Z]{4}(?:-[0-9A-Z]{2,4}){6})")


async def link_telegram_helper(
    rig: Rig, mina: Phone, fake_bot_api: FakeBotApi, jisoo: Person
) -> None:
    await mina.text("/helper")
    if "Invite a helper" in mina.last_menu():
        await mina.choose("Invite a helper")
    await mina.text("Jisoo")
    await mina.choose("Mina")
    found = CODE.search(mina.said())
    assert found, mina.said()
    await jisoo.say(found.group(0))  # the line as the patient passed it on
    await jisoo.choose("I accept")
    await deliver(rig)
    await mina.choose("The words match")
    await deliver(rig)


async def test_an_sms_patients_missed_dose_reaches_a_telegram_helper(rig: Rig) -> None:
    api, jisoo = rig.telegram, rig.world.person("8001")
    mina = Phone(rig, NUMBERS["en"])
    await enrol(mina, "en")
    await link_telegram_helper(rig, mina, api, jisoo)
    assert "you are now their helper" in api.delivered_texts(8001)[-1]
    await rig.world.travel(DUE - rig.clock.now())
    await deliver(rig)
    assert "vitamins?" in mina.inbox()[-1]
    await rig.world.travel(timedelta(hours=6, minutes=1))  # unanswered until its window closes
    await deliver(rig)
    assert any("has not answered today's check-in" in t for t in api.delivered_texts(8001))


async def test_helpers_are_not_told_of_a_miss_the_phone_never_delivered(rig: Rig) -> None:
    api, jisoo = rig.telegram, rig.world.person("8001")
    mina = Phone(rig, NUMBERS["en"])
    await enrol(mina, "en")
    await link_telegram_helper(rig, mina, api, jisoo)
    rig.gateway.no_signal = True  # the phone accepts texts but cannot send them
    await rig.world.travel(DUE - rig.clock.now())
    await deliver(rig)
    assert await delivery_of_reminders(rig.world.store) == ["pending"]
    await rig.world.travel(timedelta(hours=6, minutes=1))
    await deliver(rig)
    assert not any("check-in" in t for t in api.delivered_texts(8001))
    await rig.service.watch_once()
    assert rig.service.prepared.watch.problems()[0].startswith("1 text(s) pending on the phone")


async def test_forget_by_sms_erases_the_patient_and_everything_about_the_number(rig: Rig) -> None:
    mina = Phone(rig, NUMBERS["en"])
    await enrol(mina, "en")
    await mina.text("FORGET")
    await mina.choose("Yes, erase")
    await mina.choose("Erase everything now")
    assert "Everything is erased" in mina.said()
    assert await rig.world.store.identities.find("sms", mina.number) is None
    async with rig.world.store.engine.connect() as connection:
        for table in ("patients", "channel_identities", "sms_usage", "sms_menus", "sms_stops"):
            count = await connection.scalar(text(f"SELECT count(*) FROM {table}"))  # noqa: S608
            assert count == 0, table


async def link_sms_helper(rig: Rig, mina: Phone, jisoo: Phone) -> None:
    """The whole linking conversation, both sides on SMS: HELPER, the invitation's line
    texted as it was passed on, "1" to accept, the patient's confirmation by number."""
    await mina.text("HELPER")
    if "Invite a helper" in mina.last_menu():
        await mina.choose("Invite a helper")
    await mina.text("Jisoo")
    await mina.choose("Mina")
    found = CODE.search(mina.said())
    assert found, mina.said()
    await jisoo.text(found.group(0))
    assert "asks you to be their treatment helper" in jisoo.said()
    await jisoo.choose("I accept")
    await deliver(rig)
    await mina.choose("The words match")
    await deliver(rig)
    assert "you are now their helper" in jisoo.said()


async def test_an_sms_patients_missed_dose_reaches_an_sms_helper_who_answers_it(
    rig: Rig,
) -> None:
    mina, jisoo = Phone(rig, NUMBERS["en"]), Phone(rig, "+12025550188")
    await enrol(mina, "en")
    await link_sms_helper(rig, mina, jisoo)
    await rig.world.travel(DUE - rig.clock.now())
    await deliver(rig)
    await rig.world.travel(timedelta(hours=6, minutes=1))  # unanswered until its window closes
    await deliver(rig)
    alert = jisoo.said()
    assert "has not answered today's check-in" in alert, alert
    assert jisoo.last_menu() == {"I'll reach out": "1", "Can't reach them": "2"}
    assert segments(jisoo.inbox()[-1]) <= 3
    await jisoo.text("1")
    assert "Thank you for reaching out to Mina" in jisoo.said()
    identity = await rig.world.store.identities.find("sms", mina.number)
    assert identity is not None
    [incident] = await rig.world.store.incidents.for_patient(identity.patient_id)
    assert incident.state is IncidentState.HANDLED
    [helper] = await rig.world.store.helpers.for_patient(identity.patient_id)
    assert incident.detail["by"] == helper.id


async def test_an_sms_helper_hears_discreet_words_even_for_a_plain_telegram_patient(
    rig: Rig,
) -> None:
    """The patient chose plain wording on Telegram; their helper is on SMS, which the carrier
    reads: the alert and the week still say "check-in", never the illness."""
    from tests.bot.test_discreet import forbidden_in
    from tests.sms.test_invite_by_number import link

    mina = rig.world.person("7001")
    await mina.say("/start")
    await mina.choose("I agree")
    await mina.say("Mina")
    await mina.choose("Seoul")
    await mina.choose("Standard TB treatment, 6 months, every")
    await mina.choose("Today")
    await mina.say("20:00")
    await mina.say("52")
    await mina.choose("Combined tablets")
    await mina.choose("Plain wording")
    await mina.choose("Start")
    patient_id = await rig.world.patient_id("7001")
    assert not (await rig.world.store.patients.get(patient_id)).discreet
    await link(rig.world.store, patient_id, "sms", "+12025550188")
    patient = await rig.world.store.patients.get(patient_id)
    await rig.world.store.patients.update(
        replace(patient, consent=replace(patient.consent, helper_alerts=True))
    )
    jisoo = Phone(rig, "+12025550188")
    await rig.world.travel(DUE - rig.clock.now())
    await deliver(rig)
    assert any("TB" in text for text in rig.telegram.delivered_texts(7001))  # plain, as chosen
    await rig.world.travel(timedelta(hours=6, minutes=1))
    await deliver(rig)
    alert = jisoo.said()
    assert "has not answered today's check-in" in alert, alert
    await jisoo.text("WEEK")
    await jisoo.text("1")
    everything = "\n".join(jisoo.inbox())
    assert "check-in" in everything and forbidden_in(everything, "en") == []
