"""The terminal channel: replies printed as text, choices as numbered lines.

Used by `tbbot demo`, where it is a channel like any other: it has its entry in the registry
(`TERMINAL`), its sender (`TerminalScreen`, which prints), and its inbound side
(`TerminalSession.read`). Like a Telegram client keeps the buttons under a message, the
terminal keeps the choices of the last reply that offered any, and a typed number picks one.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from bot.dialogue.choices import Choice, Picked
from bot.dialogue.messages import Inbound, Kind, Reply
from scheduler.channels import Attachment, ChannelSpec, ChoiceStyle, Invitation, Length
from scheduler.outbox import MAX_TEXT_CHARS, Action, FailureReason, Payload
from scheduler.ratelimit import Limits
from scheduler.sending import Permanent, SendResult, Sent

CHANNEL = "terminal"
WIDTH = 76

# Numbered choices, edits shown as such, deletions announced; files saved to the demo's
# folder, their path printed to open them; a code to type for invitations (no link can open a
# terminal); no pace to keep.
TERMINAL = ChannelSpec(
    name=CHANNEL,
    choices=ChoiceStyle.NUMBERED,
    edits=True,
    deletes=True,
    length=Length(MAX_TEXT_CHARS),
    invitation=Invitation.CODE,
    limits=Limits(per_chat_interval=0.0, global_rate=None),
    attachments=frozenset({Attachment.PHOTO, Attachment.DOCUMENT}),
)


@dataclass
class TerminalSession:
    """One person at the terminal: their ids and the choices currently on screen."""

    user: str
    language: str | None = None
    choices: list[Choice] = field(default_factory=list)
    message_ref: int = 0
    files: Path | None = None
    """Where attachments are saved so they can be opened (the demo's temporary folder)."""

    def render(self, reply: Reply, heading: str | None = None) -> str:
        """The text to print for `reply`; remembers its choices for the next typed number."""
        self.message_ref += 1
        lines = [heading] if heading else []
        for paragraph in reply.text.splitlines() or [""]:
            lines.extend(textwrap.wrap(paragraph, WIDTH) or [""])
        attachment = reply.attachment
        if attachment is not None:
            size = f"{len(attachment.data) / 1024:.0f} KB"
            shown = attachment.filename
            if self.files is not None:
                path = self.files / f"{self.message_ref}-{attachment.filename}"
                path.write_bytes(attachment.data)
                shown = str(path)
            lines.append(f"📎 {shown} ({size})")
        offered = reply.all_choices()
        if offered:
            self.choices = offered
            lines.extend(f"  {n}) {choice.label}" for n, choice in enumerate(offered, 1))
        return "\n".join(lines)

    def read(self, line: str) -> Inbound:
        """A typed line as an event: a number picks an offered choice, anything else is text."""
        typed = line.strip()
        if typed.isdigit() and self.choices and 1 <= int(typed) <= len(self.choices):
            choice = self.choices[int(typed) - 1]
            return Inbound(
                CHANNEL,
                self.user,
                self.user,
                Kind.PICK,
                pick=Picked(choice.verb, choice.arg),
                language=self.language,
                message_ref=str(self.message_ref),
            )
        return Inbound.from_text(CHANNEL, self.user, self.user, line, language=self.language)


def as_reply(payload: Payload) -> Reply:
    """A payload's text and buttons as the terminal renders them."""
    choices = tuple(
        tuple(Choice(b.label, *_verb_arg(b.callback_data)) for b in row) for row in payload.buttons
    )
    return Reply(payload.text, choices, attachment=payload.file)


def _verb_arg(data: str) -> tuple[str, str]:
    verb, _, arg = data.partition(":")
    return verb, arg


@dataclass
class Seat:
    """Someone at the terminal: their session and the heading over what they are sent."""

    session: TerminalSession
    heading: str


class TerminalScreen:
    """The terminal's `Sender`: what is sent to a seat's address is printed under its heading.

    While the demo waits for a line (`prompting`), a message that arrives is printed on a line
    of its own and the prompt shown again.
    """

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.seats: dict[str, Seat] = {}
        self.prompting = False

    def seat(self, session: TerminalSession, heading: str) -> None:
        self.seats[session.user] = Seat(session, heading)

    async def send(self, address: str, payload: Payload) -> SendResult:
        seat = self.seats.get(address)
        if seat is None:
            return Permanent(FailureReason.CHAT_NOT_FOUND)
        if payload.action is Action.DELETE:
            self._print(
                f"[demo] message {payload.target_message_id} deleted from the chat (discreet mode)"
            )
            return Sent(None)
        edited = payload.action is not Action.SEND
        heading = seat.heading + (" (edited)" if edited else "")
        self._print(seat.session.render(as_reply(payload), heading))
        # The session numbers what it shows; a pick names that number as its message.
        return Sent(payload.target_message_id if edited else seat.session.message_ref)

    def _print(self, text: str) -> None:
        if self.prompting:
            print(f"\n{text}\n> ", end="", file=self.out, flush=True)
        else:
            print(text, file=self.out, flush=True)
