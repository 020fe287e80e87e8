"""The patient's conversation end to end: real store, real engine, injected clock."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.dialogue.messages import Inbound, Kind, Reply
from bot.dialogue.service import Dialogue
from bot.i18n import LOCALES, translator
from storage.records import DoseOutcome, SlotState
from tests.bot.world import START, Person, World, onboard
from tests.helper_links import link_helper

# Words that would tell a group what the bot is for, in the three languages.
HEALTH_WORDS = (
    "health",
    "tb",
    "treatment",
    "medicine",
    "dose",
    "pill",
    "private",
    "tuberculosis",
    "건강",
    "결핵",
    "치료",
    "약",
    "복용",
    "健康",
    "结核",
    "治疗",
    "药",
    "服药",
    "隐私",
)

pytestmark = pytest.mark.asyncio


async def reminders(world: World, patient_id: str) -> list[str]:
    # Babel puts a narrow no-break space before AM/PM.
    return [
        e.payload["text"].replace("\u202f", " ")
        for e in await world.outbox(patient_id)
        if e.kind == "reminder"
    ]


async def test_onboarding_stores_the_plan_and_the_first_reminder_comes_at_eight_pm(
    world: World,
) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    patient = await world.store.patients.get(patient_id)
    assert (patient.alias, patient.time_zone, patient.discreet) == ("Mina", "Asia/Seoul", True)
    assert patient.preferences["cover_word"] == "vitamins"
    await world.travel(timedelta(hours=10, minutes=59))  # 19:59 in Seoul
    assert await reminders(world, patient_id) == []
    await world.travel(timedelta(minutes=1))
    texts = await reminders(world, patient_id)
    assert texts == ["It's 8:00 PM: time for your vitamins."]


async def test_korean_onboarding_speaks_korean_throughout(world: World) -> None:
    jun = world.person("7002", language="ko")
    replies = await jun.say("/start")
    # Telegram said Korean, which we speak: no language question, the notice comes first.
    assert "동의" in replies[0].text and "agree" not in replies[0].text
    assert replies[0].choices[0][0].label == "동의해요"
    await jun.choose("다른 언어")
    assert jun.last[0].choices[0][0].label == "한국어"
    await jun.choose("English")
    assert "agree" in jun.text()


async def test_a_client_language_we_do_not_speak_gets_the_language_question(
    world: World,
) -> None:
    ana = world.person("7003", language="pt-BR")
    replies = await ana.say("/start")
    assert [c.label for c in replies[0].all_choices()][:3] == ["English", "한국어", "简体中文"]


async def test_taken_is_recorded_once_and_the_reminder_is_edited(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    await world.travel(timedelta(hours=11))
    slot = next(
        s
        for s in await world.store.doses.slots_between(patient_id, START, START + timedelta(days=1))
    )
    first = await mina.press(f"taken:{slot.id}")
    assert first[0].edit and first[0].text.startswith("Dose of Mar 2, 8:00\u202fPM: taken ✓")
    again = await mina.press(f"taken:{slot.id}")
    assert "already recorded as taken ✓" in again[0].text
    events = await world.store.doses.events(patient_id)
    assert [e.outcome for e in events] == [DoseOutcome.TAKEN]
    assert (await world.store.doses.slot(patient_id, slot.id)).state is SlotState.TAKEN


async def test_snooze_brings_the_reminder_back_after_fifteen_minutes(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    await world.travel(timedelta(hours=11))
    slot = (await world.store.doses.slots_between(patient_id, START, START + timedelta(days=1)))[0]
    replies = await mina.press(f"snooze:{slot.id}.15")
    assert "8:15\u202fPM" in replies[0].text
    await world.travel(timedelta(minutes=14))
    assert len(await reminders(world, patient_id)) == 1
    await world.travel(timedelta(minutes=1))
    assert len(await reminders(world, patient_id)) == 2


async def test_a_forged_button_for_another_patients_dose_changes_nothing(world: World) -> None:
    mina, jun = world.person("7001"), world.person("7002")
    mina_id = await onboard(mina)
    await onboard(jun)
    await world.travel(timedelta(hours=11))
    minas_slot = (await world.store.doses.slots_between(mina_id, START, START + timedelta(days=1)))[
        0
    ]
    replies = await jun.press(f"taken:{minas_slot.id}")
    assert "no longer valid" in replies[0].text
    assert await world.store.doses.events(mina_id) == []
    for junk in ("taken:", "taken:../x", "opt:start", "forget", "x" * 80):
        await jun.press(junk)
    assert await world.store.doses.events(mina_id) == []


async def test_late_report_from_the_list_counts_as_taken_late(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    await world.travel(timedelta(days=1, hours=6))  # yesterday's 20:00 window closed at 02:00
    slot = (await world.store.doses.slots_between(patient_id, START, START + timedelta(days=1)))[0]
    assert (await world.store.doses.slot(patient_id, slot.id)).state is SlotState.MISSED
    listed = await mina.say("/late")
    assert slot.id in [c.arg for c in listed[0].all_choices()]
    replies = await mina.press(f"late:{slot.id}")
    assert "taken late" in replies[0].text
    progress = await mina.say("/progress")
    assert "Doses taken: 1 of 182" in progress[0].text


async def test_red_flag_tells_the_patient_to_stop_and_queues_a_helper_alert(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    helper = await link_helper(world.store, patient_id, "8001")
    await mina.say("/symptom")
    await mina.choose("Yellow skin")
    await mina.choose("Mild")
    await mina.choose("No")
    await mina.choose("Skip")
    assert "Stop taking the medicine" in mina.text()
    reports = await world.store.side_effects.for_patient(patient_id)
    assert [r.level for r in reports] == ["red_flag"]
    alerts = [e for e in await world.outbox(patient_id) if e.kind == "helper_alert"]
    assert len(alerts) == 1 and alerts[0].recipient == f"helper:{helper.id}"
    assert "Yellow" not in alerts[0].payload["text"]  # the helper hears that, not what


async def test_pause_stops_reminders_and_resume_brings_them_back(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    await mina.say("/pause")
    await mina.choose("I am in hospital")
    assert "Paused" in mina.text()
    await world.travel(timedelta(days=2))
    assert await reminders(world, patient_id) == []
    await mina.say("/resume")
    assert "Welcome back" in mina.text()
    await world.travel(timedelta(days=1))
    assert len(await reminders(world, patient_id)) == 1


async def test_forget_erases_everything_and_old_buttons_then_do_nothing(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    await world.travel(timedelta(hours=11))
    slot = (await world.store.doses.slots_between(patient_id, START, START + timedelta(days=1)))[0]
    await mina.say("/forget")
    await mina.choose("Yes, erase")
    await mina.choose("Erase everything now")
    assert "Everything is erased" in mina.text()
    assert not await world.store.patients.exists(patient_id)
    replies = await mina.press(f"taken:{slot.id}")
    assert "/start" in replies[0].text
    await mina.say("/start")
    assert await world.store.patients.count() == 1  # a fresh start, not the old record


async def test_cancelling_onboarding_leaves_nothing_behind(world: World) -> None:
    mina = world.person("7001")
    await mina.say("/start")
    await mina.choose("I agree")
    await mina.say("Mina")
    await mina.choose("Cancel")
    assert await world.store.patients.count() == 0
    assert await world.store.identities.find("telegram", "7001") is None


async def test_a_group_chat_gets_one_neutral_sentence_and_nothing_is_stored(world: World) -> None:
    event = Inbound.from_text("telegram", "7001", "-100", "/start", private=False)
    (reply,) = await world.dialogue.handle(event)
    assert reply.leave and not reply.choices
    assert reply.text.count(".") == 1 and "one-to-one" in reply.text
    for locale in LOCALES:  # everyone in the group reads it: no word about health
        text = translator(locale)._(reply.text).casefold()
        assert not any(word in text for word in HEALTH_WORDS), text
    assert await world.store.patients.count() == 0


async def test_the_same_update_delivered_twice_is_handled_once(world: World) -> None:
    mina = world.person("7001")
    await mina.say("/start")
    event = Inbound.from_text("telegram", "7001", "7001", "I agree?", update_ref="dup-1")
    first = await world.dialogue.handle(event)
    second = await world.dialogue.handle(event)
    assert first and second == []


async def test_stickers_unknown_commands_and_stray_text_get_polite_answers(world: World) -> None:
    mina = world.person("7001")
    await onboard(mina)
    assert "/help" in (await mina.say("/teleport"))[0].text
    assert "/help" in (await mina.say("hello?"))[0].text
    sticker = Inbound("telegram", "7001", "7001", Kind.UNSUPPORTED)
    assert "text" in (await world.dialogue.handle(sticker))[0].text


async def test_two_presses_at_the_same_moment_record_one_dose(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    await world.travel(timedelta(hours=11))
    slot = (await world.store.doses.slots_between(patient_id, START, START + timedelta(days=1)))[0]
    results = await asyncio.gather(
        mina.press(f"taken:{slot.id}"), mina.press(f"taken:{slot.id}"), return_exceptions=True
    )
    assert not [r for r in results if isinstance(r, BaseException)]
    events = await world.store.doses.events(patient_id)
    assert [e.outcome for e in events] == [DoseOutcome.TAKEN]


async def test_discreet_mode_queues_deletion_of_health_messages(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    await mina.say("/settings")
    await mina.choose("Delete health messages")
    await mina.choose("After 1 hour")
    progress = await mina.say("/progress")
    assert progress[0].sensitive
    event = Inbound.from_text("telegram", "7001", "7001", "/progress")
    await world.dialogue.sent(event, progress[0], message_id=555)
    cleanups = [e for e in await world.outbox(patient_id) if e.kind == "cleanup"]
    assert len(cleanups) == 1
    assert cleanups[0].payload["target_message_id"] == 555
    assert cleanups[0].not_before == world.clock.now() + timedelta(hours=1)
    await world.dialogue.sent(event, Reply("not sensitive"), message_id=556)
    assert len([e for e in await world.outbox(patient_id) if e.kind == "cleanup"]) == 1


async def test_changing_the_dose_time_moves_reminders_from_tomorrow(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    await mina.say("/settings")
    await mina.choose("Dose times")
    await mina.say("07:30")
    assert "from tomorrow" in mina.text()
    await world.travel(timedelta(days=2))
    texts = await reminders(world, patient_id)
    assert texts == [
        "It's 8:00 PM: time for your vitamins.",
        "It's 7:30 AM: time for your vitamins.",
        "It's 7:30 AM: time for your vitamins.",
    ]


WORDS = st.sampled_from(["/start", "/taken", "/late", "/forget", "/symptom", "20:00", "1", "x"])


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_random_text_and_forged_buttons_never_crash_or_touch_another_patient(
    world: World, data: st.DataObject
) -> None:
    """A stranger types and presses anything, including buttons naming Mina's real doses."""
    mina = world.person("7001")
    if await world.store.identities.find("telegram", "7001") is None:
        await onboard(mina)
        await world.travel(timedelta(hours=11))
    mina_id = await world.patient_id("7001")
    slots = await world.store.doses.slots_between(mina_id, START, START + timedelta(days=3))
    before = (await world.store.doses.events(mina_id), [s.state for s in slots])
    args = st.one_of(
        st.sampled_from([s.id for s in slots]).flatmap(
            lambda sid: st.sampled_from([sid, f"{sid}.15", f"{sid}.60"])
        ),
        st.text(alphabet="abcdef0123456789._-", max_size=40),
    )
    payloads = st.one_of(
        st.text(max_size=70),
        st.builds(lambda verb, arg: f"{verb}:{arg}", st.sampled_from(sorted(Dialogue.verbs)), args),
    )
    stranger = world.person("7002")
    steps = data.draw(
        st.lists(st.tuples(st.one_of(WORDS, st.text(max_size=50)), payloads), max_size=8)
    )
    for text, payload in steps:
        await stranger.say(text)
        await stranger.press(payload)
    after_slots = await world.store.doses.slots_between(mina_id, START, START + timedelta(days=3))
    assert (await world.store.doses.events(mina_id), [s.state for s in after_slots]) == before


async def started_a_week_ago(mina: Person) -> None:
    await mina.say("/start")
    await mina.choose("I agree")
    await mina.say("Mina")
    await mina.choose("Seoul")
    await mina.choose("2HRZE/4HR)")
    await mina.say("2026-02-23")  # a week before today
    await mina.say("08:00")  # 23 Feb to 2 Mar, 08:00 each day: 8 doses due before now


async def answer_the_rest(mina: Person) -> None:
    await mina.choose("Skip")  # weight
    await mina.choose("Combined tablets")
    await mina.choose("Plain wording")


async def test_doses_before_set_up_all_taken_count_as_taken_and_are_said_to(
    world: World,
) -> None:
    mina = world.person("7001")
    await started_a_week_ago(mina)
    assert "8 doses were due before now" in mina.text()
    await mina.choose("All taken")
    await answer_the_rest(mina)
    assert "The 8 doses since your first dose are counted as taken, as you said." in mina.text()
    await mina.choose("Start")
    progress = await mina.say("/progress")
    assert "Doses taken: 8 of 182" in progress[0].text


async def test_earlier_doses_missed_by_count_are_not_counted_and_move_the_end(
    world: World,
) -> None:
    mina = world.person("7001")
    await started_a_week_ago(mina)
    await mina.choose("I missed some")
    await mina.say("two")
    assert "Please type a number from 1 to 8" in mina.text()
    await mina.say("2")
    await answer_the_rest(mina)
    summary = mina.text()
    assert "2 earlier doses are not counted as taken." in summary
    # 182 doses from 23 Feb end on 23 Aug; two not taken end it two days later.
    assert "Your last dose moves from Aug 23, 2026 to Aug 25, 2026." in summary
    await mina.choose("Start")
    progress = await mina.say("/progress")
    assert "Doses taken: 6 of 182" in progress[0].text
    assert "Last dose expected on: Aug 25, 2026" in progress[0].text


async def test_earlier_doses_missed_on_named_days_are_those_days(world: World) -> None:
    mina = world.person("7001")
    await started_a_week_ago(mina)
    await mina.choose("I missed some")
    await mina.say("2026-02-25, 2026年2月26日")
    await answer_the_rest(mina)
    await mina.choose("Start")
    patient_id = await world.patient_id("7001")
    events = await world.store.doses.events(patient_id)
    slots = await world.store.doses.slots_between(patient_id, START - timedelta(days=8), START)
    missed = {
        s.dose["key"]
        for s in slots
        for e in events
        if e.slot_id == s.id and e.outcome is DoseOutcome.MISSED
    }
    assert missed == {"2026-02-25#0", "2026-02-26#0"}
    assert len(events) == 8


async def test_not_sure_about_earlier_doses_counts_none_of_them(world: World) -> None:
    mina = world.person("7001")
    await started_a_week_ago(mina)
    await mina.choose("Not sure")
    await answer_the_rest(mina)
    assert "8 earlier doses are not counted as taken." in mina.text()
    await mina.choose("Start")
    progress = await mina.say("/progress")
    assert "Doses taken: 0 of 182" in progress[0].text


async def test_a_mood_check_in_is_offered_after_a_dose_on_the_second_day(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    await world.travel(timedelta(hours=11))  # first dose, set-up day: no offer yet
    first = (await world.store.doses.slots_between(patient_id, START, START + timedelta(days=1)))[0]
    await mina.press(f"taken:{first.id}")
    assert "feeling" not in mina.text()
    await world.travel(timedelta(days=1))
    second = (
        await world.store.doses.slots_between(
            patient_id, START + timedelta(days=1), START + timedelta(days=2)
        )
    )[0]
    await mina.press(f"taken:{second.id}")
    assert "How have you been feeling" in mina.text()
    await mina.choose("Yes, ask me")
    await mina.choose("Not at all")
    await mina.choose("Several days")
    assert [s.score for s in await world.store.mood.for_patient(patient_id)] == [1]
    progress = await mina.say("/progress")
    assert "1 of 6" in progress[0].text


async def test_mood_check_ins_can_be_turned_off(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    await mina.say("/settings")
    await mina.choose("Mood check-ins")
    await mina.choose("Never")
    await world.travel(timedelta(days=1, hours=11))
    slot = (
        await world.store.doses.slots_between(
            patient_id, START + timedelta(days=1), START + timedelta(days=2)
        )
    )[0]
    await mina.press(f"taken:{slot.id}")
    assert "feeling" not in mina.text()


async def take_todays_dose(world: World, patient_id: str, mina: Person, day: int) -> list[Reply]:
    slot = (
        await world.store.doses.slots_between(
            patient_id, START + timedelta(days=day), START + timedelta(days=day + 1)
        )
    )[0]
    return await mina.press(f"taken:{slot.id}")


async def test_tablets_bought_are_used_by_doses_and_a_refill_reminder_comes_at_a_week_left(
    world: World,
) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)  # 52 kg: 3 tablets of HRZE per dose
    await mina.say("/stock")
    assert "not recorded any tablets" in mina.text()
    await mina.choose("I bought tablets")
    await mina.say("27")  # 9 days
    # Discreet mode: the cover word, never the combination's letters.
    assert "vitamins: 27 tablets, enough for about 9 days" in mina.text()
    assert "HRZE" not in mina.text()
    await world.travel(timedelta(hours=11))
    replies = await take_todays_dose(world, patient_id, mina, 0)
    assert "refill" not in " ".join(r.text for r in replies).lower()
    stock = await world.store.pill_stock.get(patient_id)
    assert stock is not None and stock.counts == {"HRZE": 24}
    await world.travel(timedelta(days=1))
    replies = await take_todays_dose(world, patient_id, mina, 1)
    assert any("about 7 more days" in r.text for r in replies)  # 21 tablets left
    await world.travel(timedelta(days=1))
    replies = await take_todays_dose(world, patient_id, mina, 2)
    assert not any("more days" in r.text for r in replies)  # said once until restocked


async def test_doses_beyond_the_recorded_tablets_ask_for_a_recount(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    await mina.say("/stock")
    await mina.choose("I bought tablets")
    await mina.say("2")
    await world.travel(timedelta(hours=11))
    replies = await take_todays_dose(world, patient_id, mina, 0)
    assert any("count what you have" in r.text for r in replies)
    assert (await world.store.pill_stock.get(patient_id)).counts == {"HRZE": 0}  # type: ignore[union-attr]
    await mina.say("/stock")
    await mina.choose("I counted what I have")
    await mina.say("30")
    assert (await world.store.pill_stock.get(patient_id)).counts == {"HRZE": 30}  # type: ignore[union-attr]


@pytest.mark.parametrize("typed", ["-5", "10000000", "many", "0"])
async def test_impossible_tablet_counts_are_refused_and_nothing_is_stored(
    world: World, typed: str
) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    await mina.say("/stock")
    await mina.choose("I bought tablets")
    await mina.say(typed)
    assert "whole number of tablets from 1 to 10000" in mina.text()
    assert await world.store.pill_stock.get(patient_id) is None


async def test_a_crisis_answer_shows_help_and_alerts_a_consenting_helper(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    await jisoo(world, patient_id)
    await mina.say("/mood")
    for answer in ("Nearly every day", "Nearly every day", "Yes, go on"):
        await mina.choose(answer)
    for _ in range(6):
        await mina.choose("Several days")
    await mina.choose("Several days")  # item 9
    assert "you do not have to carry this alone" in mina.text()
    alerts = [e for e in await world.outbox(patient_id) if e.kind == "helper_alert"]
    assert len(alerts) == 1 and "hard time" in alerts[0].payload["text"]
    assert [s.instrument for s in await world.store.mood.for_patient(patient_id)] == ["phq9"]


async def jisoo(world: World, patient_id: str) -> str:
    helper = await link_helper(world.store, patient_id, "8001")
    return helper.id


async def test_the_refill_reminder_can_go_to_the_helper_too(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    helper_id = await jisoo(world, patient_id)
    await mina.say("/settings")
    await mina.choose("Reminder to buy more tablets")
    await mina.choose("14 days")
    await mina.choose("Tell my helper too")
    await mina.say("/stock")
    await mina.choose("I bought tablets")
    await mina.say("45")  # 15 days
    await world.travel(timedelta(hours=11))
    replies = await take_todays_dose(world, patient_id, mina, 0)  # 42 left: 14 days
    assert any("about 14 more days" in r.text for r in replies)
    alerts = [e for e in await world.outbox(patient_id) if e.kind == "helper_alert"]
    assert [a.recipient for a in alerts] == [f"helper:{helper_id}"]
    assert "supplies" in alerts[0].payload["text"]


async def test_a_questionnaire_left_half_way_expires_cleanly(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    await mina.say("/mood")
    await mina.choose("Several days")
    stale = next(c for r in mina.last for c in r.all_choices() if "Several" in c.label)
    await world.travel(timedelta(hours=25))
    replies = await mina.press(stale.payload)
    assert "no longer open" in replies[0].text
    assert await world.store.mood.for_patient(patient_id) == []
    await mina.say("/mood")  # and it starts afresh
    assert "Two questions" in mina.text()


async def test_not_today_also_brings_the_mood_check_in_when_it_is_due(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    await world.travel(timedelta(days=1, hours=11))
    slot = (
        await world.store.doses.slots_between(
            patient_id, START + timedelta(days=1), START + timedelta(days=2)
        )
    )[0]
    await mina.press(f"skip:{slot.id}")
    assert "Dose of Mar 3, 8:00\u202fPM: not taken" in mina.text()
    assert "How have you been feeling" in mina.text()


async def test_stock_without_a_tablet_count_says_what_is_needed(world: World) -> None:
    mina = world.person("7001")
    await mina.say("/start")
    await mina.choose("I agree")
    await mina.say("Mina")
    await mina.choose("Seoul")
    await mina.choose("2HRZE/4HR)")
    await mina.choose("Today")
    await mina.say("20:00")
    await mina.choose("Skip")  # no weight: the combination tablets per dose are unknown
    await mina.choose("Combined tablets")
    await mina.choose("Plain wording")
    await mina.choose("Start")
    replies = await mina.say("/stock")
    assert "Add your weight in /settings" in replies[0].text
    assert replies[0].choices == ()


async def test_a_reminder_written_ahead_is_not_sent_if_the_dose_is_answered_first(
    world: World,
) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    due = START + timedelta(hours=11)  # 20:00 in Seoul
    await world.travel(due - timedelta(seconds=5) - world.clock.now())
    (waiting,) = [e for e in await world.outbox(patient_id) if e.kind == "reminder"]
    assert waiting.not_before == due  # queued ahead of its instant, not sent before it
    slot = (await world.store.doses.slots_between(patient_id, due, due + timedelta(seconds=1)))[0]
    await mina.press(f"taken:{slot.id}")
    assert "Taken" in mina.text() or "taken" in mina.text()
    assert [e for e in await world.outbox(patient_id) if e.kind == "reminder"] == []
    await world.travel(timedelta(hours=7))  # no nudge and no close for an answered dose
    kinds = {e.kind for e in await world.outbox(patient_id)}
    assert not kinds & {"reminder", "nudge"}


async def test_a_count_already_low_warns_at_once_not_after_the_next_dose(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)  # 52 kg: 3 tablets a day, warned at 7 days or less
    await mina.say("/stock")
    await mina.choose("I counted what I have")
    replies = await mina.say("12")  # 4 days
    assert "vitamins: 12 tablets, enough for about 4 days" in replies[0].text
    assert replies[1].text == "You have vitamins for about 4 more days. Time to get more."
    prefs = (await world.store.patients.get(patient_id)).preferences
    assert prefs["stock_warned"] == ["HRZE"]
    await world.travel(timedelta(hours=11))
    after = await take_todays_dose(world, patient_id, mina, 0)
    assert not any("more days" in r.text for r in after)  # said once until restocked


async def test_one_day_left_reads_naturally_in_each_language(world: World) -> None:
    for user, language, expected in (
        ("7001", "en", "for about 1 more day."),
        ("7002", "ko", "약 1일분"),
        ("7003", "zh-CN", "还够大约1天"),
    ):
        person = world.person(user, language)
        await onboard_plainly(person)
        await person.say("/stock")
        await person.press("opt:counted")
        replies = await person.say("3")
        assert expected in replies[-1].text, replies[-1].text
        assert "(s)" not in replies[-1].text and "들" not in replies[-1].text


async def onboard_plainly(person: Person) -> None:
    """Onboarding by button position, whatever the language: plain wording, 52 kg."""
    await person.say("/start")
    await person.press("opt:yes")
    await person.say("Mina")
    await person.press("opt:Asia.Seoul")
    await person.press("opt:2HRZE_4HR")
    await person.press("opt:today")
    await person.say("20:00")
    await person.say("52")
    await person.press("opt:combination")
    await person.press("opt:off")
    await person.press("opt:start")
    assert await person.world.patient_id(person.user)


async def test_late_doses_are_listed_in_the_patients_own_date_style(world: World) -> None:
    for user, language in (("7001", "en"), ("7002", "ko"), ("7003", "zh-CN")):
        await onboard_plainly(world.person(user, language))
    await world.travel(timedelta(days=1))
    for user, expected in (
        ("7001", "Mar 2, 8:00\u202fPM"),
        ("7002", "3월 2일 오후 8:00"),
        ("7003", "3月2日 20:00"),
    ):
        person = world.person(user)
        replies = await person.say("/late")
        labels = [c.label for c in replies[0].all_choices()]
        assert labels[0] == expected, labels
        assert "/26" not in " ".join(labels)  # not the numeric "3/2/26, 8:00 PM" for everyone


async def report_a_red_flag(mina: Person) -> list[Reply]:
    await mina.say("/symptom")
    await mina.press("opt:jaundice")
    await mina.press("opt:3")
    await mina.press("opt:no")
    return await mina.press("opt:skip")


async def test_a_red_flag_without_a_helper_says_nobody_was_told_and_how_to_choose_one(
    world: World,
) -> None:
    mina = world.person("7001")
    await onboard(mina)
    advice, told = await report_a_red_flag(mina)
    assert "Stop taking the medicine" in advice.text
    assert told.text.startswith("No helper is set up, so nobody was told.") and "/helper" in (
        told.text
    )


async def test_a_red_flag_with_alerts_paused_says_so(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    await link_helper(world.store, patient_id, "8001", consent=False)
    _, told = await report_a_red_flag(mina)
    assert told.text.startswith("Alerts to your helpers are paused, so nobody was told.")
    assert [e for e in await world.outbox(patient_id) if e.kind == "helper_alert"] == []


async def test_a_red_flag_names_the_helper_who_was_told(world: World) -> None:
    mina = world.person("7001")
    patient_id = await onboard(mina)
    await link_helper(world.store, patient_id, "8001", alias="Jisoo")
    _, told = await report_a_red_flag(mina)
    assert told.text == "I have let Jisoo know, so they can reach out to you."


async def test_switching_to_separate_tablets_changes_the_next_reminders(world: World) -> None:
    mina = world.person("7001")
    await onboard_plainly(mina)  # 52 kg, combined tablets
    patient_id = await world.patient_id("7001")
    await mina.say("/settings")
    await mina.press("opt:products")
    await mina.press("opt:separate")
    assert "Saved" in mina.text()
    await world.travel(timedelta(hours=11))
    [reminder] = [e.payload["text"] for e in await world.outbox(patient_id) if e.kind == "reminder"]
    assert reminder.splitlines()[1:] == [
        "• 3 tablets of isoniazid 100 mg",
        "• 4 tablets of rifampicin 150 mg",
        "• 7 tablets of pyrazinamide 250 mg",
        "• 4 tablets of ethambutol 250 mg",
    ]


async def test_a_weight_change_of_five_kg_asks_for_a_clinician_and_a_smaller_one_does_not(
    world: World,
) -> None:
    mina = world.person("7001")
    await onboard(mina)  # 52 kg
    await mina.say("/settings")
    await mina.choose("Weight")
    await mina.say("54")  # the same band (38-54 kg), 2 kg more
    assert "Saved: 54 kg" in mina.text()
    assert "clinician" not in mina.text()
    await mina.say("/settings")
    await mina.choose("Weight")
    await mina.say("59")  # 5 kg more than the weight stored last
    assert "Your weight has changed from 54 kg to 59 kg." in mina.text()
    assert "ask your doctor whether the number of vitamins should change" in mina.text()
