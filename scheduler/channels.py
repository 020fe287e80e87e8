"""What each channel can do, declared once: the registry the dialogue and the dispatcher read.

The conversation is written once for every channel. Where channels differ (buttons or numbered
replies, editing a message, pictures, how long a message may be, how an invitation is passed on,
how fast messages may go out), the channel says so in its `ChannelSpec`, and the code that must
choose asks the spec, never the channel's name.

Adding a channel (see docs/architecture.md):
1. Declare its `ChannelSpec` (a module of its own, next to its adapter).
2. Write its `scheduler.sending.Sender`: carry out a `Payload` for an opaque address, and map
   every failure to `Sent`, `RetryLater` or `Permanent`.
3. Write its inbound side: turn what arrives into `bot.dialogue.messages.Inbound` events whose
   ``channel`` is the spec's name, and send the dialogue's replies through the same sender
   (`bot.channels.replies.send_replies`).
4. Add the spec to `bot.channels.CHANNELS` and the sender to the runtime (`bot.runtime`).

This module is pure data; it knows no library and no network.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from scheduler.ratelimit import Limits


class ChoiceStyle(StrEnum):
    """How a reply's choices reach the person."""

    BUTTONS = "buttons"  # pressed in the client; the payload comes back (Telegram)
    NUMBERED = "numbered"  # listed as "1) ...", answered by typing the number (terminal, SMS)


class Attachment(StrEnum):
    """Files a channel can deliver beside text."""

    PHOTO = "photo"  # an image shown in the chat (a calendar)
    DOCUMENT = "document"  # a file to open or keep (a PDF report)


class LengthUnit(StrEnum):
    CHARACTERS = "characters"
    SEGMENTS = "segments"  # SMS: one segment is 160 GSM-7 or 70 UCS-2 characters


class Invitation(StrEnum):
    """How a helper invitation is passed on."""

    DEEP_LINK = "deep_link"  # a link that opens the bot with the code, and the code to type
    CODE = "code"  # only a code to type


def characters(text: str) -> int:
    return len(text)


@dataclass(frozen=True)
class Length:
    """How long a message may be, in the channel's own unit.

    `measure` counts `text` in `unit`: characters for Telegram, segments for SMS (which depends
    on the encoding, so it is the channel's to count).
    """

    limit: int
    unit: LengthUnit = LengthUnit.CHARACTERS
    measure: Callable[[str], int] = characters

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ValueError("a length limit must be at least 1")

    def fits(self, text: str) -> bool:
        return self.measure(text) <= self.limit


@dataclass(frozen=True)
class Contact:
    """An address someone typed, as a channel reads it: its own spelling of the address, and
    the language most people there read (None: no guess)."""

    address: str
    language: str | None = None


@dataclass(frozen=True)
class ChannelSpec:
    """One channel's abilities and limits.

    - `choices`: buttons, or numbered replies the person types;
    - `edits` / `deletes`: whether a message already sent can be changed or removed (discreet
      mode deletes sensitive messages only where `deletes`); `delete_within`: for how long
      after it was sent (None: any time);
    - `attachments`: which files can be sent (none: text only);
    - `length`: the longest message, measured the channel's way;
    - `invitation`: a deep link plus a code, or a code only; `deep_link` is the link's start,
      to which the code is appended, once known (a Telegram bot's name is learnt at start-up);
      without it a deep-link channel shows the code only;
    - `limits`: the channel's own sending pace (per address and overall), kept by the
      dispatcher's rate limiter for this channel alone;
    - `reports_delivery`: whether "sent" only means accepted, and the channel reports later
      what became of a message (SMS: pending on the phone, sent, delivered, failed);
    - `discreet_only`: whether every message is read by others on the way (SMS crosses the
      carrier in plaintext), so discreet wording is the only wording;
    - `zones_of`: the time zones where an address may be (a phone number's country), for
      set-up to offer; None where an address says nothing of a place;
    - `contact`: reads an address a person typed (a phone number) as this channel's, with the
      language its place suggests, where the channel may contact a person first (a helper
      inviting someone by number); None where it cannot.
    """

    name: str
    choices: ChoiceStyle
    edits: bool
    deletes: bool
    length: Length
    invitation: Invitation
    limits: Limits
    attachments: frozenset[Attachment] = field(default_factory=frozenset)
    deep_link: str | None = None
    delete_within: timedelta | None = None
    reports_delivery: bool = False
    discreet_only: bool = False
    zones_of: Callable[[str], tuple[str, ...]] | None = None
    contact: Callable[[str], Contact | None] | None = None

    def __post_init__(self) -> None:
        if not self.name or not self.name.isascii() or len(self.name) > 16:
            raise ValueError("a channel name is 1 to 16 ASCII characters")

    def sends(self, attachment: Attachment) -> bool:
        return attachment in self.attachments

    def reads_contact(self, typed: str) -> Contact | None:
        """`typed` as an address this channel can contact first, or None."""
        return self.contact(typed) if self.contact is not None else None

    def zones(self, address: str) -> tuple[str, ...]:
        """The time zones `address` points to, most likely first (none when unknown)."""
        return self.zones_of(address) if self.zones_of is not None else ()

    def invite_link(self, code: str) -> str | None:
        """The link that opens this channel with `code`, if it has deep links and knows them."""
        if self.invitation is not Invitation.DEEP_LINK or self.deep_link is None:
            return None
        return f"{self.deep_link}{code}"


class UnknownChannel(KeyError):
    """An event or a row names a channel this process does not serve."""


class ChannelRegistry:
    """The channels this process serves, by name. Later registrations replace earlier ones
    (e.g. the Telegram spec once its deep link is known)."""

    def __init__(self, specs: Iterable[ChannelSpec] = ()) -> None:
        self._specs: dict[str, ChannelSpec] = {}
        for spec in specs:
            self.register(spec)

    def register(self, spec: ChannelSpec) -> None:
        self._specs[spec.name] = spec

    def __getitem__(self, name: str) -> ChannelSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise UnknownChannel(name) from None

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[ChannelSpec]:
        return iter(self._specs.values())

    def names(self) -> frozenset[str]:
        return frozenset(self._specs)
