"""Pill stock arithmetic: bought, used by doses, recounted; never silently below zero."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from treatment.errors import TreatmentError
from treatment.stock import MAX_TABLETS, Movement, StockEvent, balances

T0 = datetime(2026, 3, 1, 8, tzinfo=UTC)
FDC = "HRZE 75/150/400/275"


def at(hours: int) -> datetime:
    return T0 + timedelta(hours=hours)


def test_three_tablets_a_day_from_a_box_of_84_last_28_days_and_warn_at_seven() -> None:
    events = [StockEvent(at(0), FDC, Movement.BOUGHT, 84)]
    events += [StockEvent(at(24 * d + 1), FDC, Movement.USED, 3) for d in range(21)]
    balance = balances(events)[FDC]
    assert balance.tablets == 84 - 63
    assert balance.days_left(3) == 7
    assert balance.refill_due(3)
    assert not balance.refill_due(3, warn_days=6)
    assert balance.runs_out_on(date(2026, 3, 22), 3) == date(2026, 3, 29)


def test_doses_beyond_the_recorded_stock_ask_for_a_recount_instead_of_going_negative() -> None:
    events = [
        StockEvent(at(0), FDC, Movement.BOUGHT, 4),
        StockEvent(at(1), FDC, Movement.USED, 3),
        StockEvent(at(25), FDC, Movement.USED, 3),
    ]
    balance = balances(events)[FDC]
    assert balance.tablets == 0
    assert balance.needs_recount
    recounted = balances([*events, StockEvent(at(26), FDC, Movement.RECOUNT, 30)])[FDC]
    assert (recounted.tablets, recounted.needs_recount) == (30, False)


@pytest.mark.parametrize("count", [-5, MAX_TABLETS + 1, 10_000_000])
def test_impossible_counts_are_refused(count: int) -> None:
    with pytest.raises(TreatmentError) as caught:
        StockEvent(at(0), FDC, Movement.BOUGHT, count)
    assert caught.value.code == "stock_count_range"


def test_tablet_types_are_counted_apart() -> None:
    events = [
        StockEvent(at(0), FDC, Movement.BOUGHT, 10),
        StockEvent(at(0), "HR 75/150", Movement.BOUGHT, 20),
        StockEvent(at(1), "HR 75/150", Movement.USED, 2),
    ]
    result = balances(events)
    assert (result[FDC].tablets, result["HR 75/150"].tablets) == (10, 18)


def test_no_use_means_no_run_out_date() -> None:
    balance = balances([StockEvent(at(0), FDC, Movement.BOUGHT, 10)])[FDC]
    assert balance.days_left(0) is None and not balance.refill_due(0)


movements = st.builds(
    StockEvent,
    at=st.integers(0, 24 * 60).map(at),
    tablet=st.just(FDC),
    movement=st.sampled_from(list(Movement)),
    count=st.integers(0, 200),
)


@given(st.lists(movements, max_size=40))
def test_balance_is_never_negative_and_matches_a_plain_replay(events: list[StockEvent]) -> None:
    expected, short = 0, False
    for event in sorted(events, key=lambda e: e.at):
        if event.movement is Movement.BOUGHT:
            expected += event.count
        elif event.movement is Movement.RECOUNT:
            expected, short = event.count, False
        else:
            short = short or event.count > expected
            expected = max(0, expected - event.count)
    result = balances(events).get(FDC)
    if not events:
        assert result is None
        return
    assert result is not None
    assert result.tablets == expected >= 0
    assert result.needs_recount == short


@given(st.integers(0, MAX_TABLETS), st.floats(0.5, 12))
def test_days_left_never_promises_more_than_the_tablets_cover(tablets: int, per_day: float) -> None:
    balance = balances([StockEvent(at(0), FDC, Movement.BOUGHT, tablets)])[FDC]
    days = balance.days_left(per_day)
    assert days is not None
    assert days * per_day <= tablets < (days + 1) * per_day
