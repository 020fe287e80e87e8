"""The retention rule through the real dialogue, store and runtime, on SQLite and PostgreSQL:
a silent patient is told the day, then forgotten with a last word; "Keep my data" keeps it;
a finished treatment counts from its last dose; /privacy states the rule in force. Time moves
on the injected clock only."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.dialogue.enrolment import count_earlier_doses
from bot.flows.retention import BotRetentionTexts, privacy_paragraph
from bot.i18n import translator
from scheduler.clock import SystemClock
from scheduler.forgetting import ChatCleaner
from scheduler.outbox import Payload
from scheduler.retention import Retention, RetentionPolicy, start_of
from storage.errors import NotFound
from storage.models import CodeAttemptRow
from storage.records import Consent, OutboxEntry, Patient
from tests.bot.test_discreet import forbidden_in
from tests.bot.test_helpers import invite
from tests.bot.world import START, World, onboard
from tests.helper_links import link_helper
from treatment.backfill import Earlier, EarlierDoses
from treatment.enrolment import enrol

pytestmark = pytest.mark.asyncio

DAY = timedelta(days=1)
POLICY = RetentionPolicy()


async def notices(world: World, patient_id: str) -> list[OutboxEntry]:
    return [
        e
        for e in await world.outbox(patient_id)
        if e.recipient == "patient" and "I will erase everything" in e.payload.get("text", "")
    ]


async def test_a_silent_patient_is_told_the_day_then_erased_and_told_so(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)  # day 0: she wrote
    await link_helper(world.store, patient_id, "8001")
    rule = world.runtime.retention
    world.clock.advance(165 * DAY)
    await rule.run_once()
    assert await notices(world, patient_id) == []
    world.clock.advance(DAY)  # 180 days of silence, less the 14 days' notice
    await rule.run_once()
    (notice,) = await notices(world, patient_id)
    assert "From Aug 29, 2026" in notice.payload["text"]  # START + 180 days, in Seoul
    assert [label for row in notice.payload["buttons"] for label, _ in row] == ["Keep my data"]
    world.clock.advance(13 * DAY)
    await rule.run_once()
    assert (await world.store.patients.get(patient_id)).id == patient_id
    assert len(await notices(world, patient_id)) == 1  # told once
    world.clock.advance(DAY)
    await rule.run_once()
    with pytest.raises(NotFound):
        await world.store.patients.get(patient_id)
    assert await world.store.helpers.find_by_address("telegram", "8001") == []
    (last,) = await world.store.cleanups.claim_due(
        world.clock.now(), channels=["telegram"], limit=10, lease=DAY
    )
    assert last.address == "7001" and "I have erased everything" in last.payload["text"]


async def test_keep_my_data_on_the_notice_keeps_it(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    rule = world.runtime.retention
    world.clock.advance(166 * DAY)
    await rule.run_once()
    (notice,) = await notices(world, patient_id)
    (((_, keep),),) = notice.payload["buttons"]
    await mina.press(keep)
    assert "I keep your data" in mina.text() and "365 days" in mina.text()
    world.clock.advance(14 * DAY)
    await rule.run_once()
    assert (await world.store.patients.get(patient_id)).id == patient_id
    state = await world.store.retention.get(patient_id)
    assert state.notice_on is None and state.kept_on == (START + 166 * DAY).date()
    world.clock.advance(151 * DAY)  # 166 days after the keep: the next notice, not before
    await rule.run_once()
    assert len(await notices(world, patient_id)) == 1
    world.clock.advance(DAY)
    await rule.run_once()
    assert len(await notices(world, patient_id)) == 2


async def test_a_patient_who_writes_is_not_silent(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    for _ in range(4):
        world.clock.advance(100 * DAY)
        await mina.say("/progress")
        await world.runtime.retention.run_once()
    assert await notices(world, patient_id) == []
    assert (await world.store.patients.get(patient_id)).seen_on == world.clock.now().date()


async def test_a_finished_treatment_counts_from_its_last_dose(world: World) -> None:
    """Set up 200 days after starting a 6-month regimen, every dose taken: it is over. With
    30 days after the end, she is told at once, and keeps the full 14 days' notice."""
    store, now = world.store, world.clock.now()
    patient = await store.patients.create(alias="Mina", language="en", time_zone="Asia/Seoul")
    await store.identities.link(patient.id, "telegram", "7001")
    plan = enrol(
        regimen="2HRZE/4HR",
        start=now.date() - 200 * DAY,
        times=["08:00"],
        zone="Asia/Seoul",
        today=now.date(),
        weight_kg=52,
    )
    record = await store.enrolments.add(patient.id, plan)
    async with store.transaction() as tx:
        await count_earlier_doses(tx, patient.id, record.id, plan, now, EarlierDoses(Earlier.ALL))
    policy = RetentionPolicy(after_treatment=30 * DAY, after_silence=None)
    rule = Retention(store, world.runtime.channels, world.clock, BotRetentionTexts(), policy)
    await rule.run_once()
    (notice,) = await notices(world, patient.id)
    assert "From Mar 16, 2026" in notice.payload["text"]
    state = await store.retention.get(patient.id)
    assert state.erase_on == now.date() + 14 * DAY
    erase_at = start_of(now.date() + 14 * DAY)
    assert (await store.retention.next_due()) == erase_at
    world.clock.advance(erase_at - now)
    await rule.run_once()
    with pytest.raises(NotFound):
        await store.patients.get(patient.id)


async def test_privacy_states_the_rule_in_force(world: World) -> None:
    mina = world.person("7001")
    await onboard(mina)
    await mina.say("/privacy")
    text = mina.text()
    assert "365 days after your treatment ends" in text and "180 days without" in text
    assert "14 days before" in text and '"Keep my data"' in text
    t = translator("en")
    only_end = privacy_paragraph(t, RetentionPolicy(after_silence=None, notice=DAY * 1))
    assert "180" not in only_end and "1 day before" in only_end
    off = RetentionPolicy(after_treatment=None, after_silence=None)
    assert privacy_paragraph(t, off) == "How long it is kept: until you send /forget."
    for language in ("ko", "zh_Hans"):
        said = privacy_paragraph(translator(language), RetentionPolicy())
        assert "365" in said and "180" in said and "14" in said and "How long" not in said


async def test_an_account_that_tried_codes_leaves_no_trace_after_the_hour(world: World) -> None:
    """A stranger guesses codes; a helper opens a valid one; the patient forgets: the tries
    of the helper go at once, the patient's with her, the stranger's at the engine's sweep."""

    async def tries() -> int:
        async with world.store.engine.connect() as connection:
            counted = await connection.scalar(select(func.count()).select_from(CodeAttemptRow))
            return int(counted or 0)

    mina = world.person("7001")
    patient_id = await onboard(mina)
    await mina.say("/join 0000-0000-0000-0000-0000-0000-0000")  # she tried one herself
    stranger, helper = world.person("8666"), world.person("8001")
    for n in range(3):
        await stranger.say(f"/join 0000-0000-0000-0000-0000-0000-000{n}")
    helper_code = await invite(mina, "Jisoo")
    await helper.say("/join 0000-0000-0000-0000-0000-0000-0009")
    await helper.say(f"/join {helper_code}")
    assert "treatment helper" in helper.text()
    assert await tries() == 4  # Mina's one and the stranger's three
    await mina.say("/forget")
    await mina.choose("Yes, erase")
    await mina.choose("Erase everything now")
    assert await tries() == 3
    world.clock.advance(timedelta(hours=1, minutes=1))
    await world.engine.sweep()
    assert await tries() == 0
    with pytest.raises(NotFound):
        await world.store.patients.get(patient_id)


@pytest.mark.parametrize("language", ["en", "ko", "zh_Hans"])
async def test_the_notice_and_the_last_word_carry_no_health_word(language: str) -> None:
    """They go out in discreet mode and by SMS too (the words of `test_discreet`)."""
    patient = Patient(
        id="p",
        alias="Mina",
        language=language,
        time_zone="Asia/Shanghai",
        discreet=True,
        consent=Consent(),
        created_at=START,
    )
    texts = BotRetentionTexts()
    notice = texts.notice(patient, start_of(date(2026, 8, 29)))
    said = [notice.text, texts.erased(patient).text]
    said += [label for row in notice.buttons for label in (row[0].label,)]
    for text in said:
        assert forbidden_in(text, language) == [], text
    assert "29" in notice.text and ("Aug" in notice.text or "8" in notice.text)


async def test_the_rule_and_the_cleaner_stop_at_once_when_asked(world: World) -> None:
    """`tbbot run` gives its parts 8 s to stop; the rule sleeps an hour between runs."""
    stop = asyncio.Event()
    real = SystemClock()
    rule = Retention(world.store, world.runtime.channels, real, BotRetentionTexts(), POLICY)
    cleaner = ChatCleaner(world.store, {}, real)
    parts = asyncio.gather(rule.run_forever(stop), cleaner.run_forever(stop))
    await asyncio.sleep(0.2)  # both are in their wait now (real time: nothing to wait for)
    stop.set()
    await asyncio.wait_for(parts, timeout=2)


class CountedTexts(BotRetentionTexts):
    """The bot's words, counting the notices composed: one per look that decided to tell."""

    def __init__(self) -> None:
        self.told: list[str] = []

    def notice(self, patient: Patient, erase_at: datetime) -> Payload:
        self.told.append(patient.id)
        return super().notice(patient, erase_at)


async def test_several_workers_running_the_rule_look_at_each_patient_once(world: World) -> None:
    """Every `tbbot run` runs the rule; each worker claims its own batch of patients."""
    ids = [await onboard(world.person(str(7001 + n))) for n in range(5)]
    world.clock.advance(166 * DAY)
    texts = [CountedTexts() for _ in range(3)]
    rules = [
        Retention(world.store, world.runtime.channels, world.clock, said, POLICY, batch_size=2)
        for said in texts
    ]
    await asyncio.gather(*(rule.run_once() for rule in rules))
    told = [patient_id for said in texts for patient_id in said.told]
    assert sorted(told) == sorted(ids)  # each patient told by one worker, once
    assert sum(bool(said.told) for said in texts) >= 2  # the work was shared
    for patient_id in ids:
        assert len(await notices(world, patient_id)) == 1


async def test_a_look_that_fails_leaves_that_patient_for_tomorrow_and_the_rest_go_on(
    world: World,
) -> None:
    ids = [await onboard(world.person(str(7001 + n))) for n in range(3)]
    world.clock.advance(166 * DAY)

    class Failing(CountedTexts):
        def notice(self, patient: Patient, erase_at: datetime) -> Payload:
            if patient.id == ids[0]:
                raise RuntimeError("a composer bug")
            return super().notice(patient, erase_at)

    texts = Failing()
    rule = Retention(world.store, world.runtime.channels, world.clock, texts, POLICY)
    assert await rule.run_once() == 3
    assert sorted(texts.told) == sorted(ids[1:])
    assert await notices(world, ids[0]) == []
    assert await rule.run_once() == 0  # not again today: its claim holds until tomorrow
    world.clock.advance(DAY)
    await world.runtime.retention.run_once()
    assert len(await notices(world, ids[0])) == 1
