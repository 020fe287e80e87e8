"""`tbbot plan`: print the dose plan of a regimen for a start date, times and zone.

`--file` reads a custom regimen (format: `treatment/custom.py`), so a clinician can check the
plan of a prescription before the patient starts; a file that fails says which field and why.
"""

from __future__ import annotations

import argparse
import itertools
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bot.errors import UsageError
from bot.flows.dose_lines import product_line
from bot.i18n import translator
from treatment.custom import load_custom_toml
from treatment.doses import DrugDose, ProductDose, dose_for_step, dose_notices
from treatment.enrolment import Enrolment, enrol, parse_date
from treatment.errors import TreatmentError
from treatment.plan import DoseSlot, iter_slots
from treatment.regimen import COMBINATION, WEEKDAY_NAMES, DoseStep, Regimen
from treatment.weight import load_weight_bands

DEFAULT_SLOTS = 10
MAX_SLOTS = 2000


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "plan",
        help="show the dose plan of a regimen",
        description=(
            "Show the phases, doses and first dose times of a regimen, and the projected "
            "completion date given missed dates. Doses are counted: each missed dose moves "
            "the end later."
        ),
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--regimen", help="regimen id (see `tbbot regimens`)")
    which.add_argument(
        "--file",
        type=Path,
        metavar="TOML",
        help="a custom regimen file (drugs from `tbbot drugs`; see docs/regimens.md)",
    )
    parser.add_argument("--start", required=True, metavar="YYYY-MM-DD", help="first dose date")
    parser.add_argument(
        "--times", required=True, metavar="HH:MM[,HH:MM]", help="local dose times, comma separated"
    )
    parser.add_argument("--tz", required=True, metavar="ZONE", help="IANA time zone")
    parser.add_argument("--weight", type=float, metavar="KG", help="body weight (3 to 250 kg)")
    parser.add_argument("--band-table", metavar="ID", help="weight band table (default: first)")
    parser.add_argument(
        "--products",
        metavar="ID",
        help=f"the product set the patient holds (default: {COMBINATION}; see `tbbot regimens`)",
    )
    parser.add_argument(
        "--missed",
        nargs="+",
        action="extend",
        default=[],
        metavar="YYYY-MM-DD",
        help="dates whose doses were missed",
    )
    parser.add_argument(
        "--slots",
        type=int,
        default=DEFAULT_SLOTS,
        metavar="N",
        help=f"how many dose slots to list (default {DEFAULT_SLOTS})",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    today = datetime.now(UTC).date()
    if not 0 <= args.slots <= MAX_SLOTS:
        raise UsageError(f"--slots {args.slots} is out of range; allowed: 0 to {MAX_SLOTS}")
    try:
        start = parse_date(args.start, "start")
        regimen = args.regimen if args.file is None else _read_file(args.file, start)
        enrolment = enrol(
            regimen=regimen,
            start=start,
            times=[part.strip() for part in args.times.split(",")],
            zone=args.tz,
            today=today,
            weight_kg=args.weight,
            band_table=args.band_table,
            product_set=args.products,
        )
        missed = {parse_date(value, "missed") for value in args.missed}
    except TreatmentError as exc:
        raise UsageError(exc.message) from None
    report = build_report(enrolment, missed, args.slots)
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print_report(report)
    return 0


def _read_file(path: Path, start: date) -> Regimen:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--file {path}: cannot read it ({exc.__class__.__name__})") from None
    return load_custom_toml(text, path.name, start)


def build_report(enrolment: Enrolment, missed: set[date], slot_count: int) -> dict[str, Any]:
    """The plan as JSON-ready data; raises `UsageError` for a missed date without a dose."""
    regimen = enrolment.regimen()
    not_taken = {f"{day.isoformat()}#{i}" for day in missed for i in range(len(enrolment.times))}
    slots = list(iter_slots(enrolment, not_taken=not_taken))
    planned_days = {slot.local_date for slot in slots}
    unplanned = sorted(missed - planned_days)
    if unplanned:
        raise UsageError(
            f"--missed {unplanned[0].isoformat()} has no planned dose; allowed: dates of planned "
            f"doses from {slots[0].local_date.isoformat()} to {slots[-1].local_date.isoformat()}"
        )
    window = regimen.window
    return {
        "regimen": regimen.id,
        "custom": regimen.custom,
        "name": regimen.name,
        "source": regimen.source,
        "start": enrolment.start.isoformat(),
        "times": [t.strftime("%H:%M") for t in enrolment.times],
        "zone": enrolment.zone,
        "weight_kg": enrolment.weight_kg,
        "products": enrolment.product_set or COMBINATION,
        "doses_required": regimen.doses_required,
        "phases": _phases(regimen, enrolment, slots),
        "missed": sorted(day.isoformat() for day in missed),
        "projected_completion": slots[-1].local_date.isoformat(),
        "complete_by": _deadline(regimen, enrolment.start),
        "window_verified": window.verified if window else False,
        "window_note": window.note if window else "",
        "notices": [str(code) for code in dose_notices(enrolment)],
        "slots": [_slot(slot) for slot in itertools.islice(slots, slot_count)],
    }


def _deadline(regimen: Regimen, start: date) -> str | None:
    deadline = regimen.window.deadline(start) if regimen.window else None
    return deadline.isoformat() if deadline else None


def _phases(regimen: Regimen, enrolment: Enrolment, slots: list[DoseSlot]) -> list[dict[str, Any]]:
    """Per phase: its doses, the drugs with their schedule, and the products in the hand
    (each way the phase's doses are taken, in order: BPaLM's loading and three-times-a-week
    bedaquiline are two)."""
    table = load_weight_bands().table(enrolment.band_table)
    held: dict[str, dict[ProductDose, None]] = {}
    for slot in slots:
        seen = held.setdefault(slot.phase, {})
        for product in slot.products:
            seen.setdefault(product, None)
    phases = []
    for phase in regimen.phases:
        drugs = []
        for drug in phase.drugs:
            elapsed = 0
            for number, step in enumerate(drug.steps):
                dose = dose_for_step(drug.name, step, enrolment.weight_kg, table, number)
                entry = {**_dose(dose), **_schedule(step, elapsed)}
                elapsed += step.for_days or 0
                if dose.mg is None and dose.tablets is not None:
                    # A prescription that gives tablets but no strength (custom regimens).
                    entry["tablets"] = _number(dose.tablets)
                drugs.append(entry)
        phases.append(
            {
                "name": phase.name,
                "kind": phase.kind.value,
                "doses_required": phase.doses_required,
                "pattern": phase.pattern.kind.value,
                "weekdays": [WEEKDAY_NAMES[d] for d in phase.pattern.weekdays],
                "products": [_product(p) for p in held.get(phase.name, {})],
                "drugs": drugs,
            }
        )
    return phases


def _product(product: ProductDose) -> dict[str, Any]:
    """A product as JSON: tablets per dose and what one tablet contains."""
    return {
        "name": product.name,
        "tablets_per_dose": _number(product.tablets),
        "each_tablet": [{"drug": drug, "mg": _number(mg)} for drug, mg in product.contains],
        "mg_per_dose": _number(product.mg),
        "text": product_line(translator("en"), product),
    }


def _schedule(step: DoseStep, elapsed: int) -> dict[str, Any]:
    """When in the phase a step applies: `from_day` (1 = the phase's first day) after an
    earlier step, `for_days` when it ends before the phase does."""
    out: dict[str, Any] = {}
    if elapsed:
        out["from_day"] = elapsed + 1
    if step.for_days is not None:
        out["for_days"] = step.for_days
    if step.weekdays:
        out["weekdays"] = [WEEKDAY_NAMES[d] for d in step.weekdays]
    return out


def _number(value: float | None) -> float | int | None:
    if value is not None and float(value).is_integer():
        return int(value)
    return value


def _dose(dose: DrugDose) -> dict[str, Any]:
    """A drug's mg per dose. Its tablets are the products' (a combination's count is shared
    by its drugs: listing it per drug would read as several times the dose)."""
    return {"name": dose.name, "mg": _number(dose.mg)}


def _slot(slot: DoseSlot) -> dict[str, Any]:
    return {
        "key": slot.key,
        "phase": slot.phase,
        "local": slot.local.isoformat(),
        "utc": slot.utc.isoformat(),
        "products": [_product(product) for product in slot.products],
        "drugs": [_dose(dose) for dose in slot.drugs],
    }


def print_report(report: dict[str, Any]) -> None:
    print(f"{report['regimen']}: {report['name']}")
    if report["custom"]:
        print("custom regimen: check every line against the prescription before starting")
    print(f"source: {report['source']}")
    print(
        f"start {report['start']} at {', '.join(report['times'])} ({report['zone']}), "
        f"{report['doses_required']} doses"
    )
    for phase in report["phases"]:
        print(
            f"\n  {phase['name']} ({phase['kind']}): {phase['doses_required']} doses, "
            f"{phase['pattern']} {' '.join(phase['weekdays'])}".rstrip()
        )
        for product in phase["products"]:
            print(f"    {product['text']}")
        for drug in phase["drugs"]:
            when = []
            first = drug.get("from_day", 1)
            if "for_days" in drug and first == 1:
                when.append(f"first {drug['for_days']} days")
            elif "for_days" in drug:
                when.append(f"days {first} to {first + drug['for_days'] - 1}")
            elif first > 1:
                when.append(f"from day {first}")
            if "weekdays" in drug:
                when.append(" ".join(drug["weekdays"]))
            suffix = f"  ({'; '.join(when)})" if when else ""
            print(f"      = {drug['name']:<14} {_dose_text(drug)}{suffix}")
    if report["missed"]:
        print(f"\nmissed: {', '.join(report['missed'])}")
    print(f"\nprojected completion: {report['projected_completion']}")
    deadline = report["complete_by"] or "not set"
    verified = "" if report["window_verified"] else " (not verified: configurable)"
    print(f"complete by:          {deadline}{verified}")
    for notice in report["notices"]:
        print(f"notice: {notice}")
    if report["slots"]:
        print(f"\n  {'local time':<25} {'UTC':<25} phase: what to take")
        for slot in report["slots"]:
            held = "; ".join(p["text"] for p in slot["products"])
            print(f"  {slot['local']:<25} {slot['utc']:<25} {slot['phase']}: {held}")


def _dose_text(drug: dict[str, Any]) -> str:
    if drug["mg"] is None and "tablets" in drug:
        return f"{drug['tablets']} tablet(s) per dose"
    if drug["mg"] is None:
        return "as prescribed"
    return f"{drug['mg']} mg per dose"
