"""Weight bands: tablets of the fixed-dose combination by body weight, per programme.

The tables live in `treatment/data/weight_bands.toml` (first table is the default). The engine
never computes a dose from mg/kg: it looks up a tablet count a programme printed, and when
the weight falls outside every band it shows no count and says "ask your clinician".
"""

from __future__ import annotations

import functools
import math
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from treatment.codes import ErrorCode, Reason
from treatment.errors import DataFileError, TreatmentError

SOURCE = "treatment/data/weight_bands.toml"
MIN_WEIGHT_KG = 3.0
MAX_WEIGHT_KG = 250.0


@dataclass(frozen=True, slots=True)
class Band:
    """Tablets per dose for whole-kilogram weights `min_kg`..`max_kg` (no upper end: None), of a
    combination in a weight-band table or of one product of a product set."""

    min_kg: int
    max_kg: int | None
    tablets: int

    def contains(self, whole_kg: int) -> bool:
        return self.min_kg <= whole_kg and (self.max_kg is None or whole_kg <= self.max_kg)


@dataclass(frozen=True, slots=True)
class BandTable:
    id: str
    name: str
    source: str
    verified: bool
    note: str
    bands: tuple[Band, ...]

    def tablets_for(self, weight_kg: float) -> int | None:
        """Tablets for this weight, or None when no band covers it (clinician decides)."""
        band = self.band_for(weight_kg)
        return None if band is None else band.tablets

    def band_for(self, weight_kg: float) -> Band | None:
        whole = math.floor(weight_kg + 0.5)
        return next((band for band in self.bands if band.contains(whole)), None)


@dataclass(frozen=True, slots=True)
class WeightChange:
    """A new weight against the last one the patient gave, in one band table."""

    before_kg: float
    after_kg: float
    band_before: Band | None
    band_after: Band | None
    notice_kg: float

    @property
    def band_moved(self) -> bool:
        return self.band_before != self.band_after

    @property
    def large(self) -> bool:
        return abs(self.after_kg - self.before_kg) >= self.notice_kg

    @property
    def ask_clinician(self) -> bool:
        """Another band, or a change of the notice threshold or more: the patient is told to
        ask their clinician whether the dose changes, and the count waits for their answer."""
        return self.band_moved or self.large


@dataclass(frozen=True, slots=True)
class WeightBands:
    tables: tuple[BandTable, ...]
    notice_kg: float
    ask_every_days: int = 30

    @property
    def default(self) -> BandTable:
        return self.tables[0]

    def table(self, table_id: str | None) -> BandTable:
        if table_id is None:
            return self.default
        for table in self.tables:
            if table.id == table_id:
                return table
        allowed = ", ".join(t.id for t in self.tables)
        raise TreatmentError(
            ErrorCode.UNKNOWN_BAND_TABLE,
            f"unknown weight band table {table_id!r}; allowed: {allowed}",
            field="band_table",
        )

    def change(self, before_kg: float, after_kg: float, table_id: str | None) -> WeightChange:
        table = self.table(table_id)
        return WeightChange(
            before_kg, after_kg, table.band_for(before_kg), table.band_for(after_kg), self.notice_kg
        )

    def weight_change_notice(self, old_kg: float, new_kg: float) -> Reason | None:
        """`weight_changed_ask_clinician` when the weight moved by the notice threshold."""
        return Reason.WEIGHT_CHANGED if abs(new_kg - old_kg) >= self.notice_kg else None


def check_weight(weight_kg: float) -> float:
    if not (math.isfinite(weight_kg) and MIN_WEIGHT_KG <= weight_kg <= MAX_WEIGHT_KG):
        raise TreatmentError(
            ErrorCode.WEIGHT_OUT_OF_RANGE,
            f"the weight is outside the allowed range: {MIN_WEIGHT_KG:g} to {MAX_WEIGHT_KG:g} kg",
            field="weight_kg",
        )
    return weight_kg


@functools.cache
def load_weight_bands() -> WeightBands:
    text = resources.files("treatment").joinpath("data/weight_bands.toml").read_text("utf-8")
    return parse_weight_bands(tomllib.loads(text), SOURCE)


def parse_weight_bands(data: dict[str, Any], source: str) -> WeightBands:
    """Validate the band tables: ascending, contiguous whole-kg bands, last one open-ended."""
    raw_tables = data.get("tables")
    if not isinstance(raw_tables, list) or not raw_tables:
        raise DataFileError(source, "tables", "must be a non-empty list of tables")
    tables = tuple(_table(raw, source, f"tables[{i}]") for i, raw in enumerate(raw_tables))
    ids = [t.id for t in tables]
    if len(set(ids)) != len(ids):
        raise DataFileError(source, "tables", "two tables share an id")
    change = data.get("weight_change", {})
    notice = change.get("notice_kg") if isinstance(change, dict) else None
    if isinstance(notice, bool) or not isinstance(notice, int | float) or notice <= 0:
        raise DataFileError(source, "weight_change.notice_kg", "must be a positive number")
    every = change.get("ask_every_days", 30) if isinstance(change, dict) else 30
    if isinstance(every, bool) or not isinstance(every, int) or every < 0:
        raise DataFileError(source, "weight_change.ask_every_days", "must be a whole number >= 0")
    return WeightBands(tables=tables, notice_kg=float(notice), ask_every_days=every)


def _table(raw: object, source: str, path: str) -> BandTable:
    if not isinstance(raw, dict):
        raise DataFileError(source, path, "must be a table")
    for key in ("id", "name", "source"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise DataFileError(source, f"{path}.{key}", "must be a non-empty string")
    verified = raw.get("verified")
    if not isinstance(verified, bool):
        raise DataFileError(source, f"{path}.verified", "must be true or false")
    raw_bands = raw.get("bands")
    if not isinstance(raw_bands, list) or not raw_bands:
        raise DataFileError(source, f"{path}.bands", "must be a non-empty list")
    bands: list[Band] = []
    for i, item in enumerate(raw_bands):
        where = f"{path}.bands[{i}]"
        if not isinstance(item, dict):
            raise DataFileError(source, where, "must be a table")
        low, high, tablets = (
            _whole(item.get("min_kg")),
            item.get("max_kg"),
            _whole(item.get("tablets")),
        )
        high_kg = _whole(high)
        if low is None or tablets is None or (high is not None and high_kg is None):
            raise DataFileError(source, where, "min_kg, max_kg and tablets must be whole numbers")
        if high_kg is not None and high_kg < low:
            raise DataFileError(source, f"{where}.max_kg", "must not be below min_kg")
        if bands and (bands[-1].max_kg is None or low != bands[-1].max_kg + 1):
            raise DataFileError(source, f"{where}.min_kg", "must follow the previous band's max_kg")
        bands.append(Band(low, high_kg, tablets))
    if bands[-1].max_kg is not None:
        raise DataFileError(source, f"{path}.bands", "the last band must be open-ended (no max_kg)")
    note = raw.get("note", "")
    return BandTable(
        id=raw["id"],
        name=raw["name"],
        source=raw["source"],
        verified=verified,
        note=note if isinstance(note, str) else "",
        bands=tuple(bands),
    )


def _whole(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None
