"""`/report`: the language first, then who gets it when a helper may."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.dialogue.choices import OPT, Picked
from bot.dialogue.messages import Inbound, Kind
from bot.flows import report

NOW = datetime(2026, 7, 20, 4, tzinfo=UTC)


def _pick(arg: str) -> Inbound:
    return Inbound("telegram", "1", "1", Kind.PICK, pick=Picked(OPT, arg))


def test_languages_are_offered_with_the_patients_own_first() -> None:
    turn = report.begin(NOW, "ko", [])
    labels = [c.label for c in turn.replies[0].all_choices()]
    assert labels[:3] == ["한국어", "English", "简体中文"]


def test_without_an_allowed_helper_the_language_is_the_only_question() -> None:
    turn = report.begin(NOW, "en", [])
    assert turn.conversation is not None
    done = report.handle(turn.conversation, _pick("zh_Hans"), NOW)
    assert done.outcome == report.Request("zh_Hans", report.ME) and done.conversation is None


def test_an_allowed_helper_is_offered_and_a_forged_choice_picks_nothing() -> None:
    turn = report.begin(NOW, "en", [("h1", "Jisoo")])
    assert turn.conversation is not None
    to = report.handle(turn.conversation, _pick("en"), NOW)
    assert to.outcome is None and to.conversation is not None
    assert [c.label for c in to.replies[0].all_choices()][:2] == [
        "Send it to me",
        "Send it to Jisoo",
    ]
    forged = report.handle(to.conversation, _pick("h2"), NOW)
    assert forged.outcome is None
    chosen = report.handle(to.conversation, _pick("h1"), NOW)
    assert chosen.outcome == report.Request("en", "h1")
