"""Rate limits, as properties: whatever the traffic, no window ever holds too many sends."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from scheduler.ratelimit import Limits, RateLimiter

NS = 1_000_000_000

# (chat, seconds since the previous request) pairs: bursts, idle spells, a few busy chats.
traffic = st.lists(
    st.tuples(st.integers(0, 5), st.floats(0, 2.5, allow_nan=False)), min_size=1, max_size=200
)


def book(limiter: RateLimiter, requests: list[tuple[int, float]]) -> list[tuple[int, float, int]]:
    """Reserve a slot for each request; return (chat, requested at, granted ns)."""
    now, booked = 0.0, []
    for chat, gap in requests:
        now += gap
        booked.append((chat, now, round(limiter.reserve(chat, now) * NS)))
    return booked


@given(traffic, st.integers(1, 40))
def test_no_one_second_window_holds_more_than_the_global_rate(
    requests: list[tuple[int, float]], rate: int
) -> None:
    granted = sorted(ns for _, _, ns in book(RateLimiter(Limits(global_rate=rate)), requests))

    start = 0
    for end, at in enumerate(granted):
        while granted[start] <= at - NS:
            start += 1
        assert end - start + 1 <= rate


@given(traffic)
def test_a_chat_never_gets_two_messages_within_a_second(requests: list[tuple[int, float]]) -> None:
    booked = book(RateLimiter(Limits(global_rate=None)), requests)

    for chat in {c for c, _, _ in booked}:
        times = [ns for c, _, ns in booked if c == chat]
        assert all(b - a >= NS for a, b in itertools.pairwise(times))


@given(traffic, st.integers(1, 40))
def test_a_slot_is_never_before_it_was_asked_for(
    requests: list[tuple[int, float]], rate: int
) -> None:
    for _, asked, granted in book(RateLimiter(Limits(global_rate=rate)), requests):
        assert granted >= round(asked * NS)


def test_different_chats_are_not_held_back_without_a_global_limit() -> None:
    limiter = RateLimiter(Limits(global_rate=None))

    assert [limiter.reserve(chat, 10.0) for chat in range(100)] == [10.0] * 100


def test_sustained_rate_is_the_configured_rate() -> None:
    limiter = RateLimiter(Limits(global_rate=25))

    slots = [limiter.reserve(chat, 0.0) for chat in range(251)]

    assert slots[-1] == 10.0


@given(st.floats(0.1, 60), traffic)
def test_nothing_is_booked_inside_a_pause(pause: float, requests: list[tuple[int, float]]) -> None:
    limiter = RateLimiter(Limits(global_rate=None))
    limiter.pause(pause)

    assert all(ns >= round(pause * NS) for _, _, ns in book(limiter, requests))


def test_a_pause_is_never_shortened_by_a_later_one() -> None:
    limiter = RateLimiter()
    limiter.pause(30.0)
    limiter.pause(5.0)

    assert limiter.paused_until(10.0) == 30.0
    assert limiter.paused_until(30.0) is None


def test_a_reply_keeps_the_global_pace_but_not_the_chats_interval() -> None:
    limiter = RateLimiter(Limits(per_chat_interval=1.0, global_rate=10.0))
    assert limiter.reserve("mina", 0.0) == 0.0
    # The answer to what Mina just did is not held for her one-second interval...
    assert limiter.book_reply("mina", 0.0) == 0.1
    assert limiter.book_reply("mina", 0.0) == 0.2
    # ...but the next scheduled message to her keeps its distance from the last reply.
    assert limiter.chat_ready_at("mina", 0.2) == 1.2
    limiter.pause(5.0)
    assert limiter.book_reply("wei", 0.3) == 5.0  # and nobody is answered during a pause


@given(traffic, st.integers(1, 40))
def test_replies_and_scheduled_sends_together_never_exceed_the_global_rate(
    requests: list[tuple[int, float]], rate: int
) -> None:
    limiter = RateLimiter(Limits(per_chat_interval=1.0, global_rate=float(rate)))
    now, granted = 0.0, []
    for chat, gap in requests:
        now += gap
        book_one = limiter.book_reply if chat % 2 else limiter.reserve
        granted.append(round(book_one(chat, now) * NS))
    granted.sort()
    for first, last in zip(granted, granted[rate:], strict=False):
        assert last - first >= NS
