"""What the patient confirmed at the end of set-up, read from the answers, and the plan it makes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from typing import Any

from treatment.backfill import EarlierDoses
from treatment.catalogue import load_catalogue
from treatment.custom import build_custom
from treatment.enrolment import Enrolment, enrol
from treatment.regimen import Regimen

CUSTOM = "custom"
"""The regimen answer for "my treatment is not in this list" (see `custom.py`)."""


@dataclass(frozen=True, slots=True)
class Setup:
    """What the patient confirmed; the caller stores it in one transaction."""

    language: str
    alias: str
    zone: str
    regimen_id: str
    start: date
    times: tuple[time, ...]
    weight_kg: float | None
    discreet: bool
    cover_word: str | None
    earlier: EarlierDoses | None = None
    """What the patient said about the doses due before set-up (None: there were none)."""
    product_set: str | None = None
    """The regimen's product set the patient holds (None: the combination tablets)."""
    custom: dict[str, Any] | None = None
    """A regimen not in the list, in the words of `treatment.custom` (regimen_id "custom")."""

    def regimen(self) -> Regimen | str:
        """What `enrol` takes: a catalogue id, or the custom regimen counted from the start."""
        if self.custom is None:
            return self.regimen_id
        return build_custom(self.custom, "set-up", self.start)


def read_setup(data: dict[str, object]) -> Setup:
    weight = data.get("weight")
    cover = data.get("cover")
    earlier = data.get("earlier")
    products = data.get("products")
    custom = data.get(CUSTOM) if data.get("regimen") == CUSTOM else None
    return Setup(
        language=str(data["language"]),
        alias=str(data["alias"]),
        zone=str(data["zone"]),
        regimen_id=str(data["regimen"]),
        start=date.fromisoformat(str(data["start"])),
        times=tuple(time.fromisoformat(str(x)) for x in as_list(data["times"])),
        weight_kg=None if weight is None else float(str(weight)),
        discreet=bool(data["discreet"]),
        cover_word=None if cover is None else str(cover),
        earlier=EarlierDoses.from_dict(earlier) if isinstance(earlier, dict) else None,
        product_set=str(products) if products else None,
        custom=dict(custom) if isinstance(custom, dict) else None,
    )


def to_enrolment(setup: Setup, today: date) -> Enrolment:
    """The treatment plan the patient confirmed, checked by the treatment engine."""
    return enrol(
        regimen=setup.regimen(),
        start=setup.start,
        times=setup.times,
        zone=setup.zone,
        today=today,
        weight_kg=setup.weight_kg,
        product_set=setup.product_set,
    )


def as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, list | tuple) else []


def draft(data: dict[str, object]) -> Enrolment:
    """The plan as answered so far (weight aside), to see which doses are already due."""
    start = date.fromisoformat(str(data["start"]))
    return enrol(
        regimen=regimen_of(data, start),
        start=start,
        times=tuple(time.fromisoformat(str(x)) for x in as_list(data["times"])),
        zone=str(data["zone"]),
        today=date.fromisoformat(str(data["today"])),
    )


def regimen_of(data: dict[str, object], start: date | None = None) -> Regimen:
    """The regimen answered so far: from the catalogue, or the custom one (its months counted
    from `start`, else from the start answered)."""
    if data.get("regimen") != CUSTOM:
        return load_catalogue().get(str(data["regimen"]))
    custom = data.get(CUSTOM)
    if not isinstance(custom, dict):
        raise ValueError("a custom regimen answer without its prescription")
    when = start or date.fromisoformat(str(data["start"]))
    return build_custom(custom, "set-up", when)
