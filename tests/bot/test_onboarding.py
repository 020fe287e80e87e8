"""Onboarding, one question at a time: nothing stored until the patient confirms."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.dialogue.choices import Picked
from bot.dialogue.conversation import Conversation
from bot.dialogue.messages import Inbound, Kind
from bot.flows import onboarding
from bot.flows.onboarding import Turn, begin, handle
from bot.flows.onboarding.setup import Setup
from bot.flows.onboarding.zone import find_zone
from treatment.backfill import Earlier, EarlierDoses

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


HAPPY = (
    pick("yes"),
    say("Mina"),
    pick("Asia.Seoul"),
    pick("2HRZE_4HR"),
    say("2026-03-02"),
    say("오후 8시"),
    pick("all"),  # the 8 doses since 2 March
    say("52"),
    pick("combination"),
    pick("vitamins"),
)


def test_a_korean_patient_goes_from_start_to_a_confirmed_setup() -> None:
    turn = run(begin(NOW, "ko-KR"), *HAPPY)
    assert turn.conversation is not None and turn.conversation.step == "confirm"
    summary = turn.replies[-1].text
    assert "Mina" in summary and "2026" in summary
    assert turn.replies[-1].sensitive
    done = run(turn, pick("start"))
    assert done.conversation is None
    assert done.outcome == Setup(
        language="ko",
        alias="Mina",
        zone="Asia/Seoul",
        regimen_id="2HRZE/4HR",
        start=date(2026, 3, 2),
        times=(time(20, 0),),
        weight_kg=52.0,
        discreet=True,
        cover_word="비타민",
        earlier=EarlierDoses(Earlier.ALL),
    )


def test_a_language_we_speak_skips_the_question_and_says_how_to_change_it() -> None:
    turn = begin(NOW, "zh-CN")
    assert turn.conversation is not None and turn.conversation.step == "consent"
    assert "我会用简体中文" in turn.replies[0].text
    other = run(turn, pick("language"))
    assert other.replies[0].choices[0][0].arg == "zh_Hans"  # still offered first
    english = run(other, pick("en"))
    assert english.conversation is not None and english.conversation.step == "consent"
    assert "Do you agree?" in english.replies[0].text


def test_a_language_we_do_not_speak_asks_which_language() -> None:
    for tag in (None, "fr-FR"):
        turn = begin(NOW, tag)
        assert turn.conversation is not None and turn.conversation.step == "language"


def test_the_onboarding_of_a_patient_starting_today_takes_nine_answers() -> None:
    """Consent, nickname, place, treatment, first dose, time, weight, which tablets, discreet
    mode; then Start. The language question, the earlier doses and a separate cover-word
    question are gone where they decide nothing."""
    answers = (
        pick("yes"),
        say("Mina"),
        pick("Asia.Seoul"),
        pick("2HRZE_4HR"),
        pick("today"),
        say("20:00"),
        say("52"),
        pick("combination"),
        pick("vitamins"),
    )
    turn = run(begin(NOW, "en"), *answers)
    assert turn.conversation is not None and turn.conversation.step == "confirm"
    assert run(turn, pick("start")).outcome is not None


def test_weight_is_not_asked_when_the_tablets_do_not_depend_on_it() -> None:
    answers = (pick("yes"), say("Mina"), pick("Asia.Seoul"), pick("BPaLM"), pick("today"))
    turn = run(begin(NOW, "en"), *answers, say("20:00"))
    assert turn.conversation is not None and turn.conversation.step == "discreet"


def test_cancel_at_any_step_ends_with_nothing_saved() -> None:
    for steps in range(len(HAPPY)):
        turn = run(begin(NOW, "en"), *HAPPY[:steps], pick("", verb="cancel"))
        assert turn.conversation is None and turn.outcome is None


def test_declining_consent_ends_politely_with_nothing_saved() -> None:
    turn = run(begin(NOW, "en"), pick("no"))
    assert turn.conversation is None and turn.outcome is None
    assert "Nothing was saved" in turn.replies[0].text


@pytest.mark.parametrize(
    ("step_events", "bad", "reason"),
    [
        (HAPPY[:4], say("2026-03-11"), "past"),  # tomorrow in Seoul
        (HAPPY[:4], say("2025-01-01"), "more than a year"),
        (HAPPY[:4], say("yesterday-ish"), "year-month-day"),
        (HAPPY[:5], say("25:00"), "08:30"),
        (HAPPY[:5], say("08:00, 20:00"), "exactly one"),
        ((*HAPPY[:6], pick("some")), say("9"), "1 to 8"),
        ((*HAPPY[:6], pick("some")), say("2026-03-01"), "first dose to today"),
        (HAPPY[:7], say("2"), "3 to 250"),
        (HAPPY[:2], say("Atlantis"), "don't know"),
        (HAPPY[:1], say("010 1234 5678"), "nickname"),
        (HAPPY[:1], say("x" * 40), "32"),
    ],
)
def test_bad_answers_repeat_the_question_with_a_reason(
    step_events: tuple[Inbound, ...], bad: Inbound, reason: str
) -> None:
    before = run(begin(NOW, "en"), *step_events)
    assert before.conversation is not None
    after = run(before, bad)
    assert after.conversation is not None
    assert after.conversation.step == before.conversation.step
    assert after.conversation.data == before.conversation.data
    assert reason in after.replies[0].text


def test_a_button_from_another_step_is_not_accepted() -> None:
    at_regimen = run(begin(NOW, "en"), pick("yes"), say("Mina"), pick("Asia.Seoul"))
    assert at_regimen.conversation is not None
    replayed = run(at_regimen, pick("yes"))  # the consent button, pressed again
    assert replayed.conversation is not None
    assert replayed.conversation.step == "regimen"


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("서울", "Asia/Seoul"),
        ("上海", "Asia/Shanghai"),
        ("Paris", "Europe/Paris"),
        ("europe/paris", "Europe/Paris"),
        ("UTC+9", "Etc/GMT-9"),
        ("los angeles", "America/Los_Angeles"),
    ],
)
def test_typed_places_become_time_zones(typed: str, zone: str) -> None:
    assert find_zone(typed) == zone


def test_unknown_or_ambiguous_places_are_refused() -> None:
    assert find_zone("Atlantis") is None
    assert find_zone("UTC+5:30") is None  # needs a city: no Etc zone for half hours


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.one_of(st.text(max_size=30).map(say), st.text(max_size=10).map(pick)), max_size=15)
)
def test_random_input_never_raises_and_never_confirms_by_accident(events: list[Inbound]) -> None:
    turn = begin(NOW, None)
    for event in events:
        if turn.conversation is None:
            break
        turn = handle(turn.conversation, event, NOW)
        assert isinstance(turn.replies, list) and turn.replies
    assert turn.outcome is None or isinstance(turn.outcome, Setup)


def test_a_stored_conversation_round_trips_and_resumes() -> None:
    turn = run(begin(NOW, None), pick("en"), pick("yes"))
    assert turn.conversation is not None
    restored = Conversation.from_dict(turn.conversation.to_dict())
    assert restored == turn.conversation
    resumed = onboarding.handle(restored, say("Mina"), NOW)
    assert resumed.conversation is not None and resumed.conversation.step == "zone"
