"""Plan and adherence summary for one patient on a 9-month, twice-daily regimen.

The patient misses 100 random doses. The benchmark times (a) generating the whole plan with
those doses not counted, and (b) `summarise` at the end of treatment, which generates that
same plan itself and then counts doses, percentages, streak, lapses and the interruption and
bedaquiline rules. (b) is therefore the cost of "plan and adherence summary" for one patient;
the target is under 5 ms.
"""

from __future__ import annotations

import random
import statistics
import time
from datetime import date, timedelta

from treatment.adherence import summarise
from treatment.catalogue import custom_regimen
from treatment.enrolment import Enrolment, enrol
from treatment.events import DoseEvent, EventKind
from treatment.plan import iter_slots

PATIENTS = 200
MISSED = 100
DOSES = 2 * 274  # twice daily for 9 months (274 days from 1 March to 30 November)


def _patient() -> Enrolment:
    regimen = custom_regimen(
        {
            "id": "custom-bench",
            "name": "Twice daily for 9 months",
            "doses_per_day": 2,
            "window": {"months": 12},
            "phases": [
                {
                    "name": "intensive",
                    "kind": "intensive",
                    "doses_required": 2 * 60,
                    "window": {"months": 3},
                    "drugs": [{"name": "drug-a", "mg": 250, "tablets": 1}],
                },
                {
                    "name": "continuation",
                    "kind": "continuation",
                    "doses_required": DOSES - 2 * 60,
                    "drugs": [{"name": "drug-b", "mg": 100, "tablets": 2}],
                },
            ],
        }
    )
    start = date(2026, 3, 1)
    return enrol(
        regimen=regimen,
        start=start,
        times=["08:00", "20:00"],
        zone="Europe/Berlin",
        today=start,
    )


def _events(enrolment: Enrolment, rng: random.Random) -> list[DoseEvent]:
    """Every slot answered; 100 random ones missed (the course grows by 100 slots)."""
    first = list(iter_slots(enrolment))
    missed = {slot.key for slot in rng.sample(first, MISSED)}
    slots = list(iter_slots(enrolment, not_taken=missed))
    return [
        DoseEvent(s.key, EventKind.MISSED)
        if s.key in missed
        else DoseEvent(s.key, EventKind.TAKEN, s.utc + timedelta(minutes=rng.randint(0, 90)))
        for s in slots
    ]


def main() -> None:
    rng = random.Random(7)
    enrolment = _patient()
    histories = [_events(enrolment, rng) for _ in range(PATIENTS)]
    ends = [max(e.at for e in h if e.at is not None) + timedelta(days=1) for h in histories]
    plan_ms: list[float] = []
    summary_ms: list[float] = []
    for events, now in zip(histories, ends, strict=True):
        missed = {e.key for e in events if e.kind is EventKind.MISSED}
        started = time.perf_counter()
        slots = list(iter_slots(enrolment, not_taken=missed))
        planned = time.perf_counter()
        summary = summarise(enrolment, events, now)
        finished = time.perf_counter()
        assert len(slots) == DOSES + MISSED
        assert summary.doses_taken == DOSES and summary.complete
        assert summary.projected_completion == slots[-1].local_date
        plan_ms.append((planned - started) * 1000)
        summary_ms.append((finished - planned) * 1000)
    print(f"patients: {PATIENTS}, slots each: {DOSES + MISSED} ({MISSED} missed)")
    for name, values in (
        ("iter_slots, whole plan", plan_ms),
        ("summarise (builds the plan itself, then counts and applies the rules)", summary_ms),
    ):
        print(
            f"{name}: median {statistics.median(values):.2f} ms, "
            f"p95 {statistics.quantiles(values, n=20)[18]:.2f} ms"
        )
    target = "met" if statistics.median(summary_ms) < 5 else "NOT met"
    print(f"target under 5 ms per patient for plan + summary (one summarise call): {target}")
