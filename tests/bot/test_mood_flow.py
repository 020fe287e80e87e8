"""Mood check-in: PHQ-2, then PHQ-9 with consent; a self-harm answer shows crisis help at once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.crisis import load_crisis_lines
from bot.dialogue.choices import Picked
from bot.dialogue.messages import Inbound, Kind
from bot.flows.mood import Turn, begin, handle

NOW = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)


def pick(arg: str) -> Inbound:
    return Inbound("test", "1", "1", Kind.PICK, pick=Picked("opt", arg))


def run(turn: Turn, *answers: str) -> Turn:
    for answer in answers:
        assert turn.conversation is not None, "check-in ended early"
        turn = handle(turn.conversation, pick(answer), NOW)
    return turn


def test_a_low_phq2_ends_warmly_and_is_kept() -> None:
    done = run(begin(NOW, "en", "Asia/Seoul"), "1", "1")
    assert done.conversation is None and done.outcome is not None
    assert (done.outcome.instrument, done.outcome.score, done.outcome.crisis) == ("phq2", 2, False)


def test_a_phq2_of_three_asks_consent_then_runs_the_phq9_reusing_both_answers() -> None:
    turn = run(begin(NOW, "en", None), "2", "1")
    assert turn.conversation is not None and turn.conversation.step == "more"
    done = run(turn, "yes", "2", "2", "2", "1", "1", "1", "0")
    assert done.outcome is not None
    assert done.outcome.instrument == "phq9"
    assert done.outcome.answers == (2, 1, 2, 2, 2, 1, 1, 1, 0)
    assert (done.outcome.score, done.outcome.band) == (12, "moderate")
    assert "clinician" in done.replies[0].text


def test_self_harm_answer_stops_at_once_with_crisis_help_for_the_patients_place() -> None:
    turn = run(begin(NOW, "ko", "Asia/Seoul"), "3", "3", "yes", "0", "0", "0", "0", "0", "0")
    done = run(turn, "1")
    assert done.conversation is None and done.outcome is not None and done.outcome.crisis
    text = done.replies[0].text
    assert "109" in text  # the Korean line, for a patient in Seoul
    assert "988" not in text


def test_not_now_keeps_a_complete_phq2_but_not_half_a_questionnaire() -> None:
    half = run(begin(NOW, "en", None), "2", "stop")
    assert half.conversation is None and half.outcome is None
    later = run(begin(NOW, "en", None), "2", "2", "stop")
    assert later.outcome is not None and later.outcome.instrument == "phq2"


@pytest.mark.parametrize("bad", ["4", "-1", "yes", "x"])
def test_answers_that_were_not_offered_repeat_the_question(bad: str) -> None:
    turn = run(begin(NOW, "en", None), "1")
    again = run(turn, bad)
    assert again.conversation is not None
    assert again.conversation.data["answers"] == [1]


def test_text_instead_of_a_choice_repeats_the_question() -> None:
    turn = begin(NOW, "en", None)
    assert turn.conversation is not None
    again = handle(turn.conversation, Inbound.from_text("test", "1", "1", "3"), NOW)
    assert again.conversation is not None and again.conversation.data["answers"] == []


def test_operator_crisis_file_replaces_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    custom = tmp_path / "lines.toml"
    custom.write_text(
        '[default.text]\nen = "Call the clinic night line."\n'
        '[[line]]\nzones = ["Asia/Seoul"]\nname = "NGO night line"\nnumber = "02-000-0000"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("TBBOT_CRISIS_LINES_FILE", str(custom))
    lines = load_crisis_lines()
    assert [line.number for line in lines.for_zone("Asia/Seoul")] == ["02-000-0000"]


def test_a_broken_crisis_file_falls_back_to_the_packaged_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "lines.toml"
    broken.write_text("this is not toml = = =", encoding="utf-8")
    monkeypatch.setenv("TBBOT_CRISIS_LINES_FILE", str(broken))
    assert [line.number for line in load_crisis_lines().for_zone("Asia/Seoul")] == ["109"]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(["0", "1", "2", "3", "yes", "stop", "9"]), max_size=14))
def test_crisis_is_raised_exactly_when_item_nine_was_answered_above_zero(
    answers: list[str],
) -> None:
    turn = begin(NOW, "en", None)
    for answer in answers:
        if turn.conversation is None:
            break
        turn = handle(turn.conversation, pick(answer), NOW)
    if turn.outcome is not None:
        result = turn.outcome
        assert result.crisis == (len(result.answers) == 9 and result.answers[8] > 0)
        assert result.score == sum(result.answers)
