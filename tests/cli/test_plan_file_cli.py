"""`tbbot plan --file` and `tbbot drugs`: a clinician checks a custom regimen before the start."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main

START = datetime.now(UTC).date() + timedelta(days=7)
PRESCRIPTION = """
id = "custom-clinic"
name = "As my clinic prescribed"

[[phases]]
name = "with bedaquiline"
duration = { weeks = 24 }

[[phases.drugs]]
name = "Bdq"
loading = { days = 14, tablets = 4, mg = 400 }
tablets = 2
mg = 200
weekdays = ["mon", "wed", "fri"]
min_gap_hours = 48

[[phases.drugs]]
name = "Lfx"
tablets = 3

[[phases]]
name = "after"
duration = { months = 2 }
pattern = { kind = "three_times_weekly" }

[[phases.drugs]]
name = "levofloxacin"
tablets = "as prescribed"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "my.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _plan(path: Path, *extra: str) -> list[str]:
    return [
        "plan",
        "--file",
        str(path),
        "--start",
        START.isoformat(),
        "--times",
        "08:00",
        "--tz",
        "Asia/Shanghai",
        *extra,
    ]


def test_plan_file_json_counts_the_prescription(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_plan(_write(tmp_path, PRESCRIPTION), "--json", "--slots", "20")) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["regimen"] == "custom-clinic" and plan["custom"] is True
    phases = plan["phases"]
    assert phases[0]["doses_required"] == 168
    # Two calendar months of Mon/Wed/Fri from the day after the first phase's last dose.
    second = START + timedelta(days=168)
    month = second.month + 2
    until = date(second.year + (month - 1) // 12, (month - 1) % 12 + 1, min(second.day, 28))
    mwf = sum(
        1
        for n in range((until - second).days)
        if (second + timedelta(days=n)).weekday() in (0, 2, 4)
    )
    if second.day <= 28:
        assert phases[1]["doses_required"] == mwf
    assert 16 <= phases[1]["doses_required"] <= 28
    assert phases[1]["weekdays"] == ["mon", "wed", "fri"]
    bdq = [d for d in phases[0]["drugs"] if d["name"] == "bedaquiline"]
    assert bdq == [
        {"name": "bedaquiline", "mg": 400, "for_days": 14},
        {"name": "bedaquiline", "mg": 200, "from_day": 15, "weekdays": ["mon", "wed", "fri"]},
    ]
    levo = next(d for d in phases[0]["drugs"] if d["name"] == "levofloxacin")
    assert levo == {"name": "levofloxacin", "mg": None, "tablets": 3}
    first = plan["slots"][0]
    assert [p["text"] for p in first["products"]] == [
        "4 tablets of bedaquiline 100 mg",
        "3 tablets of levofloxacin",
    ]


def test_plan_file_text_says_to_check_against_the_prescription(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_plan(_write(tmp_path, PRESCRIPTION), "--slots", "0")) == 0
    out = capsys.readouterr().out
    assert "check every line against the prescription" in out
    assert "levofloxacin   3 tablet(s) per dose" in out
    assert "bedaquiline    200 mg per dose  (from day 15; mon wed fri)" in out


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[[phases]]\nduration = { weeks = 400 }\n[[phases.drugs]]\nname = 'H'\n", "400 weeks"),
        (
            "[[phases]]\nduration = { weeks = 4 }\n"
            "pattern = { kind = 'three_times_weekly', weekdays = ['mon', 'tue', 'thu'] }\n"
            "[[phases.drugs]]\nname = 'H'\n",
            "less than 48 h apart",
        ),
        ("[[phases]]\nduration = { weeks = 4 }\ndrugs = []\n", "at least one medicine"),
        ("phases = [\n", "not valid TOML"),
    ],
)
def test_impossible_file_is_a_usage_error_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, words: str
) -> None:
    assert main(_plan(_write(tmp_path, text))) == 2
    err = capsys.readouterr().err
    assert err.startswith("tbbot plan: error: my.toml: ")
    assert words in err


def test_missing_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_plan(tmp_path / "absent.toml")) == 2
    assert "cannot read it" in capsys.readouterr().err


def test_regimen_and_file_are_exclusive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([*_plan(_write(tmp_path, PRESCRIPTION)), "--regimen", "BPaL"])
    assert "not allowed with argument" in capsys.readouterr().err


def test_drugs_lists_who_ids_with_three_languages(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drugs", "--json"]) == 0
    drugs = {d["id"]: d for d in json.loads(capsys.readouterr().out)}
    assert drugs["Bdq"]["names"] == {"en": "bedaquiline", "ko": "베다퀼린", "zh_Hans": "贝达喹啉"}
    assert drugs["Bdq"]["qt_prolonging"] is True
    assert "HRZE" in drugs["H"]["combinations"]
    assert main(["drugs"]) == 0
    assert "Lzd" in capsys.readouterr().out
