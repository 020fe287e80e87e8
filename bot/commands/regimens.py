"""`tbbot regimens`: list the regimen catalogue with names and sources."""

from __future__ import annotations

import argparse
import json
from typing import Any

from bot.operator_regimens import folder, load_operator_regimens
from treatment.catalogue import load_catalogue
from treatment.regimen import COMBINATION, Regimen


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "regimens",
        help="list the regimens the treatment engine knows",
        description="List the regimen catalogue: id, doses, name and source of each regimen.",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    regimens = list(load_catalogue())
    own = load_operator_regimens()
    if args.json:
        listed = [_as_json(r) for r in regimens]
        listed.extend({"id": r.slug, "name": r.name, "operator": True} for r in own)
        print(json.dumps(listed, indent=2, ensure_ascii=False))
        return 0
    width = max(len(r.id) for r in regimens)
    for regimen in regimens:
        doses = " + ".join(str(phase.doses_required) for phase in regimen.phases)
        print(f"{regimen.id:<{width}}  {doses:<9}  {regimen.name}")
        print(f"{'':<{width}}  {'':<9}  for: {regimen.population}")
        print(f"{'':<{width}}  {'':<9}  source: {regimen.source}")
        for product_set in regimen.product_sets:
            unverified = "" if product_set.verified else " (not verified: check before use)"
            print(
                f"{'':<{width}}  {'':<9}  --products {product_set.id}: {product_set.name}"
                f"{unverified}; source: {product_set.source}"
            )
    where = folder()
    if where is not None:
        # Files that fail are logged by load_operator_regimens; `tbbot plan --file` says why.
        print(f"\nthe operator's own regimens ({where}), offered in set-up after these:")
        for added in own:
            print(f"  {added.slug}: {added.name}")
        if not own:
            print("  none valid: check each file with `tbbot plan --file`")
    return 0


def _as_json(regimen: Regimen) -> dict[str, Any]:
    window = regimen.window
    return {
        "id": regimen.id,
        "name": regimen.name,
        "population": regimen.population,
        "source": regimen.source,
        "doses_per_day": regimen.doses_per_day,
        "doses_required": regimen.doses_required,
        "phases": [
            {"name": phase.name, "doses_required": phase.doses_required} for phase in regimen.phases
        ],
        "window_verified": window.verified if window else None,
        "product_sets": [
            {"id": COMBINATION, "verified": True},
            *(
                {"id": p.id, "name": p.name, "source": p.source, "verified": p.verified}
                for p in regimen.product_sets
            ),
        ],
    }
