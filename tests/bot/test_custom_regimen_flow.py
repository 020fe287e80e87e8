"""Set-up with a regimen that is not in the list: picked drugs, "as my clinician told me",
the repeat-back before anything is saved, impossible answers asked again, SMS without names."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from bot.dialogue.choices import Picked
from bot.dialogue.messages import Inbound, Kind
from bot.flows.onboarding import Turn, begin, handle
from bot.flows.onboarding.setup import to_enrolment
from treatment.drugs import load_drugs
from treatment.plan import iter_slots

NOW = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)  # 10:00 in Seoul


def pick(arg: str, verb: str = "opt") -> Inbound:
    return Inbound("test", "1", "1", Kind.PICK, pick=Picked(verb, arg))


def say(text: str) -> Inbound:
    return Inbound.from_text("test", "1", "1", text)


def run(turn: Turn, *events: Inbound) -> Turn:
    for event in events:
        assert turn.conversation is not None, "flow ended early"
        turn = handle(turn.conversation, event, NOW)
    return turn


def number(drug_id: str) -> str:
    return str(1 + [d.id for d in load_drugs().pickable()].index(drug_id))


TO_REGIMEN = (pick("yes"), say("Mina"), pick("Asia.Seoul"))
BDQ_LFX = (
    pick("custom"),
    pick("pick"),
    say(f"{number('Bdq')}, {number('Lfx')}"),
    say("2"),  # bedaquiline, after loading
    say("4 x 14"),
    pick("three"),
    say("3"),  # levofloxacin
    pick("daily"),
    say("24 weeks"),
)


def test_picked_drugs_are_repeated_back_in_plain_words_before_anything_is_saved() -> None:
    turn = run(begin(NOW, "en"), *TO_REGIMEN, *BDQ_LFX)
    assert turn.conversation is not None and turn.conversation.step == "custom_check"
    assert turn.outcome is None
    check = turn.replies[-1].text
    assert "Part 1: every day, for 24 weeks" in check
    assert (
        "bedaquiline: 4 tablets each time for the first 14 days, then 2 tablets each time, "
        "on Monday, Wednesday, Friday" in check
    )
    assert "levofloxacin: 3 tablets each time" in check
    assert turn.replies[-1].sensitive


def test_confirmed_custom_regimen_becomes_the_plan_the_patient_described() -> None:
    turn = run(
        begin(NOW, "en"),
        *TO_REGIMEN,
        *BDQ_LFX,
        pick("right"),
        say("2026-03-09"),  # a Monday
        say("08:00"),
        pick("all"),
        pick("off"),
    )
    assert turn.conversation is not None and turn.conversation.step == "confirm"
    summary = turn.replies[-1].text
    assert "your own, as your prescription says" in summary
    assert "4 tablets of bedaquiline" in summary
    done = run(turn, pick("start"))
    setup = done.outcome
    assert setup is not None and setup.regimen_id == "custom"
    plan = to_enrolment(setup, date(2026, 3, 10))
    assert plan.regimen_id == "custom" and plan.custom_regimen is not None
    slots = list(iter_slots(plan))
    assert len(slots) == 168
    assert slots[-1].local_date == date(2026, 3, 9) + timedelta(days=167)
    bdq_days = [s.local_date for s in slots if any(d.name == "bedaquiline" for d in s.drugs)]
    assert bdq_days[:14] == [date(2026, 3, 9) + timedelta(days=i) for i in range(14)]
    assert {d.weekday() for d in bdq_days[14:]} == {0, 2, 4}
    assert all(any(d.name == "levofloxacin" and d.tablets == 3 for d in s.drugs) for s in slots)
    assert plan.times == (time(8, 0),)


def test_as_my_clinician_told_me_asks_only_pattern_and_length() -> None:
    turn = run(
        begin(NOW, "ko-KR"),
        *TO_REGIMEN,
        pick("custom"),
        pick("told"),
        pick("twice_daily"),
        say("6개월"),
    )
    assert turn.conversation is not None and turn.conversation.step == "custom_check"
    check = turn.replies[-1].text
    assert "6개월" in check
    assert "처방" in check  # "as your clinician told you", in Korean
    turn = run(turn, pick("right"), pick("today"), say("08:00, 20:00"), pick("all"), pick("off"))
    assert turn.conversation is not None and turn.conversation.step == "confirm"
    setup = run(turn, pick("start")).outcome
    assert setup is not None
    plan = to_enrolment(setup, date(2026, 3, 10))
    slots = list(iter_slots(plan))
    # Six calendar months from 10 March, twice a day.
    assert len(slots) == 2 * (date(2026, 9, 10) - date(2026, 3, 10)).days
    assert all(d.mg is None and d.tablets is None for s in slots[:3] for d in s.drugs)


def test_a_later_part_is_added_and_repeated_back() -> None:
    turn = run(
        begin(NOW, "en"),
        *TO_REGIMEN,
        *BDQ_LFX,
        pick("more"),
        pick("pick"),
        say(number("Lfx")),
        pick("prescribed"),
        pick("daily"),
        say("60 doses"),
    )
    check = turn.replies[-1].text
    assert "Part 2: every day, 60 doses" in check
    assert "levofloxacin: as prescribed" in check


def test_medicines_picked_one_at_a_time_then_done() -> None:
    turn = run(begin(NOW, "en"), *TO_REGIMEN, pick("custom"), pick("pick"), pick("Lzd"))
    assert turn.conversation is not None and turn.conversation.step == "custom_drugs"
    assert "Picked so far: linezolid" in turn.replies[-1].text
    turn = run(turn, pick("Lzd"), pick("Cfz"), pick("done"))
    assert turn.conversation is not None and turn.conversation.step == "custom_tablets"
    assert [d["name"] for d in turn.conversation.data["phase"]["drugs"]] == ["Lzd", "Cfz"]
    turn = run(turn, pick("n1"), pick("prescribed"), pick("daily"), say("8 weeks"))
    check = turn.replies[-1].text
    assert "linezolid: 1 tablet each time" in check
    assert "clofazimine: as prescribed" in check


def test_on_a_numbered_channel_a_typed_count_is_that_count() -> None:
    turn = run(begin(NOW, "en"), *TO_REGIMEN, pick("custom"), pick("pick"), say(number("Lzd")))
    offered = turn.replies[-1].all_choices()
    # The n-th choice of the tablets question is n tablets, for every whole count.
    assert [c.arg for c in offered[:20]] == [f"n{n}" for n in range(1, 21)]
    drugs = run(begin(NOW, "en"), *TO_REGIMEN, pick("custom"), pick("pick")).replies[-1]
    assert [c.arg for c in drugs.all_choices()[:23]] == [d.id for d in load_drugs().pickable()]


def test_impossible_answers_are_asked_again_and_nothing_is_half_saved() -> None:
    turn = run(begin(NOW, "en"), *TO_REGIMEN, pick("custom"), pick("pick"))
    again = run(turn, say("0, 99"))
    assert again.conversation is not None and again.conversation.step == "custom_drugs"
    assert "numbers of your medicines" in again.replies[0].text
    turn = run(again, say(number("H")), say("lots"))
    assert turn.conversation is not None and turn.conversation.step == "custom_tablets"
    turn = run(turn, say("3"), pick("weekly"), say("400 weeks"))
    assert turn.conversation is not None and turn.conversation.step == "custom_length"
    assert "longer than the 2 years" in turn.replies[0].text
    turn = run(turn, say("twelve"))
    assert "like 24 weeks" in turn.replies[0].text
    cancelled = run(turn, pick("", verb="cancel"))
    assert cancelled.conversation is None and cancelled.outcome is None


def test_start_again_forgets_the_parts_told_so_far() -> None:
    turn = run(begin(NOW, "en"), *TO_REGIMEN, *BDQ_LFX, pick("again"))
    assert turn.conversation is not None and turn.conversation.step == "custom_known"
    assert turn.conversation.data["custom"] == {"phases": []}


def test_where_every_message_is_read_on_the_way_no_medicine_is_named() -> None:
    turn = run(begin(NOW, "zh-CN", discreet_only=True), *TO_REGIMEN, pick("custom"))
    assert turn.conversation is not None and turn.conversation.step == "custom_pattern"
    turn = run(turn, pick("daily"), say("26周"))
    check = turn.replies[-1].text
    assert "26" in check
    names = [n for d in load_drugs().pickable() for n in d.names.values()]
    assert not [n for n in names if n in check]
    turn = run(turn, pick("right"), pick("today"), say("08:00"), pick("all"), pick("none"))
    assert turn.conversation is not None and turn.conversation.step == "confirm"
    summary = turn.replies[-1].text
    assert not [n for n in names if n in summary]
