"""Visits and tests in the conversation: noted, listed, cancelled, and reminded the day before and
on the morning through the engine and the injected clock, across a change of clocks."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.dialogue.choices import parse_payload
from bot.dialogue.messages import Inbound, Kind, Reply
from bot.dialogue.service import Dialogue
from storage.records import OutboxEntry
from tests.bot.world import Person, World, onboard
from tests.conftest import TestDatabase
from tests.helper_links import link_helper
from tests.storage.scan import hits, raw_bytes
from treatment.enrolment import enrol

pytestmark = pytest.mark.asyncio


async def in_berlin(world: World, mina: Person, *, discreet: bool = True) -> str:
    patient_id = await onboard(mina)
    patient = await world.store.patients.get(patient_id)
    await world.store.patients.update(
        replace(patient, time_zone="Europe/Berlin", discreet=discreet)
    )
    return patient_id


def said(person: Person) -> str:
    """The last replies, with Babel's narrow no-break space before AM/PM as a space."""
    return person.text().replace("\u202f", " ")


async def visit_notes(world: World, patient_id: str) -> list[OutboxEntry]:
    return [e for e in await world.outbox(patient_id) if e.dedupe_key.startswith("visit:")]


async def note_visit(mina: Person, kind: str, when: str) -> None:
    await mina.say("/visits")
    await mina.choose("Add a visit or test")
    await mina.choose(kind)
    await mina.say(when)


async def travel_to(world: World, instant: datetime) -> None:
    await world.travel(instant - world.clock.now())


async def test_visit_reminders_come_the_day_before_and_on_the_morning_across_the_dst_change(
    world: World,
) -> None:
    mina = world.person("7001")
    patient_id = await in_berlin(world, mina)
    await travel_to(world, datetime(2026, 3, 20, 9, 0, tzinfo=UTC))
    # Clocks go forward in Berlin at 01:00 UTC on Sunday 29 March 2026.
    await note_visit(mina, "Sputum test", "3/29 9:30")
    assert "Sputum test, Mar 29, 9:30 AM" in said(mina)
    await mina.choose("Yes, save it")
    assert "Saved: Sputum test, Mar 29, 9:30 AM" in said(mina)

    # The day before at 18:00 CET (17:00 UTC), not a minute earlier.
    await travel_to(world, datetime(2026, 3, 28, 16, 59, tzinfo=UTC))
    assert await visit_notes(world, patient_id) == []
    await travel_to(world, datetime(2026, 3, 28, 17, 0, tzinfo=UTC))
    notes = await visit_notes(world, patient_id)
    assert [n.payload["text"] for n in notes] == [
        "Reminder: tomorrow at 9:30\u202fAM you have an appointment."
    ]
    assert notes[0].not_before == datetime(2026, 3, 28, 17, 0, tzinfo=UTC)
    # The morning at 07:00 CEST, which is 05:00 UTC after the change (06:00 before it).
    await travel_to(world, datetime(2026, 3, 29, 4, 59, tzinfo=UTC))
    assert len(await visit_notes(world, patient_id)) == 1
    await travel_to(world, datetime(2026, 3, 29, 5, 0, tzinfo=UTC))
    notes = await visit_notes(world, patient_id)
    assert notes[-1].payload["text"] == "Reminder: today at 9:30\u202fAM you have an appointment."
    assert notes[-1].expires_at == datetime(2026, 3, 29, 7, 30, tzinfo=UTC)
    # Nothing more: two reminders, once each.
    await world.travel(timedelta(days=2))
    assert len(await visit_notes(world, patient_id)) == 2


async def test_without_discreet_mode_the_reminder_names_the_test_but_sms_stays_discreet(
    world: World,
) -> None:
    mina = world.person("7001")
    patient_id = await in_berlin(world, mina, discreet=False)
    await note_visit(mina, "ECG", "tomorrow 10:00")
    await mina.choose("Yes, save it")
    await world.travel(timedelta(days=1, hours=8))
    notes = await visit_notes(world, patient_id)
    assert [n.payload["text"] for n in notes] == [
        "Reminder: tomorrow at 10:00\u202fAM: ECG (heart check).",
        "Reminder: today at 10:00\u202fAM: ECG (heart check).",
    ]
    assert notes[1].payload["brief"]["text"] == (
        "Reminder: today at 10:00\u202fAM you have an appointment."
    )


async def test_past_and_far_days_get_a_question_back_and_nothing_is_saved(world: World) -> None:
    mina = world.person("7001")
    patient_id = await in_berlin(world, mina)
    await note_visit(mina, "Blood test", "2026-02-20 10:00")
    assert "That day has passed" in said(mina)
    await mina.say("2028-01-05 10:00")
    assert "more than a year away" in said(mina)
    await mina.say("next thursday-ish")
    assert "could not read that day" in said(mina)
    await mina.say("today 00:01")
    assert "That time has passed" in said(mina)
    await mina.choose("Cancel")
    assert await world.store.appointments.for_patient(patient_id) == []


async def test_a_visit_typed_in_korean_and_chinese_is_read(world: World) -> None:
    mina = world.person("7001")
    patient_id = await in_berlin(world, mina)
    for typed in ("3월 12일 오후 3시", "3月13日下午3点"):
        await note_visit(mina, "Clinic visit", typed)
        await mina.choose("Yes, save it")
    stored = await world.store.appointments.for_patient(patient_id)
    assert sorted(a.details["local"] for a in stored) == [
        "2026-03-12T15:00:00",
        "2026-03-13T15:00:00",
    ]


async def test_visits_are_listed_and_a_cancelled_one_sends_no_reminder(world: World) -> None:
    mina = world.person("7001")
    patient_id = await in_berlin(world, mina)
    await note_visit(mina, "Clinic visit", "3/10 11:00")
    await mina.choose("Yes, save it")
    await note_visit(mina, "Blood test", "3/5 08:30")
    await mina.choose("Yes, save it")
    await mina.say("/visits")
    await mina.choose("My visits and tests")
    listed = said(mina)
    assert listed.index("Blood test, Mar 5") < listed.index("Clinic visit, Mar 10")
    await mina.choose("Cancel: Blood test")
    assert "Cancelled: Blood test, Mar 5" in said(mina)
    await world.travel(timedelta(days=10))
    notes = await visit_notes(world, patient_id)
    assert len(notes) == 2 and all("11:00" in n.payload["text"] for n in notes)
    await mina.say("/visits")
    await mina.choose("My visits and tests")
    assert "No visits or tests noted" in said(mina)


async def test_the_usual_tests_are_suggested_as_ask_your_clinician(world: World) -> None:
    mina = world.person("7001")
    patient_id = await in_berlin(world, mina)
    await mina.say("/visits")
    await mina.choose("What to ask my clinician about")
    shown = said(mina)
    assert "end of month 2, and at months 5 and 6" in shown
    assert "Ask your clinician when" in shown
    assert "ECG" not in shown
    assert await world.store.appointments.for_patient(patient_id) == []  # never booked


async def test_what_a_visit_is_never_lands_in_the_database_readable(
    world: World, database: TestDatabase
) -> None:
    mina = world.person("7001")
    await in_berlin(world, mina, discreet=False)
    await note_visit(mina, "Sputum test", "3/29 9:30")
    await mina.choose("Yes, save it")
    raw = raw_bytes(database)
    assert hits(raw, ["sputum", "2026-03-29T09:30"]) == []


async def test_set_up_offers_the_usual_tests_once_where_the_regimen_has_some(
    world: World,
) -> None:
    mina = world.person("7001")
    await onboard(mina)
    assert "/visits shows what to ask about" in said(mina)
    await mina.say("/progress")
    assert "/visits shows" not in said(mina)
    jun = world.person("7002")
    await onboard(jun, regimen="Preventive treatment, every day for 4 months")
    assert "/visits" not in said(jun)


async def test_an_allowed_helper_notes_a_visit_and_the_patient_is_told(world: World) -> None:
    mina = world.person("7001")
    patient_id = await in_berlin(world, mina)
    allowed = await link_helper(world.store, patient_id, "9001", visits=True)
    jisoo = world.person("9001")
    await jisoo.say("/visitfor Mina sputum 3/10 10:30")
    assert "Noted: Sputum test, Mar 10, 10:30 AM" in said(jisoo)
    (stored,) = await world.store.appointments.for_patient(patient_id)
    assert stored.details["local"] == "2026-03-10T10:30:00"
    told = [e for e in await world.outbox(patient_id) if e.dedupe_key.startswith("notice:visitfor")]
    # Mina uses discreet mode: who and when, not what.
    assert [e.payload["text"].replace("\u202f", " ") for e in told] == [
        f"{allowed.alias} noted an appointment for you: Mar 10, 10:30 AM. /visits lists it."
    ]
    await jisoo.say("/visitfor Mina sputum whenever")
    assert "send for example: /visitfor Mina sputum 12/3 10:30" in said(jisoo)
    await jisoo.say("/visitfor Mina sputum 2026-02-01 10:00")
    assert len(await world.store.appointments.for_patient(patient_id)) == 1
    await world.travel(timedelta(days=9))
    assert len(await visit_notes(world, patient_id)) == 2


async def test_a_helper_without_permission_or_with_a_bad_line_notes_nothing(
    world: World,
) -> None:
    mina = world.person("7001")
    patient_id = await in_berlin(world, mina)
    await link_helper(world.store, patient_id, "9001")
    jisoo = world.person("9001")
    await jisoo.say("/visitfor Mina sputum 3/10 10:30")
    assert "has not allowed you" in said(jisoo)
    stranger = world.person("9002")
    await stranger.say("/visitfor Mina sputum 3/10 10:30")
    assert "You are not helping anyone yet" in said(stranger)
    assert await world.store.appointments.for_patient(patient_id) == []


async def test_on_sms_the_visits_flow_names_no_sputum_and_no_tb(world: World) -> None:
    number = "+821012345678"
    patient = await world.store.patients.create(alias="Mina", language="en", time_zone="Asia/Seoul")
    await world.store.identities.link(patient.id, "sms", number, number)
    await world.store.enrolments.add(
        patient.id,
        enrol(
            regimen="2HRZE/4HR",
            start=date(2026, 3, 2),
            times=["20:00"],
            zone="Asia/Seoul",
            today=date(2026, 3, 2),
            weight_kg=52,
        ),
    )
    refs = iter(range(100))

    async def say(text: str) -> list[Reply]:
        event = Inbound.from_text("sms", number, number, text, update_ref=f"s{next(refs)}")
        return await world.dialogue.handle(event)

    async def press(replies: list[Reply], part: str) -> list[Reply]:
        choice = next(c for r in replies for c in r.all_choices() if part in c.label)
        pick = parse_payload(choice.payload, Dialogue.verbs)
        event = Inbound("sms", number, number, Kind.PICK, pick=pick, update_ref=f"s{next(refs)}")
        return await world.dialogue.handle(event)

    menu = await say("/visits")
    shown = "\n".join(r.text for r in await press(menu, "What to ask"))
    assert "Ask your clinician which ones and when" in shown
    assert "Sputum" not in shown and "month 2" not in shown
    kinds = await press(await say("/visits"), "Add a visit")
    labels = [c.label for r in kinds for c in r.all_choices()]
    assert "Sample test" in labels and "Sputum test" not in labels
    await press(kinds, "Sample test")
    confirm = await say("3/10 10:30")
    assert "Sample test, Mar 10" in confirm[0].text.replace("\u202f", " ")
