"""The durable outbox: every outgoing message is first a row, then a send.

Writing the message in the same transaction as the event that caused it (a dose falling due, a
missed dose raising a helper alert) means a crash between the two cannot lose it; the dispatcher
then sends at least once. This module holds the message type and the `Outbox` port the dispatcher
uses; the SQL implementation lives with the store.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import IntEnum, StrEnum
from typing import Any, Protocol

from scheduler.channels import Attachment

# Telegram refuses callback data longer than this many bytes; no choice payload needs more.
MAX_CALLBACK_DATA_BYTES = 64
# The most text any channel takes in one message (Telegram's 4,096 characters). Each channel
# measures and limits its own (`scheduler.channels.Length`), which may be less: SMS counts
# segments.
MAX_TEXT_CHARS = 4096
# The longest caption of a file (Telegram's 1,024 characters).
MAX_CAPTION_CHARS = 1024


class Priority(IntEnum):
    """Lower goes first when the queue is backed up."""

    URGENT = 0
    NORMAL = 1
    LOW = 2


class Kind(StrEnum):
    REMINDER = "reminder"
    HELPER_ALERT = "helper_alert"
    NUDGE = "nudge"
    CHECK_IN = "check_in"
    NOTICE = "notice"
    SUMMARY = "summary"
    CLEANUP = "cleanup"
    REPLY = "reply"
    """A reply sent at once, not through the outbox, kept as sent so it can be deleted."""

    @property
    def priority(self) -> Priority:
        return _PRIORITY_OF_KIND[self]


# A dose reminder that arrives late may be taken late; a helper alert that arrives late may come
# after the harm. Follow-ups and digests can wait for them.
_PRIORITY_OF_KIND: Mapping[Kind, Priority] = {
    Kind.REMINDER: Priority.URGENT,
    Kind.HELPER_ALERT: Priority.URGENT,
    Kind.NUDGE: Priority.NORMAL,
    Kind.CHECK_IN: Priority.NORMAL,
    Kind.NOTICE: Priority.NORMAL,
    Kind.SUMMARY: Priority.LOW,
    Kind.CLEANUP: Priority.LOW,
    Kind.REPLY: Priority.LOW,  # never queued: kept only once sent
}


class Action(StrEnum):
    SEND = "send"
    EDIT = "edit"
    EDIT_BUTTONS = "edit_buttons"
    DELETE = "delete"


@dataclass(frozen=True)
class Button:
    label: str
    callback_data: str

    def __post_init__(self) -> None:
        if not self.label:
            raise ValueError("a button needs a label")
        size = len(self.callback_data.encode())
        if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
            raise ValueError(f"callback data must be 1 to {MAX_CALLBACK_DATA_BYTES} bytes")


ButtonRows = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True, repr=False)
class AttachedFile:
    """A file sent with a message, whose text is then its caption: a picture shown in the
    chat or a document to keep (`scheduler.channels.Attachment`). `filename` is what the
    recipient's phone shows and keeps, so it must say nothing the patient did not choose to."""

    kind: Attachment
    data: bytes
    filename: str
    mime_type: str

    def __post_init__(self) -> None:
        if not self.data:
            raise ValueError("an attached file needs content")
        if not self.filename or "/" in self.filename or "\\" in self.filename:
            raise ValueError("an attached file needs a plain file name")

    def to_dict(self) -> dict[str, str]:
        return {
            "kind": self.kind.value,
            "data": base64.b64encode(self.data).decode("ascii"),
            "filename": self.filename,
            "mime_type": self.mime_type,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AttachedFile:
        return cls(
            Attachment(data["kind"]),
            base64.b64decode(data["data"], validate=True),
            str(data["filename"]),
            str(data["mime_type"]),
        )

    def __repr__(self) -> str:
        # The bytes are health records: a traceback shows only their size.
        return f"AttachedFile({self.kind.value}, {len(self.data)} bytes)"


@dataclass(frozen=True, repr=False)
class Payload:
    """What to do in the chat: send a new message, edit or delete one sent before.

    Built through the class methods, which state which fields each action needs. The repr
    never shows the text: payloads end up in tracebacks and debug output.

    `brief` is the same message said as briefly as it can be (text and buttons), for channels
    where every message costs and is short (SMS); a channel that has no use for it ignores it.
    """

    action: Action
    text: str = ""
    buttons: ButtonRows = ()
    target_message_id: int | None = None
    brief: tuple[str, ButtonRows] | None = None
    file: AttachedFile | None = None
    """Sent with a new message, `text` as its caption."""

    def __post_init__(self) -> None:
        needs_text = self.action is Action.EDIT or (
            self.action is Action.SEND and self.file is None
        )
        if needs_text and not self.text.strip():
            raise ValueError(f"{self.action} needs text")
        if self.file is not None and self.action is not Action.SEND:
            raise ValueError("only a new message carries a file")
        if self.file is not None and len(self.text) > MAX_CAPTION_CHARS:
            raise ValueError(f"a caption is longer than {MAX_CAPTION_CHARS} characters")
        if self.action in (Action.EDIT_BUTTONS, Action.DELETE) and self.text:
            raise ValueError(f"{self.action} takes no text")
        if len(self.text) > MAX_TEXT_CHARS:
            raise ValueError(f"text is longer than {MAX_TEXT_CHARS} characters")
        if self.action is Action.DELETE and self.buttons:
            raise ValueError("delete takes no buttons")
        if (self.action is Action.SEND) != (self.target_message_id is None):
            raise ValueError("send takes no target message; edit and delete need one")

    @classmethod
    def message(
        cls, text: str, buttons: ButtonRows = (), file: AttachedFile | None = None
    ) -> Payload:
        return cls(Action.SEND, text, buttons, file=file)

    @classmethod
    def edit(cls, message_id: int, text: str, buttons: ButtonRows = ()) -> Payload:
        return cls(Action.EDIT, text, buttons, message_id)

    @classmethod
    def edit_buttons(cls, message_id: int, buttons: ButtonRows = ()) -> Payload:
        """Replace a message's buttons; no buttons removes them (e.g. after an answer)."""
        return cls(Action.EDIT_BUTTONS, "", buttons, message_id)

    @classmethod
    def delete(cls, message_id: int) -> Payload:
        return cls(Action.DELETE, target_message_id=message_id)

    def with_brief(self, text: str, buttons: ButtonRows = ()) -> Payload:
        return replace(self, brief=(text, buttons))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form for the store, which encrypts it."""
        data: dict[str, Any] = {
            "action": self.action.value,
            "text": self.text,
            "buttons": _rows_to_json(self.buttons),
            "target_message_id": self.target_message_id,
            **({"file": self.file.to_dict()} if self.file is not None else {}),
        }
        if self.brief is not None:
            data["brief"] = {"text": self.brief[0], "buttons": _rows_to_json(self.brief[1])}
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Payload:
        brief = data.get("brief")
        file = data.get("file")
        return cls(
            action=Action(data["action"]),
            text=data.get("text", ""),
            buttons=_rows_from_json(data.get("buttons", ())),
            target_message_id=data.get("target_message_id"),
            brief=None
            if brief is None
            else (str(brief["text"]), _rows_from_json(brief.get("buttons", ()))),
            file=AttachedFile.from_dict(file) if file is not None else None,
        )

    def __repr__(self) -> str:
        buttons = sum(len(row) for row in self.buttons)
        file = f", {self.file!r}" if self.file is not None else ""
        return f"Payload({self.action.value}, text={len(self.text)} chars, buttons={buttons}{file})"


def _rows_to_json(rows: ButtonRows) -> list[list[list[str]]]:
    return [[[b.label, b.callback_data] for b in row] for row in rows]


def _rows_from_json(rows: Any) -> ButtonRows:
    return tuple(tuple(Button(label, callback) for label, callback in row) for row in rows)


class FailureReason(StrEnum):
    """Why a message will never be delivered."""

    BLOCKED = "blocked"
    CHAT_NOT_FOUND = "chat_not_found"
    USER_DEACTIVATED = "user_deactivated"
    FORBIDDEN = "forbidden"
    CHAT_MIGRATED = "chat_migrated"
    MESSAGE_GONE = "message_gone"
    BAD_REQUEST = "bad_request"
    GAVE_UP = "gave_up"
    OPTED_OUT = "opted_out"  # the person asked for no more messages (SMS STOP)
    OVER_CAP = "over_cap"  # the operator's daily cap for this person is reached (SMS)

    @property
    def unreachable(self) -> bool:
        """True when no message at all can reach this recipient any more."""
        return self in _UNREACHABLE


_UNREACHABLE = frozenset(
    {
        FailureReason.BLOCKED,
        FailureReason.CHAT_NOT_FOUND,
        FailureReason.USER_DEACTIVATED,
        FailureReason.FORBIDDEN,
        FailureReason.CHAT_MIGRATED,
    }
)


@dataclass(frozen=True)
class OutboxMessage:
    """One claimed row of the outbox.

    `recipient` is the store's opaque reference to a patient or helper; `channel` names the
    channel it goes out on, and `address` is where on that channel (a chat id, a phone
    number), opaque to everyone but that channel's sender, decrypted by the store when the row
    is claimed and never written anywhere else (hence kept out of the repr). `expires_at` is the
    end of the window in which the message still makes sense: a reminder for a dose whose window
    has closed is not sent late.
    """

    id: str
    recipient: str
    channel: str
    address: str = field(repr=False)
    kind: Kind
    payload: Payload
    not_before: datetime
    expires_at: datetime | None = None
    dedupe_key: str | None = field(default=None, repr=False)
    attempts: int = 0

    @property
    def priority(self) -> Priority:
        return self.kind.priority

    def is_expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at


class Outbox(Protocol):
    """The outbox as the dispatcher sees it.

    Every method after `claim_due` names a message the caller holds a lease on. A lease that runs
    out (the worker died mid-send) makes the message claimable again: delivery is at least once.
    """

    async def claim_due(
        self, now: datetime, limit: int, lease: timedelta, channel: str
    ) -> Sequence[OutboxMessage]:
        """Lease up to `limit` pending messages for `channel` with `not_before <= now` and no
        live lease, ordered by priority, then `not_before`, then insertion. Each channel is
        claimed on its own, so a backlog on one never delays another."""
        ...

    async def mark_sent(
        self, message_id: str, telegram_message_id: int | None, now: datetime
    ) -> None:
        """Delivered; the channel's message id (`telegram_message_id`, None where a channel
        has none) lets a later message edit or delete it."""
        ...

    async def retry_later(self, message_id: str, not_before: datetime, reason: str) -> None:
        """A send failed transiently: count the attempt and release it until `not_before`."""
        ...

    async def defer(self, message_id: str, not_before: datetime) -> None:
        """Release unsent without counting an attempt (rate limited, or told to wait)."""
        ...

    async def mark_failed(self, message_id: str, reason: FailureReason, now: datetime) -> None:
        """Never to be delivered, for `reason`."""
        ...

    async def mark_expired(self, message_id: str, now: datetime) -> None:
        """Its window closed before it could be sent: recorded as not delivered."""
        ...
