"""A clinician changes the regimen at day 40: the history stays, counting follows the new rules,
the reminders change from the next dose and nothing due in between is lost or doubled."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.dialogue.choices import OPT, Picked
from bot.dialogue.messages import Inbound, Kind
from bot.flows import regimen as regimen_flow
from storage.records import SlotState
from tests.bot.world import Person, World, onboard
from tests.helper_links import link_helper
from treatment.drugs import load_drugs

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


def number(drug_id: str) -> str:
    return str(1 + [d.id for d in load_drugs().pickable()].index(drug_id))


async def test_a_switch_at_day_40_to_a_custom_regimen_counts_by_its_own_rules(
    world: World,
) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    await forty_days(world, mina)
    before = await world.store.doses.events(patient_id)

    await mina.say("/regimen")
    await mina.choose("changed my treatment")
    await mina.choose("My treatment is not in this list")
    await mina.choose("Yes, I will pick them")  # the set-up's own questions
    await mina.say(number("Lfx"))
    await mina.say("3")
    await mina.choose("5 days a week")
    await mina.say("20 weeks")
    check = mina.text()
    assert "Part 1: 5 days a week, monday to friday, for 20 weeks" in check, check
    assert "levofloxacin: 3 tablets each time" in check
    assert (await world.store.enrolments.active(patient_id))[-1].enrolment.switches == ()
    await mina.choose("Yes, that is right")
    summary = mina.text()
    assert "From Apr 11, 2026, you follow: your own, as your prescription says" in summary
    assert "levofloxacin: 3 tablets each time" in summary and "Save this?" in summary
    assert (await world.store.enrolments.active(patient_id))[-1].enrolment.switches == ()
    await mina.choose("Yes, save it")
    assert "From Apr 11, 2026, your reminders follow the new plan" in mina.text()

    assert await world.store.doses.events(patient_id) == before
    progress = (await mina.say("/progress"))[0].text
    assert "39 of 182 doses taken" in progress
    assert "from Apr 11, 2026: your own, as your prescription says (now)" in progress
    assert "Doses taken: 0 of 100" in progress  # 20 weeks of 5 doses
    # Five days a week: nothing on the weekend of the switch, levofloxacin from Monday.
    assert await slots_on(world, patient_id, date(2026, 4, 11)) == []
    for _ in range(9):  # the engine's hourly planning job, which `travel` runs only when due
        await world.travel(timedelta(hours=6))
    await world.travel(timedelta(hours=5, minutes=1))  # Monday, 20:01
    assert await slots_on(world, patient_id, date(2026, 4, 12)) == []
    monday = await slots_on(world, patient_id, date(2026, 4, 13))
    assert len(monday) == 1 and "levofloxacin" in str(monday[0].dose)  # type: ignore[attr-defined]
    await mina.say("/taken")
    progress = (await mina.say("/progress"))[0].text
    assert "Doses taken: 1 of 100" in progress and "39 of 182 doses taken" in progress


async def test_a_custom_switch_impossible_or_cancelled_saves_nothing(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    await mina.say("/regimen")
    await mina.choose("changed my treatment")
    await mina.choose("My treatment is not in this list")
    await mina.choose("as my clinician told me")
    await mina.choose("Every day")
    await mina.say("400 weeks")
    assert "longer than the 2 years" in mina.text()
    await mina.say("6 months")
    assert "your medicines, as your clinician told you" in mina.text()
    await mina.choose("Cancel")
    assert "Nothing changed" in mina.text()
    stored = await world.store.enrolments.active(patient_id)
    assert stored[-1].enrolment.switches == ()


def test_where_discreet_wording_is_the_only_wording_no_medicine_is_offered() -> None:
    now = datetime(2026, 4, 11, 0, 0, tzinfo=UTC)
    turn = regimen_flow.begin(
        now,
        "en",
        current="2HRZE_4HR",
        doses_per_day=1,
        effective=date(2026, 4, 11),
        phase=None,
        helpers=False,
        zone="Asia/Seoul",
        discreet_only=True,
    )
    assert turn.conversation is not None
    for arg in ("switch", "custom"):
        assert turn.conversation is not None
        turn = regimen_flow.handle(turn.conversation, pick(arg), now)
    assert turn.conversation is not None and turn.conversation.step == "custom_pattern"
    turn = regimen_flow.handle(turn.conversation, pick("daily"), now)
    assert turn.conversation is not None
    turn = regimen_flow.handle(
        turn.conversation, Inbound.from_text("sms", "1", "1", "8 weeks"), now
    )
    assert turn.conversation is not None
    turn = regimen_flow.handle(turn.conversation, pick("right"), now)
    assert turn.conversation is not None and turn.conversation.step == "confirm"
    assert "your medicines, as your clinician told you" in turn.replies[-1].text
    turn = regimen_flow.handle(turn.conversation, pick("yes"), now)
    assert isinstance(turn.outcome, regimen_flow.SwitchRegimen)
    assert turn.outcome.regimen_id == "custom" and turn.outcome.custom is not None


def pick(arg: str) -> Inbound:
    return Inbound("sms", "1", "1", Kind.PICK, pick=Picked(OPT, arg))
