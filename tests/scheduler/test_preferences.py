"""A patient's preferences as one typed record: read forgivingly, stored faithfully."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from hypothesis import given
from hypothesis import strategies as st

from scheduler.ladder import DEFAULT_NUDGES, QuietHours
from scheduler.preferences import ESCALATION_CHOICES, Nudges, Preferences

times = st.times().map(lambda t: t.replace(second=0, microsecond=0))
preferences = st.builds(
    Preferences,
    nudges=st.sampled_from(Nudges),
    quiet_hours=st.none() | st.tuples(times, times),
    cover_word=st.none() | st.text(min_size=1, max_size=20),
    delete_after_minutes=st.integers(0, 10_000),
    mood_every_days=st.none() | st.integers(0, 60),
    mood_offered_at=st.none() | st.datetimes(timezones=st.just(UTC)),
    contraception_told=st.booleans(),
    pause_reason=st.none() | st.text(max_size=10),
    refill_warn_days=st.integers(0, 60),
    refill_to_helper=st.booleans(),
    stock_warned=st.frozensets(st.text(min_size=1, max_size=8), max_size=3),
    escalate_minutes=st.none() | st.sampled_from(ESCALATION_CHOICES),
    extra=st.dictionaries(st.sampled_from(["theme", "future_key"]), st.integers(), max_size=2),
)


@given(preferences)
def test_what_is_stored_reads_back_the_same(prefs: Preferences) -> None:
    assert Preferences.from_dict(prefs.to_dict()) == prefs


def test_keys_this_version_does_not_know_are_kept() -> None:
    stored = {"nudges": "one", "colour": "blue"}
    prefs = Preferences.from_dict(stored)
    assert prefs.nudges is Nudges.ONE
    assert prefs.to_dict() == stored


def test_a_malformed_setting_falls_back_to_its_default_and_never_silences_reminders() -> None:
    prefs = Preferences.from_dict(
        {"nudges": "lots", "quiet_hours": ["25:00", "07:00"], "escalate_minutes": 7}
    )
    ladder = prefs.ladder()
    assert ladder.nudges == DEFAULT_NUDGES and ladder.quiet is None
    assert prefs.escalation_delay() == timedelta(hours=1)


def test_the_ladder_follows_the_choices() -> None:
    prefs = Preferences.from_dict({"nudges": "one", "quiet_hours": ["22:00", "07:00"]})
    ladder = prefs.ladder()
    assert ladder.nudges == DEFAULT_NUDGES[:1]
    assert ladder.quiet == QuietHours(time(22, 0), time(7, 0))
    assert Preferences(nudges=Nudges.NONE).ladder().nudges == ()
    assert Preferences(escalate_minutes=180).escalation_delay() == timedelta(hours=3)
    assert Preferences(mood_every_days=0).mood_interval(14) == 0
    assert Preferences().mood_interval(14) == 14
    offered = datetime(2026, 3, 2, tzinfo=UTC)
    assert (
        Preferences.from_dict({"mood_offered_at": offered.isoformat()}).mood_offered_at == offered
    )
