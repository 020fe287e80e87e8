"""A clinician changes the regimen at day 40: the history stays, counting follows the new rules,
the reminders change from the next dose and nothing due in between is lost or doubled."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from storage.records import SlotState
from tests.bot.world import Person, World, onboard
from tests.helper_links import link_helper

pytestmark = pytest.mark.asyncio
SEOUL = ZoneInfo("Asia/Seoul")


async def forty_days(world: World, mina: Person, *, missed: int = 10) -> None:
    """Days 0 to 39 at 20:01 in Seoul: every dose taken but day `missed` (left unanswered)."""
    await world.travel(timedelta(hours=11, minutes=1))
    for day in range(40):
        if day != missed:
            await mina.say("/taken")
        await world.travel(timedelta(days=1) if day < 39 else timedelta(hours=13))


async def slots_on(world: World, patient_id: str, day: date) -> list[object]:
    start = datetime.combine(day, datetime.min.time(), tzinfo=SEOUL).astimezone(UTC)
    return list(await world.store.doses.slots_between(patient_id, start, start + timedelta(days=1)))


async def test_a_switch_at_day_40_keeps_the_history_and_counts_by_the_new_rules(
    world: World,
) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    await forty_days(world, mina)
    now = world.clock.now().astimezone(SEOUL)
    assert (now.date(), now.hour) == (date(2026, 4, 11), 9)
    before = await world.store.doses.events(patient_id)

    await mina.say("/regimen")
    await mina.choose("changed my treatment")
    assert not mina.offered("Standard TB treatment, 6 months, every day")  # the one in force
    await mina.choose("Drug-resistant TB, 6 months (BPaLM)")
    assert "From Apr 11, 2026, you follow: Drug-resistant TB" in mina.text()
    assert "stay in your record" in mina.text()
    await mina.choose("Yes, save it")
    assert "From Apr 11, 2026, your reminders follow the new plan" in mina.text()

    # History: every event is still there, and the first regimen's doses are its own.
    assert await world.store.doses.events(patient_id) == before
    progress = (await mina.say("/progress"))[0].text
    assert "Your treatment so far:" in progress
    assert (
        "Mar 2, 2026 to Apr 10, 2026: Standard TB treatment, 6 months, every day (2HRZE/4HR): "
        "39 of 182 doses taken" in progress
    )
    assert "from Apr 11, 2026: Drug-resistant TB, 6 months (BPaLM) (now)" in progress
    assert "Doses taken: 0 of 182" in progress

    # The next dose is today's, planned once, by the new regimen (bedaquiline loading).
    today = await slots_on(world, patient_id, date(2026, 4, 11))
    assert len(today) == 1 and today[0].state is SlotState.PENDING  # type: ignore[attr-defined]
    assert "bedaquiline" in str(today[0].dose)  # type: ignore[attr-defined]
    earlier = await slots_on(world, patient_id, date(2026, 4, 10))
    assert "bedaquiline" not in str(earlier[0].dose)  # type: ignore[attr-defined]
    assert earlier[0].state is SlotState.TAKEN  # type: ignore[attr-defined]

    reminded = len([e for e in await world.outbox(patient_id) if e.kind == "reminder"])
    await world.travel(timedelta(hours=11, minutes=1))  # 20:01 on day 40
    after = [e for e in await world.outbox(patient_id) if e.kind == "reminder"]
    assert len(after) == reminded + 1  # one reminder for day 40: not lost, not doubled
    await mina.say("/taken")
    progress = (await mina.say("/progress"))[0].text
    assert "Doses taken: 1 of 182" in progress
    assert "39 of 182 doses taken" in progress

    # Fourteen days later the bedaquiline loading is over: the new regimen's own rules.
    for _ in range(14):
        await world.travel(timedelta(days=1))
        await mina.say("/taken")
    progress = (await mina.say("/progress"))[0].text
    assert "Doses taken: 15 of 182" in progress
    saturday = await slots_on(world, patient_id, date(2026, 4, 25))  # the day after loading
    assert "bedaquiline" not in str(saturday[0].dose)  # type: ignore[attr-defined]
    await world.travel(timedelta(days=1))
    monday = await slots_on(world, patient_id, date(2026, 4, 27))  # three times a week
    assert "bedaquiline" in str(monday[0].dose)  # type: ignore[attr-defined]


async def test_a_switch_after_todays_dose_applies_from_tomorrow(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    await world.travel(timedelta(days=3, hours=11, minutes=1))  # 20:01, day 3
    await mina.say("/taken")
    await mina.say("/regimen")
    await mina.choose("changed my treatment")
    await mina.choose("BPaLM")
    await mina.choose("Yes, save it")
    assert "From Mar 6, 2026" in mina.text()
    progress = (await mina.say("/progress"))[0].text
    assert "from Mar 2, 2026: Standard TB treatment, 6 months, every day (2HRZE/4HR) (now)" in (
        progress
    )
    assert "from Mar 6, 2026: Drug-resistant TB, 6 months (BPaLM) (to come)" in progress
    assert "Doses taken: 1 of 182" in progress  # the old regimen is in force today
    stored = await world.store.enrolments.active(patient_id)
    assert [s.effective for s in stored[-1].enrolment.switches] == [date(2026, 3, 6)]
    today = await slots_on(world, patient_id, date(2026, 3, 5))
    assert today[0].state is SlotState.TAKEN  # type: ignore[attr-defined]
    assert "bedaquiline" not in str(today[0].dose)  # type: ignore[attr-defined]


async def test_a_longer_phase_counts_the_doses_already_taken_once(world: World) -> None:
    mina = world.person("7001")
    await onboard(mina)
    await forty_days(world, mina)
    await mina.say("/regimen")
    await mina.choose("made this phase longer")
    await mina.choose("4 weeks")
    assert "First phase is 4 weeks longer" in mina.text()
    await mina.choose("Yes, save it")
    progress = (await mina.say("/progress"))[0].text
    # 56 intensive doses, 39 taken: 17 left, plus 28.
    assert "First phase: 0 of 45" in progress
    assert "Second phase: 0 of 126" in progress
    assert "39 of 182 doses taken" in progress


async def test_the_helper_hears_of_the_change_only_when_the_patient_says_so(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    helper = await link_helper(world.store, patient_id, "9001")
    for tell, expected in (("No, don't tell them", 0), ("Yes, tell my helpers", 1)):
        await world.travel(timedelta(days=1))
        await mina.say("/regimen")
        await mina.choose("changed my treatment")
        await mina.choose("3HP" if expected == 0 else "BPaLM")
        await mina.choose(tell)
        await mina.choose("Yes, save it")
        notes = [
            e
            for e in await world.outbox(patient_id)
            if e.recipient == f"helper:{helper.id}" and "new plan" in e.payload["text"]
        ]
        assert len(notes) == expected
    # Discreet mode: no medicine, no TB in the helper's note.
    assert "TB" not in notes[0].payload["text"] and "Mina" in notes[0].payload["text"]


async def test_cancel_and_no_change_nothing(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    await mina.say("/regimen")
    await mina.choose("changed my treatment")
    await mina.choose("BPaLM")
    await mina.choose("No, cancel")
    assert "Nothing changed" in mina.text()
    stored = await world.store.enrolments.active(patient_id)
    assert stored[-1].enrolment.switches == ()


async def test_settings_lead_to_the_same_regimen_change(world: World) -> None:
    mina = world.person("7001")
    await onboard(mina)
    await mina.say("/settings")
    await mina.choose("Record a change your clinician made")
    assert "What did your clinician change?" in mina.text()
    await mina.choose("changed my treatment")
    assert mina.offered("BPaLM")
