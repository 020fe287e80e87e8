"""Outbox messages: what a payload may hold, how it is stored, what it shows when printed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from scheduler.outbox import Button, Kind, OutboxMessage, Payload, Priority

TAKEN = ((Button("Taken", "dose:taken:1"), Button("Later", "dose:later:1")),)


@pytest.mark.parametrize(
    "payload",
    [
        Payload.message("Time for your dose", TAKEN),
        Payload.edit(12, "Recorded: taken"),
        Payload.edit_buttons(12),
        Payload.delete(12),
    ],
    ids=["send", "edit", "edit-buttons", "delete"],
)
def test_payload_survives_its_stored_form(payload: Payload) -> None:
    assert Payload.from_dict(payload.to_dict()) == payload


def test_reprs_show_neither_text_nor_chat() -> None:
    message = OutboxMessage(
        id="msg-1",
        recipient="p-7",
        channel="telegram",
        address="738291046",
        kind=Kind.REMINDER,
        payload=Payload.message("Mina, your isoniazid", TAKEN),
        not_before=datetime(2026, 3, 2, 8, tzinfo=UTC),
        dedupe_key="dose:p-7:2026-03-02T08:00",
    )

    shown = repr(message)

    assert "isoniazid" not in shown
    assert "738291046" not in shown
    assert "text=20 chars, buttons=2" in shown


def test_callback_data_over_telegrams_64_bytes_is_refused() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        Button("Taken", "d" * 65)


@pytest.mark.parametrize(
    "build",
    [
        lambda: Payload.message("   "),
        lambda: Payload.message("x" * 4097),
        lambda: Payload(Payload.delete(1).action, text="gone"),
    ],
    ids=["blank", "too-long", "delete-with-text"],
)
def test_payloads_telegram_would_refuse_are_refused_here(build: Callable[[], Payload]) -> None:
    with pytest.raises(ValueError):
        build()


def test_first_reminders_and_helper_alerts_outrank_nudges_and_summaries() -> None:
    assert Kind.REMINDER.priority == Kind.HELPER_ALERT.priority == Priority.URGENT
    assert Kind.REMINDER.priority < Kind.NUDGE.priority < Kind.SUMMARY.priority
