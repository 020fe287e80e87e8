"""Backoff after transient failures: grows, stops at the cap, and jitters within bounds."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from scheduler.dispatcher import Backoff

backoffs = st.builds(
    Backoff,
    base=st.floats(0.1, 10),
    cap=st.floats(10, 3600),
    jitter=st.floats(0, 0.5),
)
fractions = st.floats(0, 1, exclude_max=True)
attempts = st.integers(1, 200)


@given(backoffs, attempts)
def test_ceiling_never_shrinks_and_never_passes_the_cap(backoff: Backoff, attempt: int) -> None:
    assert backoff.ceiling(attempt) <= backoff.ceiling(attempt + 1) <= backoff.cap


@given(backoffs, attempts, fractions)
def test_delay_stays_within_the_jitter_band(
    backoff: Backoff, attempt: int, fraction: float
) -> None:
    ceiling = backoff.ceiling(attempt)

    assert (1 - backoff.jitter) * ceiling <= backoff.delay(attempt, fraction) <= ceiling


@given(backoffs, attempts, fractions, fractions)
def test_jittered_delays_still_grow_until_the_cap(
    backoff: Backoff, attempt: int, first: float, second: float
) -> None:
    if 2 * backoff.ceiling(attempt) <= backoff.cap:
        assert backoff.delay(attempt, first) <= backoff.delay(attempt + 1, second) * (1 + 1e-12)


def test_doubles_from_the_base() -> None:
    backoff = Backoff(base=2, cap=60, jitter=0.5)

    assert [backoff.ceiling(n) for n in range(1, 8)] == [2, 4, 8, 16, 32, 60, 60]
    assert backoff.delay(3, 0.5) == 6.0
