"""PHQ-2 and PHQ-9 scoring at every band boundary, and the self-harm stop."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from treatment.errors import TreatmentError
from treatment.mood import Outcome, mood_rules, phq2_step, phq9_step


@pytest.mark.parametrize(
    ("answers", "outcome"),
    [
        ([], Outcome.CONTINUE),
        ([3], Outcome.CONTINUE),
        ([1, 1], Outcome.PHQ2_NEGATIVE),
        ([2, 0], Outcome.PHQ2_NEGATIVE),
        ([2, 1], Outcome.START_PHQ9),
        ([3, 3], Outcome.START_PHQ9),
    ],
)
def test_phq2_of_three_or_more_leads_to_the_phq9(answers: list[int], outcome: Outcome) -> None:
    assert phq2_step(answers).outcome is outcome


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately_severe"),
        (19, "moderately_severe"),
        (20, "severe"),
        (24, "severe"),
    ],
)
def test_phq9_bands_at_every_boundary(total: int, band: str) -> None:
    # Spread the total over the first eight items, leaving item 9 (self-harm) at 0:
    # totals above 24 would need item 9, so test_band_of_the_highest_totals covers them.
    answers = [min(3, max(0, total - 3 * i)) for i in range(8)] + [0]
    step = phq9_step(answers)
    assert step.outcome is Outcome.PHQ9_DONE
    assert (step.score, step.band) == (total, band)


def test_band_of_the_highest_totals() -> None:
    assert mood_rules().band(27) == "severe"
    assert mood_rules().band(25) == "severe"
    with pytest.raises(TreatmentError):
        mood_rules().band(28)


def test_any_self_harm_answer_stops_the_questionnaire_at_once() -> None:
    step = phq9_step([0, 0, 0, 0, 0, 0, 0, 0, 1])
    assert step.outcome is Outcome.CRISIS
    assert step.band is None


def test_self_harm_answer_of_zero_does_not_stop_it() -> None:
    assert phq9_step([0] * 9).outcome is Outcome.PHQ9_DONE


@pytest.mark.parametrize("bad", [[4], [-1], [0, 0, 7]])
def test_answers_outside_zero_to_three_are_refused(bad: list[int]) -> None:
    with pytest.raises(TreatmentError) as caught:
        phq9_step(bad)
    assert caught.value.code == "answer_range"


def test_more_answers_than_items_are_refused() -> None:
    with pytest.raises(TreatmentError) as caught:
        phq2_step([0, 0, 0])
    assert caught.value.code == "too_many_answers"


@given(st.lists(st.integers(0, 3), min_size=9, max_size=9))
def test_complete_phq9_is_crisis_exactly_when_item_nine_is_above_zero(answers: list[int]) -> None:
    step = phq9_step(answers)
    assert step.score == sum(answers)
    assert (step.outcome is Outcome.CRISIS) == (answers[8] > 0)
    if step.outcome is Outcome.PHQ9_DONE:
        expected = (
            "minimal"
            if step.score < 5
            else "mild"
            if step.score < 10
            else "moderate"
            if step.score < 15
            else "moderately_severe"
            if step.score < 20
            else "severe"
        )
        assert step.band == expected
