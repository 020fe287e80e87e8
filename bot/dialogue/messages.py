"""What flows through a conversation, whatever the channel: inbound events and replies."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from bot.dialogue.choices import OPT, Choice, Picked
from scheduler.outbox import AttachedFile
from storage.records import Helper


class Kind(enum.StrEnum):
    TEXT = "text"
    COMMAND = "command"
    PICK = "pick"
    UNSUPPORTED = "unsupported"  # stickers, photos, voice, forwarded messages, ...


@dataclass(frozen=True, slots=True)
class Inbound:
    """One thing a person did, as the channel adapter saw it.

    `user` and `chat` are the channel's own ids as strings; the dialogue turns them into a
    patient only through the blind index, and never logs them.
    """

    channel: str
    user: str
    chat: str
    kind: Kind
    text: str = ""
    command: str = ""
    args: str = ""
    pick: Picked | None = None
    language: str | None = None
    private: bool = True
    message_ref: str | None = None  # the message a pick was made on, to edit it
    update_ref: str | None = None  # the channel's id of this event, to drop re-deliveries

    def option(self, offered: Reply) -> str | None:
        """The argument of the option picked, only if `offered` (the question now open) shows
        that option: a button replayed from another question, or forged, picks nothing."""
        if self.kind is not Kind.PICK or self.pick is None or self.pick.verb != OPT:
            return None
        shown = {c.arg for c in offered.all_choices() if c.verb == OPT}
        return self.pick.arg if self.pick.arg in shown else None

    @staticmethod
    def from_text(
        channel: str,
        user: str,
        chat: str,
        text: str,
        *,
        language: str | None = None,
        private: bool = True,
        update_ref: str | None = None,
    ) -> Inbound:
        """A typed line: `/cmd args` becomes a command, anything else stays text."""
        stripped = text.strip()
        kind, command, args = Kind.TEXT, "", ""
        if stripped.startswith("/") and len(stripped) > 1:
            head, _, rest = stripped[1:].partition(" ")
            kind, command, args = Kind.COMMAND, head.split("@", 1)[0].lower(), rest.strip()
        return Inbound(
            channel,
            user,
            chat,
            kind,
            text=text,
            command=command,
            args=args,
            language=language,
            private=private,
            update_ref=update_ref,
        )


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to show: text, rows of choices, and how to treat it.

    `edit` replaces the message the pick was made on instead of sending a new one.
    `sensitive` marks health details that discreet mode deletes from the chat after a delay.
    `attachment`, when given, is sent with `text` as its caption (never as an edit).
    `leave`: after this message the channel leaves the chat (a group the bot was added to),
    where it can.
    `about`: the helper roles whose patient this message, sent to that helper, names. It is
    kept as a message sent to them (`DialogueService.sent`), so removing the helper or
    forgetting the patient deletes it from the helper's chat, as it does alerts.
    """

    text: str
    choices: tuple[tuple[Choice, ...], ...] = field(default_factory=tuple)
    edit: bool = False
    sensitive: bool = False
    attachment: AttachedFile | None = None
    leave: bool = False
    about: tuple[Helper, ...] = ()

    def all_choices(self) -> list[Choice]:
        return [choice for row in self.choices for choice in row]
