"""Regimens the operator adds in TBBOT_REGIMENS_DIR: offered in set-up, repeated back, kept
whole in the enrolment; a broken file is left out and logged by name and field."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.cli import main
from bot.dialogue.choices import Picked
from bot.dialogue.messages import Inbound, Kind
from bot.flows.onboarding import Turn, begin, handle
from bot.flows.onboarding.setup import to_enrolment
from bot.operator_regimens import ENV, load_operator_regimens
from treatment.plan import iter_slots

NOW = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
CLINIC = """
id = "custom-clinic-longer"
name = "Clinic longer regimen (Bdq-Lfx-Lzd-Cfz)"

[[phases]]
duration = { weeks = 24 }
[[phases.drugs]]
name = "Bdq"
steps = [
  { mg = 400, tablets = 4, for_days = 14 },
  { mg = 200, tablets = 2, weekdays = ["mon", "wed", "fri"], min_gap_hours = 48 },
]
[[phases.drugs]]
name = "Lfx"
mg = 750
tablets = 3

[[phases]]
duration = { months = 12 }
[[phases.drugs]]
name = "Lfx"
tablets = 3
"""


def pick(arg: str) -> Inbound:
    return Inbound("test", "1", "1", Kind.PICK, pick=Picked("opt", arg))


def say(text: str) -> Inbound:
    return Inbound.from_text("test", "1", "1", text)


def run(turn: Turn, *events: Inbound) -> Turn:
    for event in events:
        assert turn.conversation is not None, "flow ended early"
        turn = handle(turn.conversation, event, NOW)
    return turn


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    (tmp_path / "10-clinic.toml").write_text(CLINIC, encoding="utf-8")
    (tmp_path / "20-broken.toml").write_text(
        '[[phases]]\nduration = { weeks = 400 }\n[[phases.drugs]]\nname = "H"\n', encoding="utf-8"
    )
    (tmp_path / "notes.txt").write_text("not a regimen", encoding="utf-8")
    monkeypatch.setenv(ENV, str(tmp_path))
    load_operator_regimens.cache_clear()
    yield tmp_path
    load_operator_regimens.cache_clear()


def test_valid_files_are_offered_and_broken_ones_logged(
    folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        found = load_operator_regimens()
    assert [r.slug for r in found] == ["op-10-clinic"]
    assert "20-broken.toml: phases: the phases last 400 weeks" in caplog.text
    turn = run(begin(NOW, "en"), pick("yes"), say("Mina"), pick("Asia.Seoul"))
    labels = [c.label for c in turn.replies[-1].all_choices()]
    assert labels[-3:] == [
        "Clinic longer regimen (Bdq-Lfx-Lzd-Cfz)",
        "My treatment is not in this list",
        "Cancel",
    ]


def test_an_operator_regimen_is_repeated_back_then_enrolled_whole(folder: Path) -> None:
    turn = run(begin(NOW, "en"), pick("yes"), say("Mina"), pick("Asia.Seoul"), pick("op-10-clinic"))
    assert turn.conversation is not None and turn.conversation.step == "custom_check"
    check = turn.replies[-1].text
    assert "Part 1: every day, for 24 weeks" in check
    assert (
        "bedaquiline: 4 tablets each time (400 mg) for the first 14 days, then 2 tablets each "
        "time (200 mg), on Monday, Wednesday, Friday" in check
    )
    assert "Part 2: every day, for 12 months" in check
    turn = run(turn, pick("right"), say("2026-03-09"), say("08:00"), pick("all"), pick("off"))
    setup = run(turn, pick("start")).outcome
    assert setup is not None
    plan = to_enrolment(setup, date(2026, 3, 10))
    assert plan.custom_regimen is not None and plan.custom_regimen.id == "custom-clinic-longer"
    slots = list(iter_slots(plan))
    assert len(slots) == 168 + (date(2027, 8, 24) - date(2026, 8, 24)).days
    # The file can go: the enrolment holds the whole regimen.
    (folder / "10-clinic.toml").unlink()
    load_operator_regimens.cache_clear()
    assert load_operator_regimens() == ()
    assert len(list(iter_slots(plan))) == len(slots)


def test_no_folder_means_no_operator_regimens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    load_operator_regimens.cache_clear()
    assert load_operator_regimens() == ()
    load_operator_regimens.cache_clear()


def test_tbbot_regimens_lists_the_operator_regimens(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["regimens"]) == 0
    out = capsys.readouterr().out
    assert "op-10-clinic: Clinic longer regimen (Bdq-Lfx-Lzd-Cfz)" in out
    assert "broken" not in out
    assert main(["regimens", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {
        "id": "op-10-clinic",
        "name": "Clinic longer regimen (Bdq-Lfx-Lzd-Cfz)",
        "operator": True,
    } in listed
    assert "BPaL" in {r["id"] for r in listed}
