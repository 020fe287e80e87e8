"""Property tests for what a person types or presses on the helper side: invitation codes, the
names in `/helper`, and forged buttons. None may raise, and none may act beyond its owner."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.dialogue.choices import OPT, Picked
from bot.dialogue.conversation import Conversation
from bot.dialogue.helper_common import format_code
from bot.dialogue.messages import Inbound, Kind
from bot.flows import helpers as flow
from scheduler.alerts import HelperPrefs
from storage.repositories.helpers import CODE_ALPHABET, CODE_LENGTH, new_code, normalise_code
from storage.store import Store

NOW = datetime(2026, 3, 2, tzinfo=UTC)
codes = st.text(alphabet=CODE_ALPHABET, min_size=CODE_LENGTH, max_size=CODE_LENGTH)


@given(codes, st.sampled_from(["", "-", " ", "  "]), st.booleans())
def test_a_code_reads_back_however_it_is_grouped_or_cased(
    code: str, separator: str, lower: bool
) -> None:
    typed = format_code(code).replace("-", separator)
    assert normalise_code(typed.lower() if lower else typed) == code


@given(codes, st.integers(0, CODE_LENGTH - 1))
def test_a_code_with_a_letter_dropped_is_not_a_code(code: str, gap: int) -> None:
    assert normalise_code(code[:gap] + code[gap + 1 :]) is None


@given(st.text(max_size=80))
def test_any_text_is_a_code_or_none_never_an_error(text: str) -> None:
    code = normalise_code(text)
    assert code is None or (len(code) == CODE_LENGTH and set(code) <= set(CODE_ALPHABET))


def test_new_codes_carry_at_least_128_random_bits_and_differ() -> None:
    assert CODE_LENGTH * (len(CODE_ALPHABET).bit_length() - 1) >= 128
    assert len({new_code() for _ in range(1000)}) == 1000


def _conversation(step: str) -> Conversation:
    entry = flow.entry("a" * 32, "Ana", "active", HelperPrefs())
    data: dict[str, Any] = {
        "language": "en",
        "alias": "Mina",
        "helpers": [entry],
        "alerts_on": True,
        "escalate": 60,
        "name": "Bo",
    }
    return Conversation(flow.FLOW, step, data, NOW)


steps = st.sampled_from(["menu", "name", "shown", "escalate", f"helper:{'a' * 32}", "remove:x"])
events = st.one_of(
    st.text(max_size=60).map(lambda text: Inbound.from_text("telegram", "1", "1", text)),
    st.tuples(
        st.sampled_from([OPT, "hack", "cancel"]),
        st.from_regex(r"[A-Za-z0-9_.-]{0,48}", fullmatch=True),
    ).map(lambda p: Inbound("telegram", "1", "1", Kind.PICK, pick=Picked(*p))),
)


@given(steps, events)
def test_the_helper_menu_answers_anything_and_changes_only_what_it_offered(
    step: str, event: Inbound
) -> None:
    conversation = _conversation(step)
    turn = flow.handle(conversation, event, NOW)
    assert turn.replies or turn.change is not None
    change = turn.change
    if change is None:
        return
    if change.action in ("toggle", "run", "remove", "reinvite"):
        assert change.value["helper"] in ("a" * 32, "x")  # only the helper on screen
    if change.action == "invite":
        assert 0 < len(change.value["name"]) <= flow.MAX_NAME
        assert 0 < len(change.value["shown_as"]) <= flow.MAX_NAME
    if change.action == "toggle":
        assert change.value["switch"] in flow.SWITCHES


@pytest.mark.asyncio
async def test_codes_are_compared_only_as_keyed_digests_in_constant_time(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    mina = await store.patients.create(alias="Mina", language="en", time_zone="UTC")
    helper = await store.helpers.add(mina.id, alias="Ana")
    _, code = await store.helpers.invite(mina.id, helper.id, expires_at=NOW.replace(year=2030))
    assert await store.helpers.open(code, "telegram", "42") is not None
    assert compared and all(len(a) == len(b) == 32 for a, b in compared)
    assert all(code.encode() not in (a, b) for a, b in compared)
