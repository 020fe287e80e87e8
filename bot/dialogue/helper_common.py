"""What the helper desk's parts share: the verbs of its buttons, the invitation's rules, and the
notices it queues."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta

from bot.compose import ACK, HAND_ON
from bot.dialogue.messages import Reply
from bot.i18n import Translator
from scheduler.outbox import Kind as OutboxKind
from scheduler.outbox import Payload
from storage.records import (
    DIRECT,
    Address,
    Helper,
    OutboxMessage,
)

JOIN = "hjoin"  # the helper accepts an invitation they opened
DECLINE = "hno"
CONFIRM = "hok"  # the patient confirms the account that accepted
REJECT = "hnot"
LEAVE = "hleave"
STATUS = "hstat"
VERBS = frozenset({JOIN, DECLINE, CONFIRM, REJECT, LEAVE, STATUS, ACK, HAND_ON})
COMMANDS = frozenset({"join", "patients", "status", "leave", "visitfor", "enrol", "regimenfor"})
START_PREFIX = "join-"
INVITE_VALID = timedelta(hours=24)
CODE_TRIES = 5
CODE_TRIES_PER = timedelta(hours=1)


# An invitation code as `format_code` shows it, typed alone or after any one word: "JOIN ...",
# "가입 ...", "加入 ..." on SMS, or the same line pasted into another channel's chat.
_TYPED_CODE = re.compile(
    r"^\s*(?:\S{1,12}\s+)?([0-9A-Z]{4}(?:-[0-9A-Z]{2,4}){6})\s*$", re.IGNORECASE
)


def typed_code(text: str) -> str | None:
    """The invitation code a typed line holds, if it is nothing but (a word and) a code."""
    found = _TYPED_CODE.match(text)
    return found.group(1) if found else None


def format_code(code: str) -> str:
    """The code in groups of four, easier to read aloud and type."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def notice(
    patient_id: str, recipient: str, key: str, payload: Payload, now: datetime
) -> OutboxMessage:
    return OutboxMessage(
        patient_id=patient_id,
        recipient=recipient,
        kind=OutboxKind.NOTICE.value,
        payload=payload.to_dict(),
        dedupe_key=f"notice:{key}",
        not_before=now,
        priority=int(OutboxKind.NOTICE.priority),
    )


def direct(patient_id: str, helper: Helper, key: str, text: str, now: datetime) -> OutboxMessage:
    """A last message to an account whose role is gone: addressed to the account itself,
    since the helper row no longer holds it."""
    message = notice(patient_id, DIRECT, key, Payload.message(text), now)
    if helper.channel is None or helper.address is None:
        return message
    return replace(message, to=Address(helper.channel, helper.address, helper.chat))


def not_for_you(t: Translator) -> Reply:
    return Reply(t._("This is not something I can show you."))


def info_gone(t: Translator) -> Reply:
    return Reply(t._("That helper is no longer on your list."))
