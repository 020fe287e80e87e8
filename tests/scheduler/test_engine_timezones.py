"""Patients in Shanghai, New York and Lord Howe Island, across each DST change of 2026.

Lord Howe moves its clocks by 30 minutes, New York by an hour, Shanghai not at all. Each case
runs the engine for four simulated days around one change (jumping the fake clock from one due
instant to the next, with the hourly horizon job) and checks that every dose of the plan was
reminded exactly once, at its due instant, at the wall time the patient chose (or, for a time
the clocks skipped, the first instant after the gap).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler.clock import FakeClock
from storage.store import Store
from tests.scheduler.engine_support import enrol_patient, make_engine, outbox_of, plan, run_until
from treatment.plan import slots_between

# (case, first local day, {zone: dose times}, {zone: (local date, expected wall times)})
CASES = [
    (
        "new-york-springs-forward",  # 2026-03-08 02:00 EST -> 03:00 EDT: 02:30 does not exist
        date(2026, 3, 6),
        {
            "America/New_York": ["02:30", "20:00"],
            "Asia/Shanghai": ["08:00", "20:00"],
            "Australia/Lord_Howe": ["07:00", "19:00"],
        },
        {"America/New_York": (date(2026, 3, 8), ["03:00", "20:00"])},
    ),
    (
        "lord-howe-falls-back",  # 2026-04-05 02:00 -> 01:30: 01:45 happens twice
        date(2026, 4, 3),
        {
            "Australia/Lord_Howe": ["01:45", "19:00"],
            "Asia/Shanghai": ["08:00", "20:00"],
            "America/New_York": ["08:00", "21:00"],
        },
        {"Australia/Lord_Howe": (date(2026, 4, 5), ["01:45", "19:00"])},
    ),
    (
        "lord-howe-springs-forward",  # 2026-10-04 02:00 -> 02:30: 02:15 does not exist
        date(2026, 10, 2),
        {
            "Australia/Lord_Howe": ["02:15", "19:00"],
            "Asia/Shanghai": ["08:00", "20:00"],
            "America/New_York": ["08:00", "21:00"],
        },
        {"Australia/Lord_Howe": (date(2026, 10, 4), ["02:30", "19:00"])},
    ),
    (
        "new-york-falls-back",  # 2026-11-01 02:00 EDT -> 01:00 EST: 01:30 happens twice
        date(2026, 10, 30),
        {
            "America/New_York": ["01:30", "20:00"],
            "Asia/Shanghai": ["08:00", "20:00"],
            "Australia/Lord_Howe": ["07:00", "19:00"],
        },
        {"America/New_York": (date(2026, 11, 1), ["01:30", "20:00"])},
    ),
]


@pytest.mark.parametrize(
    ("start", "times", "checks"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
async def test_each_reminder_once_at_the_right_local_time_across_dst(
    store: Store,
    start: date,
    times: dict[str, list[str]],
    checks: dict[str, tuple[date, list[str]]],
) -> None:
    # Start a day early in UTC so every zone's first local morning is still ahead.
    begin = datetime.combine(start, datetime.min.time(), tzinfo=UTC) - timedelta(days=1)
    end = begin + timedelta(days=5)
    clock = FakeClock(begin)
    # No nudges: this test is about reminders; nudges are covered elsewhere.
    engine = make_engine(store, clock, nudges=())
    people = {
        zone: await enrol_patient(
            store,
            engine,
            clock.now(),
            alias=zone,
            zone=zone,
            times=dose_times,
            start=start,
            chat_id=3000 + n,
        )
        for n, (zone, dose_times) in enumerate(times.items())
    }
    await run_until(engine, clock, end)

    for zone, person in people.items():
        expected = list(slots_between(plan(zone, times[zone], start), begin, end))
        rows = [r for r in await outbox_of(store, person.patient.id) if r.kind == "reminder"]
        per_slot = Counter(r.dedupe_key for r in rows)
        assert all(count == 1 for count in per_slot.values()), per_slot
        # Written at the due instant (the clock jumps exactly there), once per planned dose.
        sent_at = sorted(r.not_before for r in rows if r.not_before < end)
        assert sent_at == [slot.utc for slot in expected if slot.utc < end]
        assert len(sent_at) >= 7  # about four local days, two doses each
        if zone in checks:
            day, wall = checks[zone]
            local = [
                at.astimezone(ZoneInfo(zone)).strftime("%H:%M")
                for at in sent_at
                if at.astimezone(ZoneInfo(zone)).date() == day
            ]
            assert local == wall
        else:
            local = {at.astimezone(ZoneInfo(zone)).strftime("%H:%M") for at in sent_at}
            assert local == set(times[zone])
