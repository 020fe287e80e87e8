"""Weight follows the treatment: the monthly question, and a band change that waits for the
clinician before any tablet count changes."""

from __future__ import annotations

from datetime import timedelta

from storage.records import WeightSource
from tests.bot.test_dialogue import onboard_plainly
from tests.bot.world import START, Person, World, onboard

# Onboarding at 09:00 in Seoul on 2 March; the dose is at 20:00. Thirty days on, just after
# that day's reminder, the monthly question is due.
A_MONTH_ON = timedelta(days=30, hours=11, minutes=5)


async def reminders(world: World, patient_id: str) -> list[str]:
    return [e.payload["text"] for e in await world.outbox(patient_id) if e.kind == "reminder"]


async def plan_weight(world: World, patient_id: str) -> float | None:
    (active,) = await world.store.enrolments.active(patient_id)
    return active.enrolment.weight_kg


async def a_month_on_and_taken(world: World, mina: Person) -> None:
    await world.travel(START + A_MONTH_ON - world.clock.now())
    await mina.say("/taken")


async def test_the_monthly_question_comes_once_after_a_dose_and_can_be_skipped(
    world: World,
) -> None:
    mina = world.person("7001")
    await onboard_plainly(mina)  # 52 kg, at set-up
    patient_id = await world.patient_id("7001")
    await world.travel(timedelta(hours=11, minutes=5))
    await mina.say("/taken")
    assert not mina.offered("Skip this time")  # not due on the first day
    await a_month_on_and_taken(world, mina)
    assert "monthly weight check" in mina.text()
    await mina.choose("Skip this time")
    assert "I'll ask again next month" in mina.text()
    await world.travel(timedelta(days=1))
    await mina.say("/taken")
    assert "monthly weight check" not in mina.text()  # asked already this month
    [setup] = await world.store.measurements.weights(patient_id)
    assert (setup.kg, setup.source) == (52.0, WeightSource.SETUP)


async def test_a_small_change_is_saved_and_keeps_the_band(world: World) -> None:
    mina = world.person("7001")
    await onboard_plainly(mina)
    patient_id = await world.patient_id("7001")
    await a_month_on_and_taken(world, mina)
    await mina.choose("Yes, ask me")
    assert mina.offered("Same as last time (52 kg)")
    assert "change how many tablets" in mina.text()  # plain wording
    await mina.say("fifty")
    assert "Please type your weight in kg as a number from 3 to 250." in mina.text()
    await mina.say("53,5 kg")
    assert "Saved: 53.5 kg" in mina.text() and "clinician" not in mina.text()
    assert await plan_weight(world, patient_id) == 53.5
    weights = await world.store.measurements.weights(patient_id)
    assert [(w.kg, w.source) for w in weights] == [
        (52.0, WeightSource.SETUP),
        (53.5, WeightSource.WEIGH_IN),
    ]


async def test_a_band_change_waits_for_the_clinician_then_changes_the_count_once_confirmed(
    world: World,
) -> None:
    mina = world.person("7001")
    await onboard_plainly(mina)  # 52 kg: 3 tablets of HRZE (38-54 kg)
    patient_id = await world.patient_id("7001")
    await a_month_on_and_taken(world, mina)
    await mina.choose("Yes, ask me")
    await mina.say("56")  # 55-70 kg: the table gives 4
    said = mina.text()
    assert "Your weight has changed from 52 kg to 56 kg." in said
    assert "Please ask your clinician whether your dose should change" in said
    assert mina.offered("My clinician changed my dose") and mina.offered("no change")
    # Nothing changed by itself: the plan still follows 52 kg, the reminders still say 3.
    assert await plan_weight(world, patient_id) == 52.0
    await world.travel(timedelta(days=1))
    assert "3 tablets of HRZE" in (await reminders(world, patient_id))[-1]

    await mina.choose("My clinician changed my dose")
    assert "With 56 kg, the weight table gives" in mina.text()
    assert "4 tablets of HRZE" in mina.text()
    assert await plan_weight(world, patient_id) == 52.0  # not before the yes
    await mina.choose("Yes, use this count")
    assert "new count from the next dose" in mina.text()
    assert await plan_weight(world, patient_id) == 56.0
    await world.travel(timedelta(days=1))
    assert "4 tablets of HRZE" in (await reminders(world, patient_id))[-1]
    weights = await world.store.measurements.weights(patient_id)
    assert [w.kg for w in weights] == [52.0, 56.0]


async def test_no_change_from_the_clinician_keeps_the_count(world: World) -> None:
    mina = world.person("7001")
    await onboard_plainly(mina)
    patient_id = await world.patient_id("7001")
    await mina.say("/settings")
    await mina.choose("Weight")
    await mina.say("56")
    assert "Please ask your clinician whether your dose should change" in mina.text()
    await mina.choose("My clinician said no change")
    assert "stays as it is" in mina.text()
    assert await plan_weight(world, patient_id) == 52.0
    weights = await world.store.measurements.weights(patient_id)
    assert [(w.kg, w.source) for w in weights] == [
        (52.0, WeightSource.SETUP),
        (56.0, WeightSource.SETTINGS),
    ]
    # The table's count refused: the count stays too, and the patient is told whose count
    # to follow.
    await mina.say("/settings")
    await mina.choose("Weight")
    await mina.say("56")  # the same weight again: no change, but the count would move
    assert "Please ask your clinician whether your dose should change" in mina.text()
    await mina.choose("My clinician changed my dose")
    await mina.choose("No, it is different")
    assert "follow what your clinician told you" in mina.text()
    assert await plan_weight(world, patient_id) == 52.0
    # A stale button from the finished question does nothing.
    await mina.press("opt:yes")
    assert await plan_weight(world, patient_id) == 52.0


async def test_discreet_wording_names_neither_drug_nor_dose(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)  # discreet, "vitamins", 52 kg
    await a_month_on_and_taken(world, mina)
    await mina.choose("Yes, ask me")
    assert "tablets you need" not in mina.text()
    await mina.say("60")
    said = mina.text()
    assert "ask your doctor whether the number of vitamins should change" in said
    await mina.choose("My clinician changed my dose")
    assert "HRZE" not in mina.text() and "vitamins: 4 tablets" in mina.text()
    await mina.choose("Yes, use this count")
    assert await plan_weight(world, patient_id) == 60.0


async def test_a_weight_given_in_settings_moves_the_monthly_question_a_month_on(
    world: World,
) -> None:
    mina = world.person("7001")
    await onboard_plainly(mina)
    await world.travel(timedelta(days=20))
    await mina.say("/settings")
    await mina.choose("Weight")
    await mina.say("52.5")
    await a_month_on_and_taken(world, mina)  # 30 days after set-up, 10 after the weighing
    assert "monthly weight check" not in mina.text()
    await world.travel(timedelta(days=20))
    await mina.say("/taken")
    assert "monthly weight check" in mina.text()
