"""Times of day as each language writes them: the translator keeps the ones it has formatted
(a burst words thousands of reminders for a few local times), and what it keeps is exactly
what Babel writes, whatever the zone, the instant, the fold and the format."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_time
from hypothesis import given
from hypothesis import strategies as st

from bot.i18n import LOCALES, TIMES_KEPT, translator

ZONES = [ZoneInfo(z) for z in ("Asia/Shanghai", "Europe/Berlin", "America/New_York", "UTC")]

moments = st.builds(
    lambda at, zone, fold: at.replace(tzinfo=UTC).astimezone(zone).replace(fold=fold),
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31)),
    st.sampled_from(ZONES),
    st.integers(min_value=0, max_value=1),
)


@given(
    st.sampled_from(LOCALES),
    st.lists(moments, min_size=1, max_size=8),
    st.sampled_from(("short", "full")),
)
def test_a_kept_time_is_what_babel_writes(locale: str, values: list[datetime], fmt: str) -> None:
    t = translator(locale)
    for value in values + values:  # the second round comes from what was kept
        assert t.time(value, fmt) == format_time(value, format=fmt, locale=t._babel_locale)


def test_one_instant_in_two_zones_is_two_times() -> None:
    t = translator("en")
    shanghai = datetime(2026, 3, 2, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    berlin = shanghai.astimezone(ZoneInfo("Europe/Berlin"))
    assert shanghai == berlin  # one instant: equal as datetimes, so the key holds the zone
    assert (t.time(shanghai), t.time(berlin)) == ("8:00\u202fAM", "1:00\u202fAM")


def test_the_kept_times_are_bounded() -> None:
    t = translator("ko")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for minutes in range(TIMES_KEPT + 10):
        t.time(start + timedelta(minutes=minutes))
    assert len(t._times) <= TIMES_KEPT
