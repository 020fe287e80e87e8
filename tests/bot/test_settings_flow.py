"""Settings change one thing at a time, each answer checked before anything is stored."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from bot.dialogue.choices import Picked
from bot.dialogue.messages import Inbound, Kind
from bot.flows.settings import (
    Change,
    SetDeleteAfter,
    SetDiscreet,
    SetLanguage,
    SetMoodEvery,
    SetNudges,
    SetProducts,
    SetQuietHours,
    SetRefill,
    SetTimes,
    SetWeight,
    SetZone,
    Turn,
    begin,
    handle,
)
from scheduler.preferences import Nudges

NOW = datetime(2026, 3, 10, tzinfo=UTC)


def pick(arg: str) -> Inbound:
    return Inbound("test", "1", "1", Kind.PICK, pick=Picked("opt", arg))


def say(text: str) -> Inbound:
    return Inbound.from_text("test", "1", "1", text)


def run(turn: Turn, *events: Inbound) -> Turn:
    for event in events:
        assert turn.conversation is not None
        turn = handle(turn.conversation, event, NOW)
    return turn


@pytest.mark.parametrize(
    ("events", "change"),
    [
        ((pick("times"), say("21:30")), SetTimes((time(21, 30),))),
        ((pick("zone"), say("서울")), SetZone("Asia/Seoul")),
        ((pick("language"), pick("zh_Hans")), SetLanguage("zh_Hans")),
        ((pick("weight"), say("61.5")), SetWeight(61.5)),
        ((pick("nudges"), pick("none")), SetNudges(Nudges.NONE)),
        ((pick("quiet"), say("22:00-07:00")), SetQuietHours((time(22, 0), time(7, 0)))),
        ((pick("quiet"), pick("off")), SetQuietHours(None)),
        ((pick("delete_after"), pick("60")), SetDeleteAfter(60)),
        ((pick("mood"), pick("0")), SetMoodEvery(0)),
        (
            (pick("refill"), pick("14"), pick("yes")),
            SetRefill(14, to_helper=True),
        ),
        (
            (pick("discreet"), pick("on"), say("candy")),
            SetDiscreet(True, "candy"),
        ),
        (
            (pick("discreet"), pick("off")),
            SetDiscreet(False, None),
        ),
    ],
)
def test_each_setting_yields_one_checked_change(
    events: tuple[Inbound, ...], change: Change
) -> None:
    done = run(begin(NOW, "en", 1), *events)
    assert done.conversation is None
    assert done.outcome == change


@pytest.mark.parametrize(
    ("events", "reason"),
    [
        ((pick("times"), say("08:00, 20:00")), "exactly one"),
        ((pick("times"), say("24:30")), "08:30"),
        ((pick("weight"), say("300")), "3 to 250"),
        ((pick("quiet"), say("22:00")), "22:00-07:00"),
        ((pick("quiet"), say("07:00-07:00")), "different"),
        ((pick("zone"), say("Atlantis")), "don't know"),
    ],
)
def test_bad_answers_change_nothing_and_say_why(events: tuple[Inbound, ...], reason: str) -> None:
    turn = run(begin(NOW, "en", 1), *events)
    assert turn.outcome is None and turn.conversation is not None
    assert reason in turn.replies[0].text


def test_twice_daily_patients_give_two_times() -> None:
    done = run(begin(NOW, "en", 2), pick("times"), say("20:00, 08:00"))
    assert done.outcome == SetTimes((time(8, 0), time(20, 0)))


def test_close_changes_nothing() -> None:
    done = run(begin(NOW, "en", 1), pick("weight"), pick("close"))
    assert done.conversation is None and done.outcome is None


def test_which_tablets_is_offered_only_where_the_regimen_comes_more_than_one_way() -> None:
    standard = begin(NOW, "en", 1, "2HRZE/4HR")
    assert "products" in [c.arg for c in standard.replies[0].all_choices()]
    done = run(standard, pick("products"), pick("separate"))
    assert done.outcome == SetProducts("separate")
    back = run(begin(NOW, "en", 1, "2HRZE/4HR"), pick("products"), pick("combination"))
    assert back.outcome == SetProducts(None)
    bpalm = begin(NOW, "en", 1, "BPaLM")
    assert "products" not in [c.arg for c in bpalm.replies[0].all_choices()]
    refused = run(bpalm, pick("products"))
    assert refused.outcome is None and refused.conversation is not None
