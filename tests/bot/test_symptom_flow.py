"""Reporting a side effect: ask, triage, and say plainly what to do."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.dialogue.choices import Picked
from bot.dialogue.messages import Inbound, Kind
from bot.flows import symptom
from bot.flows.symptom import Turn, begin, handle
from treatment.triage import Level, Severity

NOW = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
HRZE = ["isoniazid", "rifampicin", "pyrazinamide", "ethambutol"]


def pick(arg: str, verb: str = "opt") -> Inbound:
    return Inbound("test", "1", "1", Kind.PICK, pick=Picked(verb, arg))


def say(text: str) -> Inbound:
    return Inbound.from_text("test", "1", "1", text)


def run(turn: Turn, *events: Inbound) -> Turn:
    for event in events:
        assert turn.conversation is not None
        turn = handle(turn.conversation, event, NOW)
    return turn


def start(told: bool = True) -> Turn:
    return begin(NOW, "en", HRZE, contraception_told=told)


def test_yellow_eyes_tells_the_patient_to_stop_and_get_care_today() -> None:
    done = run(start(), pick("jaundice"), pick("1"), pick("no"), pick("skip"))
    assert done.conversation is None and done.outcome is not None
    assert done.outcome.triage.level is Level.RED_FLAG and done.outcome.triage.alert_helper
    assert "Stop taking the medicine" in done.replies[0].text
    assert done.replies[0].sensitive


def test_mild_nausea_advises_a_clinician_food_and_a_recheck() -> None:
    done = run(start(), pick("mild_nausea"), pick("1"), pick("no"), say("since Monday"))
    assert done.outcome is not None
    assert done.outcome.triage.level is Level.SOON
    assert done.outcome.free_text == "since Monday"
    text = done.replies[0].text
    assert "clinician" in text and "food" in text and "2 days" in text


def test_orange_urine_reassures_and_mentions_contraception_once() -> None:
    first = run(start(told=False), pick("orange_fluids"), pick("1"), pick("no"), pick("skip"))
    assert first.outcome is not None and first.outcome.triage.level is Level.REASSURE
    assert "birth-control" in first.replies[0].text
    later = run(start(told=True), pick("orange_fluids"), pick("1"), pick("no"), pick("skip"))
    assert "birth-control" not in later.replies[0].text


def test_two_symptoms_are_triaged_together() -> None:
    done = run(
        start(),
        pick("headache"),
        pick("1"),
        pick("yes"),
        pick("vision"),
        pick("2"),
        pick("no"),
        pick("skip"),
    )
    assert done.outcome is not None
    assert done.outcome.symptoms == (("headache", Severity.MILD), ("vision", Severity.MODERATE))
    assert done.outcome.triage.level is Level.RED_FLAG


def test_something_else_needs_the_patients_words() -> None:
    turn = run(start(), pick("other"), pick("2"), pick("no"))
    assert turn.conversation is not None
    assert "skip" not in {c.arg for c in turn.replies[-1].all_choices()}
    assert run(turn, pick("skip")).outcome is None
    done = run(turn, say("my ears feel blocked"))
    assert done.outcome is not None and done.outcome.free_text == "my ears feel blocked"
    assert done.outcome.triage.level is Level.SOON


def test_symptoms_of_other_drugs_are_not_offered_but_red_flags_always_are() -> None:
    offered = {
        c.arg
        for c in begin(NOW, "en", ["isoniazid"], contraception_told=True).replies[0].all_choices()
    }
    assert "joint_aches" not in offered
    assert {"jaundice", "vision", "heart_rhythm"} <= offered


def test_cancel_records_nothing() -> None:
    done = run(start(), pick("headache"), pick("", verb="cancel"))
    assert done.conversation is None and done.outcome is None


def test_free_text_is_bounded() -> None:
    done = run(start(), pick("headache"), pick("1"), pick("no"), say("x" * 5000))
    assert done.outcome is not None and done.outcome.free_text is not None
    assert len(done.outcome.free_text) == symptom.MAX_TEXT


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=20).map(say),
            st.sampled_from(["jaundice", "1", "2", "3", "yes", "no", "skip", "other", "x"]).map(
                pick
            ),
        ),
        max_size=12,
    )
)
def test_any_sequence_of_answers_is_handled_without_error(events: list[Inbound]) -> None:
    turn = start()
    for event in events:
        if turn.conversation is None:
            break
        turn = handle(turn.conversation, event, NOW)
        assert turn.replies
    if turn.outcome is not None:
        assert turn.outcome.symptoms
