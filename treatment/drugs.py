"""The drug catalogue: the TB medicines a regimen may name (`treatment/data/drugs.toml`).

Ids are the WHO abbreviations (H, R, Z, E, P, Bdq, Pa, Lzd, Mfx, Lfx, Cfz, Dlm, Cs, Eto, Am,
...); regimen files name a drug by its English generic name ("bedaquiline"). `lookup` accepts
either, so an operator's file may say `name = "Bdq"`, and a regimen stores the generic name.
Every entry names a source; strengths that could not be confirmed are `verified = false`.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from treatment.errors import DataFileError

SOURCE = "treatment/data/drugs.toml"
LANGUAGES = ("en", "ko", "zh_Hans")
GROUPS = ("first-line", "A", "B", "C", "other")
AS_PRESCRIBED = "Rx"
"""The catalogue entry that stands for "my medicines, as my clinician told me"."""


@dataclass(frozen=True, slots=True)
class Strength:
    mg: float
    form: str


@dataclass(frozen=True, slots=True)
class DrugInfo:
    id: str
    name: str
    names: Mapping[str, str]
    group: str
    source: str
    strengths: tuple[Strength, ...] = ()
    also_group: str | None = None
    qt_prolonging: bool = False
    loading_dose: bool = False
    verified: bool = True
    note: str = ""

    def local_name(self, language: str) -> str:
        return self.names.get(language) or self.names["en"]


@dataclass(frozen=True, slots=True)
class Combination:
    """A fixed-dose combination product: mg of each drug (by id) in one tablet."""

    id: str
    contains: tuple[tuple[str, float], ...]
    source: str
    verified: bool = True
    note: str = ""


@dataclass(frozen=True)
class DrugCatalogue:
    drugs: tuple[DrugInfo, ...]
    combinations: tuple[Combination, ...]

    def __iter__(self) -> Iterator[DrugInfo]:
        return iter(self.drugs)

    def __len__(self) -> int:
        return len(self.drugs)

    @functools.cached_property
    def _index(self) -> dict[str, DrugInfo]:
        index: dict[str, DrugInfo] = {}
        for drug in self.drugs:
            index[drug.id.casefold()] = drug
            index[drug.name.casefold()] = drug
        return index

    def lookup(self, token: str) -> DrugInfo | None:
        """The drug a WHO abbreviation or English generic name means (any case), or None."""
        return self._index.get(token.strip().casefold())

    def get(self, drug_id: str) -> DrugInfo:
        found = self.lookup(drug_id)
        if found is None:
            raise KeyError(drug_id)
        return found

    def id_of(self, name: str) -> str | None:
        """The WHO abbreviation of a drug named in a regimen, for callers that key by id."""
        found = self.lookup(name)
        return None if found is None else found.id

    def pickable(self) -> tuple[DrugInfo, ...]:
        """The drugs a patient may pick from a numbered list, in file order (not `Rx`)."""
        return tuple(d for d in self.drugs if d.id != AS_PRESCRIBED)

    def combinations_with(self, drug_id: str) -> tuple[Combination, ...]:
        return tuple(c for c in self.combinations if any(i == drug_id for i, _ in c.contains))


@functools.cache
def load_drugs() -> DrugCatalogue:
    text = resources.files("treatment").joinpath("data", "drugs.toml").read_text("utf-8")
    return parse_drugs(tomllib.loads(text))


def parse_drugs(data: Mapping[str, Any]) -> DrugCatalogue:
    """Validate the catalogue: unique ids and names, three languages, a source each."""
    unknown = set(data) - {"drugs", "combinations"}
    if unknown:
        raise DataFileError(SOURCE, sorted(unknown)[0], "unknown key; allowed: drugs, combinations")
    drugs = tuple(_drug(item, f"drugs[{i}]") for i, item in enumerate(data.get("drugs", [])))
    if not drugs:
        raise DataFileError(SOURCE, "drugs", "the catalogue holds no drug")
    seen: set[str] = set()
    for i, drug in enumerate(drugs):
        for key in (drug.id.casefold(), drug.name.casefold()):
            if key in seen:
                raise DataFileError(SOURCE, f"drugs[{i}]", f"{key!r} is defined twice")
            seen.add(key)
    ids = {d.id for d in drugs}
    combinations = tuple(
        _combination(item, f"combinations[{i}]", ids)
        for i, item in enumerate(data.get("combinations", []))
    )
    return DrugCatalogue(drugs, combinations)


_DRUG_KEYS = {
    "id",
    "name",
    "names",
    "group",
    "also_group",
    "strengths",
    "qt_prolonging",
    "loading_dose",
    "source",
    "verified",
    "note",
}


def _text(item: Mapping[str, Any], key: str, where: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        raise DataFileError(SOURCE, f"{where}.{key}", "must be a non-empty string")
    return value


def _drug(item: Any, where: str) -> DrugInfo:
    if not isinstance(item, Mapping):
        raise DataFileError(SOURCE, where, "must be a table")
    unknown = set(item) - _DRUG_KEYS
    if unknown:
        raise DataFileError(SOURCE, f"{where}.{sorted(unknown)[0]}", "unknown key")
    names = item.get("names")
    if not isinstance(names, Mapping) or set(names) != set(LANGUAGES):
        raise DataFileError(SOURCE, f"{where}.names", f"must give exactly {', '.join(LANGUAGES)}")
    if not all(isinstance(v, str) and v.strip() for v in names.values()):
        raise DataFileError(SOURCE, f"{where}.names", "every name must be a non-empty string")
    group = _text(item, "group", where)
    also = item.get("also_group")
    if group not in GROUPS or (also is not None and also not in GROUPS):
        raise DataFileError(SOURCE, f"{where}.group", f"must be one of {', '.join(GROUPS)}")
    strengths = []
    for j, raw in enumerate(item.get("strengths", [])):
        mg = raw.get("mg") if isinstance(raw, Mapping) else None
        if isinstance(mg, bool) or not isinstance(mg, int | float) or mg <= 0:
            raise DataFileError(SOURCE, f"{where}.strengths[{j}].mg", "must be mg above 0")
        strengths.append(Strength(float(mg), _text(raw, "form", f"{where}.strengths[{j}]")))
    verified = item.get("verified", True)
    note = item.get("note", "")
    if not isinstance(verified, bool) or not isinstance(note, str):
        raise DataFileError(SOURCE, f"{where}.verified", "verified is true/false, note a string")
    if not verified and not note.strip():
        raise DataFileError(SOURCE, f"{where}.note", "an unverified entry must say why")
    qt, loading = item.get("qt_prolonging", False), item.get("loading_dose", False)
    if not isinstance(qt, bool) or not isinstance(loading, bool):
        raise DataFileError(SOURCE, f"{where}.qt_prolonging", "flags must be true or false")
    return DrugInfo(
        id=_text(item, "id", where),
        name=_text(item, "name", where),
        names=dict(names),
        group=group,
        also_group=also,
        source=_text(item, "source", where),
        strengths=tuple(strengths),
        qt_prolonging=qt,
        loading_dose=loading,
        verified=verified,
        note=note,
    )


def _combination(item: Any, where: str, ids: set[str]) -> Combination:
    if not isinstance(item, Mapping):
        raise DataFileError(SOURCE, where, "must be a table")
    contains = item.get("contains")
    if not isinstance(contains, Mapping) or len(contains) < 2:
        raise DataFileError(SOURCE, f"{where}.contains", "a combination holds two drugs or more")
    for drug_id, mg in contains.items():
        if drug_id not in ids:
            raise DataFileError(SOURCE, f"{where}.contains.{drug_id}", "not a catalogue drug id")
        if isinstance(mg, bool) or not isinstance(mg, int | float) or mg <= 0:
            raise DataFileError(SOURCE, f"{where}.contains.{drug_id}", "must be mg above 0")
    verified = item.get("verified", True)
    note = item.get("note", "")
    if not verified and not str(note).strip():
        raise DataFileError(SOURCE, f"{where}.note", "an unverified entry must say why")
    return Combination(
        id=_text(item, "id", where),
        contains=tuple((str(k), float(v)) for k, v in contains.items()),
        source=_text(item, "source", where),
        verified=bool(verified),
        note=str(note),
    )
