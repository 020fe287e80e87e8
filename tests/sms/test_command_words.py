"""Words that are the router's commands on SMS: a phone without "/" still reaches /regimen and
/visits, in each language."""

from __future__ import annotations

import pytest

from bot.dialogue.messages import Kind
from tests.sms.test_inbound import MINA, Rig, rig

__all__ = ["rig"]


@pytest.mark.parametrize(
    ("typed", "command"),
    [
        ("visits", "visits"),
        ("Appointment", "visits"),
        ("예약", "visits"),
        ("复诊", "visits"),
        ("regimen change", "regimen"),
        ("처방 변경", "regimen"),
        ("换药", "regimen"),
        ("forget", "forget"),
    ],
)
async def test_a_command_word_becomes_the_command(rig: Rig, typed: str, command: str) -> None:
    await rig.text(MINA, typed)
    (event,) = rig.heard
    assert (event.kind, event.command) == (Kind.COMMAND, command)


async def test_a_command_word_inside_a_sentence_is_plain_text(rig: Rig) -> None:
    await rig.text(MINA, "my visit went well")
    (event,) = rig.heard
    assert event.kind is Kind.TEXT
