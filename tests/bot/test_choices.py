"""Button payloads are hostile input: only the fixed grammar with a known verb gets through."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.dialogue.choices import MAX_PAYLOAD, Choice, Picked, parse_payload

VERBS = frozenset({"taken", "snooze", "skip"})


def test_a_choice_round_trips_through_its_payload() -> None:
    choice = Choice("Taken", "taken", "s_4f2a9c")
    assert parse_payload(choice.payload, VERBS) == Picked("taken", "s_4f2a9c")
    assert parse_payload(Choice("Not today", "skip").payload, VERBS) == Picked("skip")


@pytest.mark.parametrize(
    "data",
    [
        None,
        42,
        "",
        "delete_everything:1",
        "taken:../../etc",
        "taken:1;DROP TABLE",
        "taken:" + "a" * 49,
        "TAKEN:1",
        "taken:é",
        "x" * (MAX_PAYLOAD + 1),
    ],
)
def test_malformed_or_unknown_payloads_are_ignored(data: object) -> None:
    assert parse_payload(data, VERBS) is None


def test_a_choice_cannot_be_built_outside_the_grammar() -> None:
    with pytest.raises(ValueError, match="grammar"):
        Choice("Bad", "taken", "has space")


@given(st.one_of(st.text(max_size=100), st.binary(max_size=100), st.none(), st.integers()))
def test_no_payload_makes_the_parser_raise(data: object) -> None:
    picked = parse_payload(data, VERBS)
    assert picked is None or (picked.verb in VERBS and len(str(data)) <= MAX_PAYLOAD)


@given(
    st.sampled_from(sorted(VERBS)),
    st.text(
        alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", max_size=48
    ),
)
def test_every_payload_we_build_fits_telegram_and_parses_back(verb: str, arg: str) -> None:
    choice = Choice("label", verb, arg)
    assert len(choice.payload.encode()) <= MAX_PAYLOAD
    assert parse_payload(choice.payload, VERBS) == Picked(verb, arg)
