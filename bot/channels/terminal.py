"""The terminal channel: replies printed as text, choices as numbered lines.

Used by `tbbot demo`. Like a Telegram client keeps the buttons under a message, the terminal
keeps the choices of the last reply that offered any, and a typed number picks one.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.dialogue.choices import Choice, Picked
from bot.dialogue.messages import Inbound, Kind, Reply

CHANNEL = "terminal"
WIDTH = 76


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


def render_all(
    session: TerminalSession, replies: Sequence[Reply], heading: str | None = None
) -> str:
    return "\n\n".join(session.render(reply, heading) for reply in replies)
