"""Mood screening: PHQ-2, then PHQ-9 when the PHQ-2 is positive, with the self-harm stop.

Scoring constants come from `treatment/data/mood.toml`, which names its sources.
"""

from __future__ import annotations

import enum
import functools
import tomllib
from dataclasses import dataclass
from importlib import resources

from treatment.errors import TreatmentError


class Outcome(enum.StrEnum):
    CONTINUE = "continue"  # ask the next item
    PHQ2_NEGATIVE = "phq2_negative"  # done, nothing to follow up
    START_PHQ9 = "start_phq9"  # PHQ-2 positive: offer the PHQ-9
    PHQ9_DONE = "phq9_done"  # scored, see `band`
    CRISIS = "crisis"  # self-harm item above 0: stop and show crisis help now


@dataclass(frozen=True, slots=True)
class MoodRules:
    item_max: int
    phq2_items: int
    phq9_items: int
    phq2_positive_at: int
    self_harm_item: int
    first_within_days: int
    every_days: int
    bands: tuple[tuple[int, str], ...]
    source: str

    def band(self, phq9_total: int) -> str:
        if not 0 <= phq9_total <= self.item_max * self.phq9_items:
            raise TreatmentError("score_range", f"PHQ-9 total {phq9_total} is out of range")
        return next(name for start, name in reversed(self.bands) if phq9_total >= start)


@dataclass(frozen=True, slots=True)
class Step:
    outcome: Outcome
    score: int
    band: str | None = None


def _check(answers: list[int], rules: MoodRules, limit: int) -> None:
    if len(answers) > limit:
        raise TreatmentError("too_many_answers", f"at most {limit} answers")
    for answer in answers:
        if not 0 <= answer <= rules.item_max:
            raise TreatmentError(
                "answer_range", f"each answer is 0 to {rules.item_max}", field="answer"
            )


def phq2_step(answers: list[int], rules: MoodRules | None = None) -> Step:
    """Where a PHQ-2 stands after `answers` (0-3 each)."""
    rules = rules or mood_rules()
    _check(answers, rules, rules.phq2_items)
    score = sum(answers)
    if len(answers) < rules.phq2_items:
        return Step(Outcome.CONTINUE, score)
    if score >= rules.phq2_positive_at:
        return Step(Outcome.START_PHQ9, score)
    return Step(Outcome.PHQ2_NEGATIVE, score)


def phq9_step(answers: list[int], rules: MoodRules | None = None) -> Step:
    """Where a PHQ-9 stands after `answers`.

    Steps:
    1. Any answer above 0 to the self-harm item ends the questionnaire at once with CRISIS,
       whatever the total: the patient sees crisis help before anything else.
    2. Until all items are answered, CONTINUE.
    3. Then the total falls in a band (minimal, mild, moderate, moderately severe, severe).
    """
    rules = rules or mood_rules()
    _check(answers, rules, rules.phq9_items)
    score = sum(answers)
    index = rules.self_harm_item - 1
    if len(answers) > index and answers[index] > 0:
        return Step(Outcome.CRISIS, score)
    if len(answers) < rules.phq9_items:
        return Step(Outcome.CONTINUE, score)
    return Step(Outcome.PHQ9_DONE, score, rules.band(score))


@functools.cache
def mood_rules() -> MoodRules:
    text = resources.files("treatment").joinpath("data/mood.toml").read_text("utf-8")
    data = tomllib.loads(text)
    try:
        bands = tuple(sorted((int(b["from"]), str(b["name"])) for b in data["band"]))
        rules = MoodRules(
            item_max=int(data["item_max"]),
            phq2_items=int(data["phq2_items"]),
            phq9_items=int(data["phq9_items"]),
            phq2_positive_at=int(data["phq2_positive_at"]),
            self_harm_item=int(data["self_harm_item"]),
            first_within_days=int(data["first_within_days"]),
            every_days=int(data["every_days"]),
            bands=bands,
            source=str(data["source"]),
        )
    except KeyError as exc:
        raise TreatmentError(
            "invalid_mood_data", f"treatment/data/mood.toml: missing {exc}"
        ) from exc
    if not bands or bands[0][0] != 0:
        raise TreatmentError("invalid_mood_data", "treatment/data/mood.toml: band: must start at 0")
    return rules
