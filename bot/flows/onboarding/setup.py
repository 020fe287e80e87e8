"""What the patient confirmed at the end of set-up, read from the answers, and the plan it makes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

from treatment.backfill import EarlierDoses
from treatment.enrolment import Enrolment, enrol


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


def read_setup(data: dict[str, object]) -> Setup:
    weight = data.get("weight")
    cover = data.get("cover")
    earlier = data.get("earlier")
    products = data.get("products")
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
    )


def to_enrolment(setup: Setup, today: date) -> Enrolment:
    """The treatment plan the patient confirmed, checked by the treatment engine."""
    return enrol(
        regimen=setup.regimen_id,
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
    return enrol(
        regimen=str(data["regimen"]),
        start=date.fromisoformat(str(data["start"])),
        times=tuple(time.fromisoformat(str(x)) for x in as_list(data["times"])),
        zone=str(data["zone"]),
        today=date.fromisoformat(str(data["today"])),
    )
