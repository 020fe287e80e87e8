"""Visit reminders: their wall times through both changes of clocks, and the timer's claim."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.outbox import Payload
from scheduler.visits import Step, Visit, VisitKind, VisitTimers, first_reminder
from storage.records import Patient
from storage.store import Store


def berlin(*args: int) -> Visit:
    return Visit(VisitKind.SPUTUM, datetime(*args), "Europe/Berlin")  # type: ignore[arg-type]


def test_reminders_keep_their_wall_times_when_the_clocks_go_forward() -> None:
    visit = berlin(2026, 3, 29, 9, 30)
    assert visit.reminders() == [
        (Step.DAY_BEFORE, datetime(2026, 3, 28, 17, 0, tzinfo=UTC)),  # 18:00 CET
        (Step.MORNING, datetime(2026, 3, 29, 5, 0, tzinfo=UTC)),  # 07:00 CEST
    ]


def test_reminders_keep_their_wall_times_when_the_clocks_go_back() -> None:
    visit = berlin(2026, 10, 25, 8, 0)
    assert visit.reminders() == [
        (Step.DAY_BEFORE, datetime(2026, 10, 24, 16, 0, tzinfo=UTC)),  # 18:00 CEST
        (Step.MORNING, datetime(2026, 10, 25, 6, 0, tzinfo=UTC)),  # 07:00 CET
    ]


def test_an_early_visit_is_reminded_an_hour_before_and_one_in_the_gap_after_it() -> None:
    early = berlin(2026, 5, 4, 7, 30)
    assert early.reminders()[1] == (Step.MORNING, datetime(2026, 5, 4, 4, 30, tzinfo=UTC))
    skipped = berlin(2026, 3, 29, 2, 30)  # 02:30 does not exist that night
    assert skipped.at == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 03:00 CEST


def test_a_visit_noted_after_the_evening_before_gets_only_the_morning_reminder() -> None:
    visit = berlin(2026, 5, 4, 10, 0)
    assert first_reminder(visit, datetime(2026, 5, 3, 20, 0, tzinfo=UTC)) == datetime(
        2026, 5, 4, 5, 0, tzinfo=UTC
    )
    assert first_reminder(visit, datetime(2026, 5, 4, 7, 0, tzinfo=UTC)) is None


@given(
    local=st.datetimes(datetime(2026, 1, 2), datetime(2030, 12, 31)).map(
        lambda d: d.replace(second=0, microsecond=0)
    ),
    zone=st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Seoul", "Australia/Sydney"]),
)
def test_reminders_are_ordered_before_the_visit_on_the_right_local_days(
    local: datetime, zone: str
) -> None:
    visit = Visit(VisitKind.CLINIC, local, zone)
    (_, evening), (_, morning) = visit.reminders()
    assert evening < morning < visit.at
    assert evening.astimezone(ZoneInfo(zone)).date() == local.date() - timedelta(days=1)
    round_trip = Visit.of(visit.to_details())
    assert round_trip == visit


class Words:
    def visit_reminder(self, patient: Patient, visit: Visit, step: Step) -> Payload:
        return Payload.message(f"{step.value} {visit.kind.value}")


@pytest.mark.asyncio
async def test_two_workers_queue_each_reminder_once(store: Store) -> None:
    patient = await store.patients.create(alias="Mina", language="en", time_zone="Europe/Berlin")
    visit = berlin(2026, 3, 29, 9, 30)
    now = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
    await store.appointments.add(patient.id, visit.to_details(), first_reminder(visit, now))
    timers = [VisitTimers(store, Words()), VisitTimers(store, Words())]
    at = datetime(2026, 3, 28, 17, 0, tzinfo=UTC)
    assert await store.appointments.next_due() == at
    queued = [await t.run_due(at - timedelta(seconds=1)) for t in timers]
    assert queued == [0, 0]
    queued = [await t.run_due(at) for t in timers]
    assert queued == [1, 0]
    assert await store.appointments.next_due() == datetime(2026, 3, 29, 5, 0, tzinfo=UTC)
    late = datetime(2026, 3, 29, 8, 0, tzinfo=UTC)  # the engine was down through the morning
    assert [await t.run_due(late) for t in timers] == [0, 0]
    assert await store.appointments.next_due() is None
    rows = await store.outbox.for_patient(patient.id)
    assert [r.payload["text"] for r in rows] == ["day_before sputum"]
