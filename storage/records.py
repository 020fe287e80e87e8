"""What repositories return: plain frozen values, never ORM rows, never ciphertext.

Treatment rules live in `treatment`; these records hold who someone is and what happened.
Times are aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any

from treatment.enrolment import Enrolment

Channel = str
"""A channel's name, as its `scheduler.channels.ChannelSpec` declares it ("telegram",
"terminal", "sms"...). Storage only keeps it; what a channel can do is the registry's concern."""


@dataclass(frozen=True)
class Consent:
    """What the patient allowed a helper to learn. Every default is the most private choice."""

    helper_alerts: bool = False
    helper_sees_symptoms: bool = False
    helper_sees_mood: bool = False

    def to_dict(self) -> dict[str, bool]:
        return {f.name: bool(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Consent:
        """Unknown keys are ignored and missing ones take the private default, so consent
        stored by an older or newer version still reads."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: bool(v) for k, v in data.items() if k in known})


@dataclass(frozen=True)
class Patient:
    """A patient's profile.

    ``preferences`` is a sealed JSON object of the patient's choices about reminders and the
    chat, read and written only through `scheduler.preferences.Preferences` (which keeps keys
    it does not know, so an older engine does not drop a newer setting).
    """

    id: str
    alias: str
    language: str
    time_zone: str
    discreet: bool
    consent: Consent
    created_at: datetime
    preferences: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ChannelIdentity:
    """A patient's account on a channel. ``address`` is the Telegram user id (decimal) or an
    E.164 phone number; ``chat`` the Telegram chat id when it differs."""

    id: str
    patient_id: str
    channel: Channel
    address: str
    chat: str | None
    created_at: datetime


@dataclass(frozen=True)
class EnrolmentRecord:
    """A stored course of treatment: the domain's `Enrolment` with its row id and state."""

    id: str
    patient_id: str
    active: bool
    enrolment: Enrolment
    created_at: datetime
    updated_at: datetime
    planned_until: datetime | None = None
    """How far the reminder engine has materialised dose slots (None: not yet)."""


class SlotState(StrEnum):
    PENDING = "pending"
    REMINDED = "reminded"
    TAKEN = "taken"
    MISSED = "missed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"

    @property
    def phase(self) -> SlotPhase:
        """What the database shows of this state in plaintext."""
        if self is SlotState.PENDING:
            return SlotPhase.PLANNED
        if self is SlotState.REMINDED:
            return SlotPhase.OPEN
        return SlotPhase.CLOSED


class SlotPhase(StrEnum):
    """The plaintext of a slot's state: only what the scheduler needs. What became of a closed
    slot (taken, missed, skipped, cancelled) is sealed in its ``outcome`` column."""

    PLANNED = "planned"
    """Nothing sent about it yet: it may be planned again, its first reminder written ahead."""
    OPEN = "open"
    """Reminded, waiting for an answer or the end of its window."""
    CLOSED = "closed"


def reminder_key(slot_id: str) -> str:
    """The outbox dedupe key of a slot's first reminder: written at most once, and cancelled
    (`OutboxRepository.cancel_waiting`) if the dose is answered before the reminder is due."""
    return f"remind:{slot_id}"


class DoseOutcome(StrEnum):
    TAKEN = "taken"
    MISSED = "missed"
    SKIPPED = "skipped"


class ReportedVia(StrEnum):
    BUTTON = "button"
    TEXT = "text"
    HELPER = "helper"
    NO_REPLY = "no_reply"


@dataclass(frozen=True)
class NewDoseSlot:
    """A dose to materialise: its due instant, the end of its window, what to take."""

    due_at: datetime
    window_ends_at: datetime
    dose: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DoseSlot:
    id: str
    patient_id: str
    enrolment_id: str
    due_at: datetime
    window_ends_at: datetime
    state: SlotState
    next_check_at: datetime | None
    version: int
    dose: Mapping[str, Any]


@dataclass(frozen=True)
class DoseEvent:
    id: str
    patient_id: str
    slot_id: str
    outcome: DoseOutcome
    via: ReportedVia
    reported_at: datetime | None
    note: str | None
    recorded_at: datetime


@dataclass(frozen=True)
class SideEffectReport:
    id: str
    patient_id: str
    symptoms: tuple[str, ...]
    level: str
    free_text: str | None
    recorded_at: datetime
    follow_up_at: datetime | None


@dataclass(frozen=True)
class MoodScreening:
    id: str
    patient_id: str
    instrument: str
    answers: tuple[int, ...]
    score: int
    recorded_at: datetime


@dataclass(frozen=True)
class PillStock:
    patient_id: str
    counts: Mapping[str, int]
    updated_at: datetime


class HelperState(StrEnum):
    """invited (a name and an invitation) -> accepted (an account took the invitation; the
    patient has not confirmed yet) -> active; removed at any point, by either side."""

    INVITED = "invited"
    ACCEPTED = "accepted"
    ACTIVE = "active"
    REMOVED = "removed"


@dataclass(frozen=True)
class Helper:
    id: str
    patient_id: str
    state: HelperState
    alias: str
    channel: Channel | None
    address: str | None
    chat: str | None
    permissions: Mapping[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class HelperInvite:
    """An invitation. The token itself is returned once, by `HelperRepository.invite`."""

    id: str
    patient_id: str
    helper_id: str
    state: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class OpenedInvite:
    """What opening an invitation code did (`HelperRepository.open`).

    `own`: the patient opened their own invitation (nothing changed). `voided`: another
    account had opened it first, so it now works for nobody and the patient
    should be told. `unlinked`: the helper as they were when that void undid an acceptance the
    patient had not confirmed yet (with the address, so the first account can be told).
    """

    invite: HelperInvite
    own: bool = False
    voided: bool = False
    unlinked: Helper | None = None


class IncidentState(StrEnum):
    OPEN = "open"
    HANDLED = "handled"  # a helper said they will reach out
    CLOSED = "closed"  # over without an answer (expired, or nobody left to tell)


@dataclass(frozen=True)
class Timer:
    """An engine wake-up (`storage.repositories.timers`): ``task`` says what it does."""

    id: str
    patient_id: str
    due_at: datetime
    task: Mapping[str, Any]


@dataclass(frozen=True)
class Incident:
    """Something helpers should know, with who was told (see `scheduler.alerts`).

    ``detail`` (sealed) holds the kind, its facts, the helpers in escalation order, who was
    told, who passed it on and who took it on. ``next_at`` is the next escalation instant.
    """

    id: str
    patient_id: str
    dedupe_key: str
    state: IncidentState
    created_at: datetime
    next_at: datetime | None
    version: int
    detail: Mapping[str, Any]


@dataclass(frozen=True)
class Conversation:
    """Where one party's dialogue stands. ``party`` is ``"patient"`` or ``"helper:<id>"``."""

    patient_id: str
    party: str
    state: Mapping[str, Any]
    version: int
    updated_at: datetime
    expires_at: datetime | None


class OutboxState(StrEnum):
    # Revision 0009: "queued", not "pending", so that no dose word is found in the database.
    PENDING = "queued"
    LEASED = "leased"
    SENT = "sent"
    FAILED = "failed"
    EXPIRED = "expired"


# An outbox row's recipient: the patient, one of their helpers, or an account no longer linked
# (`OutboxMessage.to`; rows queued before revision 0004 carry it in the payload under "to").
PATIENT = "patient"
HELPER_PREFIX = "helper:"
DIRECT = "direct"


def helper_recipient(helper_id: str) -> str:
    return f"{HELPER_PREFIX}{helper_id}"


@dataclass(frozen=True)
class Address:
    """Where someone is reached: a channel, the account's address on it, and the chat when it
    differs (a Telegram chat id). Identifiers: sealed wherever they are stored."""

    channel: Channel
    address: str
    chat: str | None = None

    def __repr__(self) -> str:
        return f"Address({self.channel})"


@dataclass(frozen=True)
class OutboxMessage:
    """A message to queue. ``recipient`` is ``"patient"``, ``"helper:<id>"`` or ``"direct"``;
    ``dedupe_key`` must carry no identifier but random ids (e.g. ``"reminder:<slot id>"``).

    The row is addressed when it is queued: to ``to`` for a direct message (an account no
    longer linked), otherwise to the recipient's account as it is then."""

    patient_id: str
    recipient: str
    kind: str
    payload: Mapping[str, Any]
    dedupe_key: str
    not_before: datetime
    priority: int = 0
    expires_at: datetime | None = None
    to: Address | None = field(default=None, repr=False)


@dataclass(frozen=True)
class OutboxEntry:
    id: str
    patient_id: str
    recipient: str
    kind: str
    payload: Mapping[str, Any]
    dedupe_key: str
    priority: int
    state: OutboxState
    not_before: datetime
    expires_at: datetime | None
    attempts: int
    lease_owner: str | None
    lease_until: datetime | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    sent_message_id: str | None
    to: Address | None = field(default=None, repr=False)
    """Where the row goes out (None: not addressed yet, see `OutboxRepository.claim_due`)."""


@dataclass(frozen=True)
class Delivery:
    """A claimed message and where it goes: the recipient's channel address and chat, decrypted
    for the dispatcher. ``address`` is None when the recipient has no linked account (any more)."""

    entry: OutboxEntry
    channel: Channel | None
    address: str | None
    chat: str | None


@dataclass(frozen=True)
class AuditEvent:
    id: int
    at: datetime
    event: str
    table_name: str | None
    column_name: str | None
    row_id: str | None
    key_id: str | None
    count: int | None


@dataclass(frozen=True)
class ForgetReport:
    """How many rows each table lost. Carries no id: the patient is gone."""

    rows_deleted: Mapping[str, int]

    @property
    def total(self) -> int:
        return sum(self.rows_deleted.values())
