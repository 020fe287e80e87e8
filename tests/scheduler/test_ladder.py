"""The reminder ladder of one dose: reminder, nudges that respect quiet hours, window close."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from scheduler.ladder import LadderSettings, QuietHours, Step, ladder

SEOUL = "Asia/Seoul"


def at_seoul(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=ZoneInfo(SEOUL)).astimezone(UTC)


def test_default_ladder_reminds_nudges_twice_and_closes_after_six_hours() -> None:
    due = at_seoul(2, 8)
    timers = ladder(due, None, SEOUL, LadderSettings())
    assert [(t.step, t.at - due) for t in timers] == [
        (Step.REMIND, timedelta(0)),
        (Step.NUDGE, timedelta(minutes=30)),
        (Step.NUDGE, timedelta(hours=2)),
        (Step.CLOSE, timedelta(hours=6)),
    ]


def test_window_closes_at_the_next_dose_when_it_comes_sooner() -> None:
    due = at_seoul(2, 8)
    next_due = at_seoul(2, 9)
    timers = ladder(due, next_due, SEOUL, LadderSettings())
    assert timers[-1].step is Step.CLOSE
    assert timers[-1].at == next_due
    assert [t.at - due for t in timers if t.step is Step.NUDGE] == [timedelta(minutes=30)]


def test_nudge_in_quiet_hours_waits_for_their_end() -> None:
    quiet = QuietHours(time(22, 0), time(7, 0))
    due = at_seoul(2, 6)
    timers = ladder(due, None, SEOUL, LadderSettings(quiet=quiet))
    nudges = [t.at for t in timers if t.step is Step.NUDGE]
    assert nudges == [at_seoul(2, 7), at_seoul(2, 8)]


def test_nudge_pushed_past_the_window_is_dropped() -> None:
    quiet = QuietHours(time(22, 0), time(7, 0))
    due = at_seoul(2, 21)
    timers = ladder(due, None, SEOUL, LadderSettings(quiet=quiet))
    assert [t.at for t in timers if t.step is Step.NUDGE] == [at_seoul(2, 21, 30)]
    assert timers[-1].at == at_seoul(3, 3)


def test_quiet_hours_that_do_not_wrap_midnight() -> None:
    quiet = QuietHours(time(13, 0), time(14, 0))
    assert quiet.contains(time(13, 30))
    assert not quiet.contains(time(14, 0))
    assert not quiet.contains(time(12, 59))
    assert not QuietHours(time(9, 0), time(9, 0)).contains(time(9, 0))


ZONES = st.sampled_from(["Asia/Seoul", "America/New_York", "Australia/Lord_Howe", "UTC"])


@given(
    due=st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(UTC)
    ),
    zone=ZONES,
    nudges=st.lists(st.integers(1, 600), max_size=4).map(
        lambda ms: tuple(timedelta(minutes=m) for m in ms)
    ),
    window_h=st.integers(1, 12),
    gap_h=st.one_of(st.none(), st.integers(1, 24)),
    quiet=st.one_of(
        st.none(),
        st.builds(
            QuietHours,
            st.times().map(lambda t: t.replace(second=0, microsecond=0)),
            st.times().map(lambda t: t.replace(second=0, microsecond=0)),
        ),
    ),
)
def test_ladder_is_ordered_bounded_and_quiet(
    due: datetime,
    zone: str,
    nudges: tuple[timedelta, ...],
    window_h: int,
    gap_h: int | None,
    quiet: QuietHours | None,
) -> None:
    next_due = None if gap_h is None else due + timedelta(hours=gap_h)
    settings = LadderSettings(nudges=nudges, window=timedelta(hours=window_h), quiet=quiet)
    timers = ladder(due, next_due, zone, settings)
    close = min(due + timedelta(hours=window_h), next_due or due + timedelta(days=9))

    assert timers[0].step is Step.REMIND and timers[0].at == due
    assert timers[-1].step is Step.CLOSE and timers[-1].at == close
    assert all(a.at < b.at for a, b in itertools.pairwise(timers))
    middle = timers[1:-1]
    assert all(t.step is Step.NUDGE for t in middle)
    assert len(middle) <= len(set(nudges))
    if quiet is not None:
        for t in middle:
            assert not quiet.contains(t.at.astimezone(ZoneInfo(zone)).time())
