"""Monitoring suggestions per regimen, from `data/monitoring.toml` (each with its source).

A suggestion names a test a clinician usually orders during a regimen; the bot offers it as
"ask your clinician when" and never schedules it. Which suggestions apply depends on the
regimens followed (every segment: a switch to a drug-resistant regimen adds its tests).
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

from treatment.regimen import Regimen


@dataclass(frozen=True, slots=True)
class Suggestion:
    id: str
    test: str
    regimens: frozenset[str]
    drugs: frozenset[str]
    months: tuple[int, ...]
    source: str


@dataclass(frozen=True, slots=True)
class Monitoring:
    suggestions: tuple[Suggestion, ...]
    drug_names: dict[str, str]

    def drug_ids(self, regimen: Regimen) -> frozenset[str]:
        names = (drug.name for phase in regimen.phases for drug in phase.drugs)
        return frozenset(self.drug_names.get(name.lower(), name) for name in names)

    def for_regimens(self, regimens: Iterable[Regimen]) -> tuple[Suggestion, ...]:
        """The suggestions that apply to any of `regimens`, in file order, each once."""
        chosen = list(regimens)
        return tuple(
            s
            for s in self.suggestions
            if any(
                r.id in s.regimens and (not s.drugs or s.drugs & self.drug_ids(r)) for r in chosen
            )
        )


@functools.cache
def load_monitoring() -> Monitoring:
    text = resources.files("treatment").joinpath("data/monitoring.toml").read_text("utf-8")
    raw = tomllib.loads(text)
    suggestions = tuple(
        Suggestion(
            id=str(item["id"]),
            test=str(item["test"]),
            regimens=frozenset(str(r) for r in item["regimens"]),
            drugs=frozenset(str(d) for d in item.get("drugs", [])),
            months=tuple(int(m) for m in item.get("months", [])),
            source=str(item["source"]),
        )
        for item in raw["suggestion"]
    )
    names = {str(k).lower(): str(v) for k, v in raw.get("drug_names", {}).items()}
    return Monitoring(suggestions, names)
