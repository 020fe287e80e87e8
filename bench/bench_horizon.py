"""The planner's cost per patient against the days since the treatment started.

Run: ``.venv/bin/python -m bench horizon``.

The planner (`scheduler.planning`) wants one patient's slots for the next 24 hours. The naive
way, what it did before, walks every slot since the start of treatment and throws away those
already past (`iter_slots` then a filter); ours passes the horizon's first day
(`iter_slots(..., since=...)`), and the stretch before it is counted by weekday arithmetic
(step 7 of `iter_slots`). Both in the same process, one after the other; CPU time
(`time.process_time`) per patient, median of 7 rounds of 300 patients. The patient: 2HRZE/4HR
once a day in Europe/Berlin (two clock changes a year), 3 doses not taken in the first month,
started 1, 60, 180 and 365 days before "now".
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time

from treatment.enrolment import Enrolment, validate
from treatment.plan import SLOT_DATE_BEFORE_UTC, DoseSlot, iter_slots

ROUNDS = 7
PATIENTS = 300
NOW = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
AGES = (1, 60, 180, 365)


def _patient(age_days: int) -> tuple[Enrolment, frozenset[str]]:
    start = NOW.date() - timedelta(days=age_days)
    enrolment = validate(
        Enrolment(
            regimen_id="2HRZE/4HR",
            start=start,
            times=(clock_time(8, 0),),
            zone="Europe/Berlin",
            weight_kg=55,
        ),
        None,
        None,
    )
    missed = frozenset(f"{start + timedelta(days=d)}#0" for d in (3, 11, 20) if d < age_days)
    return enrolment, missed


def naive(enrolment: Enrolment, not_taken: frozenset[str]) -> list[DoseSlot]:
    end = NOW + timedelta(hours=24)
    out = []
    for slot in iter_slots(enrolment, not_taken=not_taken):
        if slot.utc >= end:
            break
        if slot.utc >= NOW:
            out.append(slot)
    return out


def ours(enrolment: Enrolment, not_taken: frozenset[str]) -> list[DoseSlot]:
    end = NOW + timedelta(hours=24)
    since = NOW.date() - SLOT_DATE_BEFORE_UTC
    out = []
    for slot in iter_slots(enrolment, not_taken=not_taken, since=since):
        if slot.utc >= end:
            break
        if slot.utc >= NOW:
            out.append(slot)
    return out


def _per_patient(plan: Callable[[Enrolment, frozenset[str]], list[DoseSlot]], age: int) -> float:
    enrolment, missed = _patient(age)
    plan(enrolment, missed)  # warm the caches (catalogue, zone, clock changes)
    rounds = []
    for _ in range(ROUNDS):
        began = time.process_time()
        for _ in range(PATIENTS):
            plan(enrolment, missed)
        rounds.append((time.process_time() - began) / PATIENTS)
    return statistics.median(rounds)


def main() -> None:
    print(f"planning one patient's next 24 hours, CPU per patient, median of {ROUNDS} rounds:")
    for age in AGES:
        enrolment, missed = _patient(age)
        assert naive(enrolment, missed) == ours(enrolment, missed)
        before = _per_patient(naive, age)
        after = _per_patient(ours, age)
        print(
            f"  started {age:>3} days ago: walk from the start {before * 1e6:6.0f} us, "
            f"from the horizon {after * 1e6:5.0f} us ({before / after:.1f}x)"
        )


if __name__ == "__main__":
    main()
