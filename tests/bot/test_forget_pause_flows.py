"""Forgetting takes two deliberate presses; pausing takes a reason."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.dialogue.choices import Picked
from bot.dialogue.messages import Inbound, Kind
from bot.flows import forget, pause

NOW = datetime(2026, 3, 10, tzinfo=UTC)


def pick(arg: str) -> Inbound:
    return Inbound("test", "1", "1", Kind.PICK, pick=Picked("opt", arg))


def test_forget_needs_both_presses_in_order() -> None:
    turn = forget.begin(NOW, "en")
    assert turn.conversation is not None
    skipped_ahead = forget.handle(turn.conversation, pick("erase_now"), NOW)
    assert not skipped_ahead.outcome and skipped_ahead.conversation is not None
    second = forget.handle(turn.conversation, pick("erase"), NOW)
    assert not second.outcome and second.conversation is not None
    assert second.conversation.step == "second"
    done = forget.handle(second.conversation, pick("erase_now"), NOW)
    assert done.outcome and done.conversation is None


def test_keep_ends_forget_without_erasing() -> None:
    turn = forget.begin(NOW, "en")
    assert turn.conversation is not None
    kept = forget.handle(turn.conversation, pick("keep"), NOW)
    assert not kept.outcome and kept.conversation is None
    assert "Nothing was erased" in kept.replies[0].text


def test_typed_text_never_erases() -> None:
    turn = forget.begin(NOW, "en")
    assert turn.conversation is not None
    typed = forget.handle(turn.conversation, Inbound.from_text("test", "1", "1", "erase_now"), NOW)
    assert not typed.outcome


def test_pause_takes_one_of_the_offered_reasons() -> None:
    turn = pause.begin(NOW, "en")
    assert turn.conversation is not None
    assert pause.handle(turn.conversation, pick("holiday"), NOW).outcome is None
    done = pause.handle(turn.conversation, pick("no_medicine"), NOW)
    assert done.outcome == "no_medicine" and done.conversation is None
    assert "get your medicine" in pause.paused_reply("en", "no_medicine").text
