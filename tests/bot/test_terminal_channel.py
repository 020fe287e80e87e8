"""The terminal shows choices as numbers and turns a typed number back into the choice."""

from __future__ import annotations

from pathlib import Path

from bot.channels.terminal import TerminalSession
from bot.dialogue.choices import Choice, Picked
from bot.dialogue.messages import Kind, Reply
from scheduler.channels import Attachment
from scheduler.outbox import AttachedFile

REMINDER = Reply(
    "It's 8:00: time for your vitamins.",
    ((Choice("Taken", "taken", "s1"),), (Choice("In 15 min", "snooze", "s1.15"),)),
)


def test_choices_are_numbered_and_a_number_picks_one() -> None:
    session = TerminalSession("demo")
    shown = session.render(REMINDER)
    assert "  1) Taken" in shown and "  2) In 15 min" in shown
    event = session.read(" 2 ")
    assert event.kind is Kind.PICK and event.pick == Picked("snooze", "s1.15")


def test_numbers_out_of_range_and_words_stay_text() -> None:
    session = TerminalSession("demo")
    session.render(REMINDER)
    assert session.read("3").kind is Kind.TEXT
    assert session.read("0").kind is Kind.TEXT
    assert session.read("/taken").kind is Kind.COMMAND


def test_a_reply_without_choices_keeps_the_earlier_ones() -> None:
    session = TerminalSession("demo")
    session.render(REMINDER)
    session.render(Reply("Noted."))
    assert session.read("1").pick == Picked("taken", "s1")


def test_long_text_is_wrapped_and_headed() -> None:
    session = TerminalSession("demo")
    shown = session.render(Reply("word " * 40), heading="[to helper]")
    lines = shown.splitlines()
    assert lines[0] == "[to helper]"
    assert all(len(line) <= 76 for line in lines)


def test_an_attachment_is_saved_where_it_can_be_opened(tmp_path: Path) -> None:
    session = TerminalSession("demo", files=tmp_path)
    report = AttachedFile(Attachment.DOCUMENT, b"%PDF-1.7 notes", "notes.pdf", "application/pdf")
    shown = session.render(Reply("Your notes.", attachment=report))
    saved = next(tmp_path.iterdir())
    assert saved.read_bytes() == b"%PDF-1.7 notes" and saved.name.endswith("notes.pdf")
    assert "Your notes." in shown and str(saved) in shown
