"""The weight question as a pure flow: any weight typed the usual ways reads back exactly,
anything else asks again and stores nothing, and only the options shown can be picked."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from bot.dialogue.choices import OPT, Picked
from bot.dialogue.conversation import Conversation
from bot.dialogue.messages import Inbound, Kind
from bot.flows import weighin

NOW = datetime(2026, 4, 1, 11, tzinfo=UTC)
FORMS = ("{}", "{} kg", "{}kg", "{} KG", "{}公斤", "{} 킬로", "{}킬로그램")


def _text(typed: str) -> Inbound:
    return Inbound.from_text("telegram", "1", "1", typed)


def _pick(arg: str) -> Inbound:
    return Inbound("telegram", "1", "1", Kind.PICK, pick=Picked(OPT, arg))


def _asked(last: float | None = 52.0, *, discreet: bool = False) -> Conversation:
    turn = weighin.begin(NOW, "en", last, discreet=discreet, source="weigh_in")
    assert turn.conversation is not None
    return turn.conversation


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in text)


@given(
    tenths=st.integers(30, 2500),
    form=st.sampled_from(FORMS),
    comma=st.booleans(),
    wide=st.booleans(),
)
def test_a_weight_typed_the_usual_ways_reads_back_exactly(
    tenths: int, form: str, comma: bool, wide: bool
) -> None:
    kg = tenths / 10
    number = f"{kg:g}".replace(".", "," if comma else ".")
    typed = form.format(_full_width(number) if wide else number)
    turn = weighin.handle(_asked(), _text(typed), NOW)
    assert turn.outcome == weighin.Weighed(kg)


def _no_digit(text: str) -> bool:
    return not any(c.isdigit() for c in unicodedata.normalize("NFKC", text))


@given(
    st.one_of(
        st.integers(-1000, 2).map(str),
        st.integers(251, 10**6).map("{} kg".format),
        st.text(max_size=60).filter(_no_digit),
    )
)
def test_anything_else_asks_again_and_decides_nothing(typed: str) -> None:
    turn = weighin.handle(_asked(), _text(typed), NOW)
    assert turn.outcome is None
    assert turn.conversation is not None and turn.conversation.step == "kg"
    assert turn.replies[-1].all_choices()  # the question again, with its buttons


def test_same_as_last_time_is_offered_only_when_there_is_a_last_time() -> None:
    assert weighin.handle(_asked(), _pick("same"), NOW).outcome == weighin.Weighed(52.0)
    without = weighin.handle(_asked(None), _pick("same"), NOW)
    assert without.outcome is None  # not shown, so not pickable
    assert weighin.handle(_asked(), _pick("skip"), NOW).outcome == weighin.Weighed(None)


def test_only_the_options_of_the_step_are_read() -> None:
    clinician = weighin.ask_clinician(_asked(), NOW, 57.0)
    assert weighin.handle(clinician, _pick("yes"), NOW).outcome is None  # a confirm button
    said = weighin.handle(clinician, _pick("changed"), NOW).outcome
    assert said == weighin.ClinicianSaid(weighin.Said.CHANGED, 57.0)
    confirm = weighin.ask_confirm(clinician, NOW, 57.0, ["4 tablets of HRZE"]).conversation
    assert confirm is not None
    assert weighin.handle(confirm, _pick("kept"), NOW).outcome is None
    assert weighin.handle(confirm, _pick("yes"), NOW).outcome == weighin.Confirmed(57.0, True)
    assert weighin.handle(confirm, _pick("no"), NOW).outcome == weighin.Confirmed(57.0, False)


def test_discreet_wording_does_not_speak_of_tablets() -> None:
    plain = weighin.question(_asked()).text
    discreet = weighin.question(_asked(discreet=True)).text
    assert "tablets" in plain and "tablets" not in discreet
