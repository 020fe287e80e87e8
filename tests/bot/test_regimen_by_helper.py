"""A helper the patient allowed enters a custom regimen; the patient sees it in plain words and
nothing changes before they confirm; the helper hears the answer."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from bot.dialogue.helper_regimen import ACCEPT, REJECT
from storage.records import OutboxEntry
from tests.bot.test_helpers import link
from tests.bot.world import Person, World, onboard
from treatment.drugs import load_drugs


def number(drug_id: str) -> str:
    return str(1 + [d.id for d in load_drugs().pickable()].index(drug_id))


async def notices(world: World, patient_id: str, recipient: str) -> list[OutboxEntry]:
    return [
        e
        for e in await world.outbox(patient_id)
        if e.recipient == recipient and "regimenfor" in e.dedupe_key
    ]


async def enter_lfx(ana: Person) -> None:
    await ana.say("/regimenfor Mina")
    assert "must confirm it before anything changes" in ana.text()
    await ana.choose("Yes, I will pick them")
    await ana.say(number("Lfx"))
    await ana.say("3")
    await ana.choose("5 days a week")
    await ana.say("20 weeks")
    assert "levofloxacin: 3 tablets each time" in ana.text()
    await ana.choose("Yes, that is right")
    assert "Nothing changes until they confirm" in ana.text()


async def test_an_allowed_helper_enters_a_regimen_the_patient_confirms(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    ana = world.person("8001")
    helper_id = await link(world, mina, ana, "Ana")

    await ana.say("/regimenfor Mina")
    assert "has not allowed you to enter their treatment" in ana.text()
    await mina.say("/helper")
    await mina.choose("Ana")
    assert mina.offered("⬜ May enter my regimen")  # off by default
    await mina.choose("May enter my regimen")
    assert mina.offered("✅ May enter my regimen")

    await enter_lfx(ana)
    assert (await world.store.enrolments.active(patient_id))[-1].enrolment.switches == ()
    (asked,) = await notices(world, patient_id, "patient")
    # Mina is discreet: the plan in plain words, without a medicine's name or TB.
    text = asked.payload["text"]
    assert "Ana entered a new plan for you:" in text
    assert "Part 1: 5 days a week, monday to friday, for 20 weeks" in text
    assert "medicine 1: 3 tablets each time" in text
    assert "levofloxacin" not in text and "TB" not in text
    assert "levofloxacin" not in str(asked.payload["brief"])  # what a discreet-only channel sends

    await mina.press(f"{ACCEPT}:{helper_id}")
    assert "your reminders follow the new plan" in mina.text()
    (record,) = await world.store.enrolments.active(patient_id)
    assert [s.regimen_id for s in record.enrolment.switches] == ["custom"]
    assert [s.effective for s in record.enrolment.switches] == [
        date(2026, 3, 2) + timedelta(days=1)
    ]
    told = [e.payload["text"] for e in await notices(world, patient_id, f"helper:{helper_id}")]
    assert told == ["Mina confirmed the plan you entered; reminders follow it."]
    # The button works once: the entry is gone.
    await mina.press(f"{ACCEPT}:{helper_id}")
    assert "no longer waiting" in mina.text()
    assert len((await world.store.enrolments.active(patient_id))[-1].enrolment.switches) == 1


async def test_a_patient_who_says_no_changes_nothing_and_the_helper_is_told(
    world: World,
) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    ana = world.person("8001")
    helper_id = await link(world, mina, ana, "Ana")
    await mina.say("/helper")
    await mina.choose("Ana")
    await mina.choose("May enter my regimen")
    await enter_lfx(ana)
    await mina.press(f"{REJECT}:{helper_id}")
    assert "Nothing changed" in mina.text()
    assert (await world.store.enrolments.active(patient_id))[-1].enrolment.switches == ()
    told = [e.payload["text"] for e in await notices(world, patient_id, f"helper:{helper_id}")]
    assert told == ["Mina did not confirm the plan you entered. Nothing changed."]
    # A stranger's or a replayed button does nothing.
    await mina.press(f"{ACCEPT}:{helper_id}")
    assert "no longer waiting" in mina.text()
    assert (await world.store.enrolments.active(patient_id))[-1].enrolment.switches == ()


async def test_a_helper_who_stops_or_answers_wrong_leaves_nothing(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    ana = world.person("8001")
    await link(world, mina, ana, "Ana")
    await mina.say("/helper")
    await mina.choose("Ana")
    await mina.choose("May enter my regimen")
    await ana.say("/regimenfor Mina")
    await ana.choose("as my clinician told me")
    await ana.choose("Every day")
    await ana.say("400 weeks")
    assert "longer than the 2 years" in ana.text()
    await ana.say("/cancel")
    assert "Nothing was entered" in ana.text()
    assert await notices(world, patient_id, "patient") == []
    await ana.say("6 months")  # no entry open any more: not read as an answer
    assert await notices(world, patient_id, "patient") == []
    assert (await world.store.enrolments.active(patient_id))[-1].enrolment.switches == ()


async def test_twice_a_day_asks_the_patient_for_times_and_names_drugs_when_not_discreet(
    world: World,
) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    patient = await world.store.patients.get(patient_id)
    await world.store.patients.update(replace(patient, discreet=False))
    ana = world.person("8001")
    helper_id = await link(world, mina, ana, "Ana")
    await mina.say("/helper")
    await mina.choose("Ana")
    await mina.choose("May enter my regimen")
    await ana.say("/regimenfor Mina")
    await ana.choose("Yes, I will pick them")
    await ana.say(number("Lzd"))
    await ana.say("1")
    await ana.choose("Twice a day")
    await ana.say("8 weeks")
    await ana.choose("Yes, that is right")
    (asked,) = await notices(world, patient_id, "patient")
    assert "Ana entered a new TB treatment for you:" in asked.payload["text"]
    assert "linezolid: 1 tablet each time" in asked.payload["text"]
    assert "linezolid" not in str(asked.payload["brief"])  # SMS never names it

    await mina.press(f"{ACCEPT}:{helper_id}")
    assert "2 doses a day" in mina.text()  # one a day before: the times are asked
    assert (await world.store.enrolments.active(patient_id))[-1].enrolment.switches == ()
    await mina.say("08:00, 20:00")
    assert "Dose times: 08:00, 20:00" in mina.text() and "Save this?" in mina.text()
    await mina.choose("Yes, save it")
    (record,) = await world.store.enrolments.active(patient_id)
    (switch,) = record.enrolment.switches
    assert switch.regimen_id == "custom" and len(switch.times or ()) == 2
    told = [e.payload["text"] for e in await notices(world, patient_id, f"helper:{helper_id}")]
    assert told == ["Mina confirmed the plan you entered; reminders follow it."]


async def test_what_the_helper_is_shown_while_entering_is_kept_for_deletion(world: World) -> None:
    """Each reply names Mina or her medicines: each names Ana's role for Mina in `about`, so
    removing Ana or forgetting Mina deletes it from Ana's chat (`DialogueService.sent`; the
    deletion itself is proven over Telegram in test_telegram_helpers_e2e)."""
    mina = world.person("7001")
    await onboard(mina)
    ana = world.person("8001")
    helper_id = await link(world, mina, ana, "Ana")
    shown = [*await ana.say("/regimenfor Mina")]  # not allowed yet: it still names her
    await mina.say("/helper")
    await mina.choose("Ana")
    await mina.choose("May enter my regimen")
    shown += await ana.say("/regimenfor Mina")
    shown += await ana.choose("Yes, I will pick them")
    shown += await ana.say(number("Lfx"))
    shown += await ana.say("3")
    shown += await ana.say("cancel")  # not an option: asked again
    shown += await ana.say("/cancel")
    assert "Stopped. Nothing was entered." in shown[-1].text
    assert len(shown) >= 7
    assert all([role.id for role in reply.about] == [helper_id] for reply in shown), [
        (reply.text[:40], reply.about) for reply in shown
    ]
