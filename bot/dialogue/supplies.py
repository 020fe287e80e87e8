"""Counting tablets: which products a plan uses, how fast, and how long a count lasts.

How long a count lasts and when to buy more are the domain's (`treatment.stock.Balance`);
this module only reads the plan and the stored counts for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from scheduler.doses import DoseSnapshot
from storage.records import DoseSlot
from treatment.enrolment import Enrolment
from treatment.plan import DrugDose, iter_slots, slots_between
from treatment.stock import Balance, DoseTablets, tablets_by_product


def plan_supplies(plan: Enrolment, now: datetime) -> tuple[list[str], dict[str, float]]:
    """The products the plan uses, in order, and the tablets of each used per day now
    (averaged over the coming week, so weekly regimens count right too)."""
    products: list[str] = []
    for planned in iter_slots(plan):
        for product in tablets_by_product(dose_tablets(planned.drugs)):
            if product not in products:
                products.append(product)
    week: dict[str, float] = {}
    for planned in slots_between(plan, now, now + timedelta(days=7)):
        for product, tablets in tablets_by_product(dose_tablets(planned.drugs)).items():
            week[product] = week.get(product, 0.0) + tablets
    return products, {product: tablets / 7 for product, tablets in week.items()}


def dose_tablets(drugs: Iterable[DrugDose]) -> list[DoseTablets]:
    return [DoseTablets(d.name, d.tablets, d.combined) for d in drugs]


def tablets_of(slot: DoseSlot) -> dict[str, float]:
    """The tablets a stored slot's dose uses, per product."""
    return DoseSnapshot.of(slot).tablets()


def _balances(counts: Mapping[str, int]) -> dict[str, Balance]:
    # The stored counts are what the patient counted, less the doses since: never short.
    return {
        product: Balance(product, count, needs_recount=False) for product, count in counts.items()
    }


def days_left(counts: Mapping[str, int], per_day: Mapping[str, float]) -> dict[str, int | None]:
    """Whole days each count lasts at the current use; None for a product not used now."""
    return {
        product: balance.days_left(per_day.get(product, 0.0))
        for product, balance in _balances(counts).items()
    }


def refills_due(
    counts: Mapping[str, int],
    per_day: Mapping[str, float],
    products: Iterable[str],
    warn_days: int,
) -> list[str]:
    """Which of `products` the patient counts and should buy more of now."""
    balances = _balances(counts)
    return [
        product
        for product in products
        if product in balances
        and balances[product].refill_due(per_day.get(product, 0.0), warn_days)
    ]
