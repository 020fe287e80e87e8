"""Where a person is in a conversation: the flow, its step and what they have said so far.

Stored in the database (encrypted, it holds answers), never in process memory, so a restart or
a second worker continues where the patient left off. A conversation left alone expires.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from bot.dialogue.messages import Reply

T = TypeVar("T")

EXPIRES_AFTER = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Conversation:
    flow: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)
    updated_at: datetime | None = None

    def expired(self, now: datetime) -> bool:
        return self.updated_at is not None and now - self.updated_at > EXPIRES_AFTER

    def at(self, step: str, now: datetime, **data: Any) -> Conversation:
        """The same conversation moved to `step`, with `data` added."""
        return replace(self, step=step, data={**self.data, **data}, updated_at=now)

    def to_dict(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "step": self.step,
            "data": self.data,
            "updated_at": None if self.updated_at is None else self.updated_at.isoformat(),
        }

    @staticmethod
    def from_dict(raw: dict[str, Any]) -> Conversation:
        stamp = raw.get("updated_at")
        return Conversation(
            flow=str(raw["flow"]),
            step=str(raw["step"]),
            data=dict(raw.get("data") or {}),
            updated_at=None if stamp is None else datetime.fromisoformat(stamp),
        )


# No slots: calling the alias of one flow (`FlowTurn[Setup](...)`) records it on the instance.
@dataclass(frozen=True)
class FlowTurn(Generic[T]):
    """What one event did in a flow, whichever flow: what to say, the conversation to keep
    (None: the flow is over), and the flow's outcome once it has one (a set-up to enrol, a
    report to store, a change to apply)."""

    replies: list[Reply]
    conversation: Conversation | None
    outcome: T | None = None
