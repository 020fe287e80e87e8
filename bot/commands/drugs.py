"""`tbbot drugs`: list the drug catalogue (ids for custom regimen files)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from treatment.drugs import DrugInfo, load_drugs


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "drugs",
        help="list the drugs a custom regimen may name",
        description=(
            "List the drug catalogue: WHO abbreviation, generic name, names in Korean and "
            "Chinese, common strengths, fixed-dose combinations and sources. A custom regimen "
            "file names drugs by abbreviation or generic name."
        ),
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    catalogue = load_drugs()
    if args.json:
        print(json.dumps([_as_json(d) for d in catalogue], indent=2, ensure_ascii=False))
        return 0
    width = max(len(d.id) for d in catalogue)
    for drug in catalogue:
        strengths = ", ".join(f"{s.mg:g} mg {s.form}" for s in drug.strengths) or "-"
        unverified = "" if drug.verified else " (strengths not verified)"
        print(f"{drug.id:<{width}}  {drug.name}  [{drug.group}]  {strengths}{unverified}")
        print(f"{'':<{width}}  ko: {drug.names['ko']}  zh: {drug.names['zh_Hans']}")
        print(f"{'':<{width}}  source: {drug.source}")
    print("\nfixed-dose combinations:")
    for combination in catalogue.combinations:
        contents = " / ".join(f"{i} {mg:g} mg" for i, mg in combination.contains)
        unverified = "" if combination.verified else " (not verified)"
        print(f"  {combination.id}: {contents}{unverified}; source: {combination.source}")
    return 0


def _as_json(drug: DrugInfo) -> dict[str, Any]:
    return {
        "id": drug.id,
        "name": drug.name,
        "names": dict(drug.names),
        "group": drug.group,
        "also_group": drug.also_group,
        "qt_prolonging": drug.qt_prolonging,
        "strengths": [{"mg": s.mg, "form": s.form} for s in drug.strengths],
        "combinations": [c.id for c in load_drugs().combinations_with(drug.id)],
        "source": drug.source,
        "verified": drug.verified,
        "note": drug.note,
    }
