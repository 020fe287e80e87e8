"""How far ahead first reminders are written (`scheduler.lead`): at least the lookahead, more
when a burst is larger than the engine can queue in it, never more than `lookahead_most`; and
the engine claiming that far ahead, on a real store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from scheduler.clock import FakeClock
from scheduler.lead import FIRST_RATE, MARGIN, MIN_SAMPLE, Lead
from storage.store import Store
from tests.scheduler.engine_support import enrol_many, make_engine, outbox_of

LEAST, MOST = timedelta(seconds=10), timedelta(minutes=5)
T0 = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
DUE = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)

counts = st.integers(min_value=0, max_value=10_000_000)
rates = st.floats(min_value=1, max_value=1e6)


@given(counts, counts, rates)
def test_the_lead_stays_within_its_bounds_and_grows_with_the_burst(
    a: int, b: int, rate: float
) -> None:
    lead = Lead(LEAST, MOST, rate)
    small, large = sorted((a, b))
    assert LEAST <= lead.ahead(small) <= lead.ahead(large) <= MOST


def test_the_lead_is_the_time_to_queue_the_burst_twice_over() -> None:
    lead = Lead(LEAST, MOST)
    assert lead.ahead(0) == LEAST
    assert lead.ahead(3_000) == timedelta(seconds=MARGIN * 3_000 / FIRST_RATE)  # 60 s
    assert lead.ahead(10**6) == MOST


@given(
    st.integers(min_value=MIN_SAMPLE, max_value=100_000), st.floats(min_value=1e-3, max_value=100)
)
def test_a_measured_tick_moves_the_rate_toward_it(queued: int, seconds: float) -> None:
    lead = Lead(LEAST, MOST)
    measured = queued / seconds
    lead.observe(queued, seconds)
    assert min(FIRST_RATE, measured) <= lead.rate <= max(FIRST_RATE, measured)
    for _ in range(40):
        lead.observe(queued, seconds)
    assert abs(lead.rate - measured) <= 1e-3 * measured


def test_small_or_untimed_ticks_leave_the_rate_alone() -> None:
    lead = Lead(LEAST, MOST)
    lead.observe(MIN_SAMPLE - 1, 0.001)
    lead.observe(5_000, 0.0)  # a fake clock: no time passed
    assert lead.rate == FIRST_RATE


async def test_a_burst_larger_than_the_lookahead_holds_is_claimed_further_ahead(
    store: Store,
) -> None:
    """200 first reminders due at one instant at 100 a second, twice over: 4 s ahead with a 1 s
    lookahead; the burst is queued 4 s before its instant, each to be sent from it."""
    clock = FakeClock(T0)
    engine = make_engine(store, clock, batch_size=500, lookahead=timedelta(seconds=1))
    people = await enrol_many(store, engine, 200, DUE, chat_base=7000)
    clock.advance(DUE - timedelta(minutes=2) - clock.now())
    assert await engine.refresh_lead() == timedelta(seconds=4)
    assert await engine.next_due() == DUE - timedelta(seconds=4)
    clock.advance(timedelta(minutes=2) - timedelta(seconds=4))
    report = await engine.tick()
    assert report.reminded == 200
    for person in people[:3]:
        (row,) = await outbox_of(store, person.patient.id)
        assert (row.kind, row.not_before) == ("reminder", DUE)
    # Once queued, nothing is due soon: the lead is the lookahead again.
    assert await engine.refresh_lead() == timedelta(seconds=1)


async def test_a_small_crowd_keeps_the_plain_lookahead(store: Store) -> None:
    clock = FakeClock(T0)
    engine = make_engine(store, clock, lookahead=timedelta(seconds=10))
    await enrol_many(store, engine, 30, DUE, chat_base=8000)
    clock.advance(DUE - timedelta(minutes=1) - clock.now())
    assert await engine.refresh_lead() == timedelta(seconds=10)
    assert await engine.next_due() == DUE - timedelta(seconds=10)
    clock.advance(timedelta(seconds=45))  # 15 s before: too early even for the lead
    assert (await engine.tick()).claimed == 0
