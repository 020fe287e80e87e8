"""Pill stock: tablets bought, tablets used by taken doses, and when to buy more.

Patients who buy their medicine at a pharmacy run out without warning. The ledger counts per
tablet type (a fixed-dose combination is one type). It never goes silently below zero: when
recorded doses use more tablets than were recorded as bought, the balance stops at zero and
`needs_recount` asks the patient to count what is left.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from treatment.errors import TreatmentError

MAX_TABLETS = 10_000  # no pharmacy sells more at once; larger numbers are typing mistakes
REFILL_WARNING_DAYS = 7  # default, the patient can change it


class Movement(enum.StrEnum):
    BOUGHT = "bought"  # tablets added
    RECOUNT = "recount"  # the patient counted what is left: the balance becomes this
    USED = "used"  # a taken dose used these tablets


@dataclass(frozen=True, slots=True)
class StockEvent:
    at: datetime
    tablet: str
    movement: Movement
    count: int

    def __post_init__(self) -> None:
        if not 0 <= self.count <= MAX_TABLETS:
            raise TreatmentError(
                "stock_count_range",
                f"a stock count is a whole number from 0 to {MAX_TABLETS}",
                field="count",
            )


@dataclass(frozen=True, slots=True)
class Balance:
    tablet: str
    tablets: int
    needs_recount: bool  # doses used tablets the ledger did not have

    def days_left(self, tablets_per_day: float) -> int | None:
        """Whole days the stock lasts at this use; None when nothing is used."""
        if tablets_per_day <= 0:
            return None
        return math.floor(self.tablets / tablets_per_day)

    def runs_out_on(self, today: date, tablets_per_day: float) -> date | None:
        days = self.days_left(tablets_per_day)
        return None if days is None else today + timedelta(days=days)

    def refill_due(self, tablets_per_day: float, warn_days: int = REFILL_WARNING_DAYS) -> bool:
        days = self.days_left(tablets_per_day)
        return days is not None and days <= warn_days


def balances(events: Iterable[StockEvent]) -> dict[str, Balance]:
    """Replay the ledger, in time order, into one balance per tablet type.

    Steps:
    1. BOUGHT adds; RECOUNT sets the balance and clears any shortfall; USED subtracts.
    2. A USED that takes the balance below zero stops it at zero and flags a recount: the
       patient took doses from tablets we did not know about, and only they can say how many
       are left.
    """
    tablets: dict[str, int] = {}
    short: dict[str, bool] = {}
    for event in sorted(events, key=lambda e: e.at):
        current = tablets.get(event.tablet, 0)
        if event.movement is Movement.BOUGHT:
            current += event.count
        elif event.movement is Movement.RECOUNT:
            current = event.count
            short[event.tablet] = False
        elif current < event.count:
            current = 0
            short[event.tablet] = True
        else:
            current -= event.count
        tablets[event.tablet] = current
        short.setdefault(event.tablet, False)
    return {name: Balance(name, count, short[name]) for name, count in tablets.items()}


def tablets_by_product(products: Iterable[tuple[str, float | None]]) -> dict[str, float]:
    """The tablets one dose uses, per product a patient buys, from ``(product, tablets)``.

    A fixed-dose combination is one product (`treatment.doses.ProductDose`): its count is the
    band's, never one per drug in it. A product the same dose lists twice adds up; one with no
    count ("as prescribed", weight unknown) is not tracked.
    """
    used: dict[str, float] = {}
    for name, tablets in products:
        if tablets is not None:
            used[name] = used.get(name, 0.0) + tablets
    return used


def use_tablets(
    counts: Mapping[str, int], used: Mapping[str, float]
) -> tuple[dict[str, int], set[str]]:
    """Counts after a taken dose, and the products that ran short.

    Only products the patient counts are touched. A part tablet uses a whole one from the
    count (a split tablet's other half is usually kept, but not reliably). A product that
    would go below zero stops at zero and is returned as short: the patient is asked to
    count again rather than shown a made-up number.
    """
    after = dict(counts)
    short: set[str] = set()
    for product, tablets in used.items():
        if product not in after:
            continue
        needed = math.ceil(tablets)
        if needed > after[product]:
            short.add(product)
        after[product] = max(0, after[product] - needed)
    return after, short
