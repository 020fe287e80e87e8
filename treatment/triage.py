"""Side-effect triage: from what the patient reports to what the bot says and who it tells.

The rules are data (`treatment/data/side_effects.toml`, with sources); this module only applies
them. The bot never diagnoses: it reassures, advises a clinic visit, or says plainly to stop the
medicine and get care today.
"""

from __future__ import annotations

import enum
import functools
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

from treatment.errors import TreatmentError


class Level(enum.IntEnum):
    REASSURE = 1
    SOON = 2
    RED_FLAG = 3


class Severity(enum.IntEnum):
    MILD = 1
    MODERATE = 2
    SEVERE = 3


@dataclass(frozen=True, slots=True)
class Symptom:
    id: str
    level: Level
    drugs: frozenset[str]
    advice: str | None = None

    def relevant_to(self, drugs: Iterable[str]) -> bool:
        return not self.drugs or not self.drugs.isdisjoint(d.lower() for d in drugs)


@dataclass(frozen=True, slots=True)
class Triage:
    """What to do about one report: the level, and codes the bot turns into words."""

    level: Level
    symptoms: tuple[str, ...]
    advice: tuple[str, ...]
    stop_medicine: bool
    alert_helper: bool
    recheck_days: int | None


@dataclass(frozen=True, slots=True)
class Rules:
    symptoms: dict[str, Symptom]
    recheck_days: int
    severe_moves_up: bool
    contraception_drugs: frozenset[str]
    source: str

    def offered(self, drugs: Iterable[str]) -> list[Symptom]:
        """Symptoms to offer a patient on `drugs`: red flags first and always, then the rest
        that these drugs can cause, in the order of the data file."""
        taken = [d.lower() for d in drugs]
        red = [s for s in self.symptoms.values() if s.level is Level.RED_FLAG]
        other = [
            s
            for s in self.symptoms.values()
            if s.level is not Level.RED_FLAG and s.relevant_to(taken)
        ]
        return red + other

    def triage(
        self,
        reported: Iterable[tuple[str, Severity]],
        drugs: Iterable[str],
        *,
        contraception_told: bool,
    ) -> Triage:
        """Triage one report of one or more symptoms.

        Steps:
        1. Each symptom starts at its level in the data; a severe report of a lower level moves it
           up one step, because clinical.md says worsening moves it up.
        2. The report's level is the highest of its symptoms. Nausea reported together with a
           liver sign is already a red flag through the liver sign.
        3. A red flag means: stop the medicine, get care today, alert the helper now.
           "Soon" means: see a clinician soon and be asked again after `recheck_days`.
        4. Advice codes: each symptom's own advice (take with food), and, once per patient, the
           contraception warning when the regimen holds a rifamycin and the level is reassure.
        """
        items = list(reported)
        if not items:
            raise TreatmentError("no_symptom", "a side-effect report needs at least one symptom")
        levels = []
        advice: list[str] = []
        for symptom_id, severity in items:
            symptom = self.symptoms.get(symptom_id)
            if symptom is None:
                raise TreatmentError(
                    "unknown_symptom", f"unknown symptom {symptom_id!r}", field="symptom"
                )
            level = symptom.level
            if self.severe_moves_up and severity is Severity.SEVERE and level < Level.RED_FLAG:
                level = Level(level + 1)
            levels.append(level)
            if symptom.advice and symptom.advice not in advice:
                advice.append(symptom.advice)
        level = max(levels)
        taken = {d.lower() for d in drugs}
        if (
            level is Level.REASSURE
            and not contraception_told
            and not taken.isdisjoint(self.contraception_drugs)
        ):
            advice.append("contraception")
        red = level is Level.RED_FLAG
        return Triage(
            level=level,
            symptoms=tuple(symptom_id for symptom_id, _ in items),
            advice=tuple(advice),
            stop_medicine=red,
            alert_helper=red,
            recheck_days=self.recheck_days if level is Level.SOON else None,
        )


@functools.cache
def rules() -> Rules:
    """The triage rules shipped with the package, validated once."""
    source = "treatment/data/side_effects.toml"
    text = resources.files("treatment").joinpath("data/side_effects.toml").read_text("utf-8")
    data = tomllib.loads(text)
    symptoms: dict[str, Symptom] = {}
    for index, row in enumerate(data.get("symptom", [])):
        where = f"{source}: symptom[{index}]"
        try:
            symptom = Symptom(
                id=str(row["id"]),
                level=Level[str(row["level"]).upper()],
                drugs=frozenset(str(d).lower() for d in row.get("drugs", [])),
                advice=row.get("advice"),
            )
        except KeyError as exc:
            raise TreatmentError("invalid_triage_data", f"{where}: missing or bad {exc}") from exc
        if symptom.id in symptoms:
            raise TreatmentError("invalid_triage_data", f"{where}: duplicate id {symptom.id}")
        symptoms[symptom.id] = symptom
    return Rules(
        symptoms=symptoms,
        recheck_days=int(data["recheck_days"]),
        severe_moves_up=bool(data["severe_moves_up"]),
        contraception_drugs=frozenset(data["contraception_drugs"]),
        source=str(data["source"]),
    )
