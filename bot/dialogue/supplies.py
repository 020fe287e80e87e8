"""Counting tablets: which products a plan uses, how fast, and how long a count lasts."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from storage.records import DoseSlot
from treatment.enrolment import Enrolment
from treatment.plan import DrugDose, iter_slots, slots_between
from treatment.stock import DoseTablets, tablets_by_product


def plan_supplies(plan: Enrolment, now: datetime) -> tuple[list[str], dict[str, float]]:
    """The products the plan uses now, in order, and the tablets of each used per day
    (averaged over the coming week, so weekly regimens count right too).

    "Now" is the coming week: a product of a phase still to come, or of one that is over, is
    not offered for counting. While nothing is due this week (a pause), the next dose's
    products are."""
    week: dict[str, float] = {}
    for planned in slots_between(plan, now, now + timedelta(days=7)):
        for product, tablets in tablets_by_product(dose_tablets(planned.drugs)).items():
            week[product] = week.get(product, 0.0) + tablets
    if week:
        return list(week), {product: tablets / 7 for product, tablets in week.items()}
    upcoming = next((s for s in iter_slots(plan) if s.utc >= now), None)
    products = [] if upcoming is None else list(tablets_by_product(dose_tablets(upcoming.drugs)))
    return products, {}


def dose_tablets(drugs: Iterable[DrugDose]) -> list[DoseTablets]:
    return [DoseTablets(d.name, d.tablets, d.combined) for d in drugs]


def tablets_of(slot: DoseSlot) -> dict[str, float]:
    """The tablets a stored slot's dose uses, per product (see `scheduler.doses.dose_json`)."""
    drugs = slot.dose.get("drugs", [])
    return tablets_by_product(
        DoseTablets(d["name"], d.get("tablets"), bool(d.get("combined"))) for d in drugs
    )


def days_left(counts: Mapping[str, int], per_day: Mapping[str, float]) -> dict[str, int | None]:
    """Whole days each count lasts at the current use; None for a product not used now."""
    return {
        product: (math.floor(count / per_day[product]) if per_day.get(product) else None)
        for product, count in counts.items()
    }


def running_low(
    counts: Mapping[str, int], per_day: Mapping[str, float], warn_days: int, among: Iterable[str]
) -> dict[str, int]:
    """The products among `among` whose count lasts `warn_days` or fewer at the current use,
    with the days each lasts (a product not used now never runs low)."""
    lasting = days_left(counts, per_day)
    return {
        product: days
        for product in sorted(among)
        if (days := lasting.get(product)) is not None and days <= warn_days
    }
