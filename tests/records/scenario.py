"""Mina's scripted treatment, for the record renderers' tests and the benchmark.

A 9-month course (2HRZE/7HR: 56 + 217 daily doses, clinical.md) started on 2 March 2026 in
Shanghai at 08:00, seen on 20 July 2026 at noon. What happened, and what follows by hand:

- not taken: 10 March (missed), 14 April (no reply), 20 and 21 May (missed): 4 doses;
- 2 April: taken, but reported the next day (late);
- paused from 1 to 5 June (5 days, no dose expected);
- 20 March: orange urine (harmless); 19 May: yellow eyes (red flag);
- mood: PHQ-2 of 4 and PHQ-9 of 11 on 8 March, PHQ-2 of 1 on 3 May;
- weights: 52 kg at set-up, then 51 (2 April), 49.5 (3 May) and 55.5 kg (3 July: another
  band, 38-54 to 55-70 kg; the count still follows 52 kg, the clinician not yet asked);
- HR tablets (3 a dose at 52 kg): 200 bought on 28 April, 60 on 15 June, a recount of 98 on
  1 July (89 expected: 200 + 60 - 57 doses x 3), 41 left after the 19 doses since.

Doses due, 2 March to 20 July: 141 days less 5 paused = 136; taken 136 - 4 = 132. The
intensive phase needs 56 taken: 58 slots with 2 not taken, so it ends on 28 April and the
continuation has 76 of 217. The last dose needs 273 + 4 slots and 5 paused days: 282 days
from the start, 8 December 2026.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.records.facts import MoodCheck, Record, SideEffect, assemble
from storage.records import Consent, Patient, StockChange, WeightEntry, WeightSource
from treatment.enrolment import Enrolment, Pause, enrol
from treatment.events import DoseEvent, EventKind
from treatment.plan import iter_slots
from treatment.stock import Movement
from treatment.triage import Level

ZONE = "Asia/Shanghai"
SHANGHAI = ZoneInfo(ZONE)
START = date(2026, 3, 2)
NOW = datetime(2026, 7, 20, 12, 0, tzinfo=SHANGHAI)
MISSED = {date(2026, 3, 10), date(2026, 5, 20), date(2026, 5, 21)}
NO_REPLY = {date(2026, 4, 14)}
LATE_DAY = date(2026, 4, 2)
PAUSE = Pause(date(2026, 6, 1), date(2026, 6, 5))
RED_FLAG_DAY = date(2026, 5, 19)

TAKEN = 132
REQUIRED = 273
INTENSIVE_ENDS = date(2026, 4, 28)
LAST_DOSE = date(2026, 12, 8)
WEIGHTS = (
    (date(2026, 3, 2), 52.0, WeightSource.SETUP),
    (date(2026, 4, 2), 51.0, WeightSource.WEIGH_IN),
    (date(2026, 5, 3), 49.5, WeightSource.WEIGH_IN),
    (date(2026, 7, 3), 55.5, WeightSource.WEIGH_IN),
)
BOUGHT = ((date(2026, 4, 28), 200), (date(2026, 6, 15), 60))
RECOUNT = (date(2026, 7, 1), 98)
HR_USED_BEFORE_RECOUNT = 57  # taken doses from 29 April to 1 July
HR_USED_AFTER_RECOUNT = 19  # 2 to 20 July
HR_LEFT = 41


def patient(language: str = "en", *, discreet: bool = False) -> Patient:
    return Patient(
        id="p-mina",
        alias={"en": "Mina", "ko": "민아", "zh_Hans": "米娜"}[language],
        language=language,
        time_zone=ZONE,
        discreet=discreet,
        consent=Consent(),
        created_at=datetime(2026, 3, 2, tzinfo=UTC),
    )


def enrolment(regimen: str = "2HRZE/7HR", start: date = START) -> Enrolment:
    plan = enrol(
        regimen=regimen,
        start=start,
        times=["08:00"],
        zone=ZONE,
        today=start,
        weight_kg=52,
    )
    return plan.with_pause(Pause(PAUSE.start, PAUSE.end)) if start == START else plan


def _local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def events(
    plan: Enrolment, now: datetime, missed: set[date], no_reply: set[date]
) -> list[DoseEvent]:
    out = []
    not_taken = {f"{d.isoformat()}#0" for d in missed | no_reply}
    for slot in iter_slots(plan, not_taken=not_taken):
        if slot.utc > now:
            break
        if slot.local_date in missed:
            out.append(DoseEvent(slot.key, EventKind.MISSED))
        elif slot.local_date in no_reply:
            out.append(DoseEvent(slot.key, EventKind.NO_REPLY))
        else:
            out.append(DoseEvent(slot.key, EventKind.TAKEN, slot.utc + timedelta(minutes=5)))
    return out


def weights() -> list[WeightEntry]:
    """Given at 09:00 at set-up, at 20:00 when the monthly question came."""
    return [
        WeightEntry(_local(day, 9 if source is WeightSource.SETUP else 20), kg, source)
        for day, kg, source in WEIGHTS
    ]


def stock_changes(taken: list[DoseEvent]) -> list[StockChange]:
    """The HR count: the purchases and the recount, and 3 tablets off for each HR dose taken
    (the continuation phase, from 29 April), replayed in time order."""
    moves: list[tuple[datetime, Movement, int]] = [
        (_local(day, 19), Movement.BOUGHT, count) for day, count in BOUGHT
    ]
    moves.append((_local(RECOUNT[0], 20), Movement.RECOUNT, RECOUNT[1]))
    continuation = datetime.combine(INTENSIVE_ENDS + timedelta(days=1), time.min, tzinfo=SHANGHAI)
    moves += [
        (event.at, Movement.USED, 3)
        for event in taken
        if event.kind is EventKind.TAKEN and event.at and event.at >= continuation
    ]
    left, out = 0, []
    for at, movement, count in sorted(moves, key=lambda m: m[0]):
        after = (
            left + count
            if movement is Movement.BOUGHT
            else count
            if movement is Movement.RECOUNT
            else left - count
        )
        out.append(StockChange(at, "HR", movement, after - left, after))
        left = after
    return out


def mina(language: str = "en", *, discreet: bool = False) -> Record:
    plan = enrolment()
    doses = events(plan, NOW, MISSED, NO_REPLY)
    return assemble(
        patient(language, discreet=discreet),
        plan,
        NOW,
        events=doses,
        late={f"{LATE_DAY.isoformat()}#0"},
        side_effects=[
            SideEffect(_local(date(2026, 3, 20), 9), ("orange_fluids",), Level.REASSURE, None),
            SideEffect(_local(RED_FLAG_DAY, 21, 30), ("jaundice",), Level.RED_FLAG, "eyes yellow"),
        ],
        moods=[
            MoodCheck(_local(date(2026, 3, 8), 10), "phq2", 4),
            MoodCheck(_local(date(2026, 3, 8), 10, 5), "phq9", 11),
            MoodCheck(_local(date(2026, 5, 3), 19), "phq2", 1),
        ],
        stock={"HR": HR_LEFT},
        stock_counted_at=_local(RECOUNT[0], 20),
        weights=weights(),
        stock_changes=stock_changes(doses),
    )


def long_course(months: int, language: str = "en") -> Record:
    """A custom daily regimen of `months` x 30 doses, seen at its end, with a miss a week, a
    weight every 30 days and 90 levofloxacin tablets bought every 30 days, 3 used a dose."""
    from treatment.catalogue import custom_regimen

    regimen = custom_regimen(
        {
            "id": f"custom-{months}m",
            "name": f"{months}-month regimen",
            "phases": [
                {
                    "name": "treatment",
                    "doses_required": months * 30,
                    "drugs": [{"name": "levofloxacin", "mg": 750, "tablets": 3}],
                }
            ],
        }
    )
    plan = enrol(regimen=regimen, start=START, times=["08:00"], zone=ZONE, today=START)
    now = _local(START + timedelta(days=months * 30 + months * 5), 12)
    missed = {START + timedelta(days=d) for d in range(3, months * 30, 7)}
    doses = events(plan, now, missed, set())
    bought = [(_local(START + timedelta(days=d), 19), 90) for d in range(0, months * 30, 30)]
    used = [(e.at, -3) for e in doses if e.kind is EventKind.TAKEN and e.at is not None]
    left, changes = 0, []
    for at, change in sorted(bought + used):
        movement = Movement.BOUGHT if change > 0 else Movement.USED
        after = max(0, left + change)
        changes.append(StockChange(at, "levofloxacin", movement, after - left, after, after == 0))
        left = after
    return assemble(
        patient(language),
        plan,
        now,
        events=doses,
        side_effects=[
            SideEffect(_local(START + timedelta(days=d), 9), ("headache",), Level.SOON, None)
            for d in range(10, months * 30, 45)
        ],
        moods=[
            MoodCheck(_local(START + timedelta(days=d), 10), "phq2", d % 4)
            for d in range(5, months * 30, 14)
        ],
        weights=[
            WeightEntry(
                _local(START + timedelta(days=d), 20), round(48 + d / 90, 1), WeightSource.WEIGH_IN
            )
            for d in range(0, months * 30, 30)
        ],
        stock={"levofloxacin": left},
        stock_counted_at=changes[-1].at,
        stock_changes=changes,
    )
