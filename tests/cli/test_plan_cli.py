"""`tbbot plan` and `tbbot regimens` as a person at the keyboard uses them."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parents[2]
TODAY = datetime.now(UTC).date()
START = (TODAY + timedelta(days=7)).isoformat()


def _plan_json(capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, object]:
    status = main(["plan", "--start", START, "--tz", "Europe/Berlin", "--json", *extra])
    out = capsys.readouterr().out
    assert status == 0
    result: dict[str, object] = json.loads(out)
    return result


def test_plan_json_gives_phases_doses_and_completion(capsys: pytest.CaptureFixture[str]) -> None:
    plan = _plan_json(
        capsys, "--regimen", "2HRZE/4HR", "--times", "08:00", "--weight", "60", "--slots", "3"
    )
    assert plan["regimen"] == "2HRZE/4HR"
    assert plan["doses_required"] == 182
    phases = plan["phases"]
    assert isinstance(phases, list)
    assert [(p["name"], p["doses_required"]) for p in phases] == [
        ("intensive", 56),
        ("continuation", 126),
    ]
    assert phases[0]["drugs"][1] == {"name": "rifampicin", "mg": 600}
    assert phases[0]["products"] == [
        {
            "name": "HRZE",
            "tablets_per_dose": 4,
            "each_tablet": [
                {"drug": "isoniazid", "mg": 75},
                {"drug": "rifampicin", "mg": 150},
                {"drug": "pyrazinamide", "mg": 400},
                {"drug": "ethambutol", "mg": 275},
            ],
            "mg_per_dose": None,
            "text": "4 tablets of HRZE (each: isoniazid 75 mg, rifampicin 150 mg, "
            "pyrazinamide 400 mg, ethambutol 275 mg)",
        }
    ]
    assert [p["name"] for p in phases[1]["products"]] == ["HR"]
    start = date.fromisoformat(START)
    assert plan["projected_completion"] == (start + timedelta(days=181)).isoformat()
    complete_by = plan["complete_by"]
    assert isinstance(complete_by, str) and date.fromisoformat(complete_by) > start
    slots = plan["slots"]
    assert isinstance(slots, list) and len(slots) == 3
    first = slots[0]
    assert first["phase"] == "intensive"
    local = datetime.fromisoformat(first["local"])
    utc = datetime.fromisoformat(first["utc"])
    assert local.date() == start and local.hour == 8
    assert utc == local and utc.utcoffset() == timedelta(0)
    assert {"name", "mg"} <= set(first["drugs"][0])


def test_missed_dates_move_the_projected_completion(capsys: pytest.CaptureFixture[str]) -> None:
    start = date.fromisoformat(START)
    missed = [(start + timedelta(days=d)).isoformat() for d in (1, 2, 40)]
    plan = _plan_json(capsys, "--regimen", "2HRZE/4HR", "--times", "08:00", "--missed", *missed)
    assert plan["projected_completion"] == (start + timedelta(days=181 + 3)).isoformat()


def test_3hp_plan_is_twelve_weekly_doses(capsys: pytest.CaptureFixture[str]) -> None:
    plan = _plan_json(capsys, "--regimen", "3HP", "--times", "09:30", "--slots", "12")
    slots = plan["slots"]
    assert isinstance(slots, list)
    dates = [datetime.fromisoformat(s["local"]).date() for s in slots]
    assert plan["doses_required"] == 12
    assert [(b - a).days for a, b in itertools.pairwise(dates)] == [7] * 11


def test_table_output_is_readable(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(
        ["plan", "--regimen", "BPaLM", "--start", START, "--times", "08:00", "--tz", "Asia/Seoul"]
    )
    out = capsys.readouterr().out
    assert status == 0
    assert "bedaquiline" in out and "400 mg" in out and "mon wed fri" in out
    assert "projected completion" in out


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["--regimen", "2HRZE/5HR"], "allowed: 2HRZE/4HR"),
        (["--times", "25:00"], "allowed: HH:MM from 00:00 to 23:59"),
        (["--times", "08:00,20:00"], "allowed: exactly 1"),
        (["--tz", "Mars/Base"], "IANA"),
        (["--weight", "2.5"], "3 to 250 kg"),
        (["--weight", "300"], "3 to 250 kg"),
        (["--start", (TODAY + timedelta(days=400)).isoformat()], "more than a year"),
        (["--start", "2026-13-01"], "YYYY-MM-DD"),
        (["--missed", "1999-01-01"], "no planned dose"),
        (["--slots", "-1"], "allowed: 0 to"),
    ],
)
def test_bad_input_exits_2_and_says_what_is_allowed(
    capsys: pytest.CaptureFixture[str], arguments: list[str], expected: str
) -> None:
    base = {"--regimen": "2HRZE/4HR", "--start": START, "--times": "08:00", "--tz": "UTC"}
    for flag, value in zip(arguments[::2], arguments[1::2], strict=True):
        base[flag] = value
    argv = ["plan"] + [part for pair in base.items() for part in pair]
    status = main(argv)
    captured = capsys.readouterr()
    assert status == 2
    assert captured.out == ""
    assert captured.err.startswith("tbbot plan: error: ")
    assert expected in captured.err


def test_regimens_lists_the_catalogue_with_sources(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["regimens"]) == 0
    out = capsys.readouterr().out
    for regimen_id in ("2HRZE/4HR", "BPaLM", "3HP", "9H"):
        assert regimen_id in out
    assert "source: ATS/CDC/IDSA 2016" in out


def test_regimens_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["regimens", "--json"]) == 0
    regimens = json.loads(capsys.readouterr().out)
    by_id = {r["id"]: r for r in regimens}
    assert by_id["2HRZE/4HR-5d"]["doses_required"] == 130
    assert all(r["source"] for r in regimens)


def test_installed_console_script_runs_the_plan() -> None:
    script = Path(sys.executable).parent / "tbbot"
    done = subprocess.run(
        [
            str(script),
            "plan",
            "--regimen",
            "3HP",
            "--start",
            START,
            "--times",
            "08:00",
            "--tz",
            "Asia/Seoul",
            "--json",
            "--slots",
            "1",
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["doses_required"] == 12
    refused = subprocess.run(
        [
            str(script),
            "plan",
            "--regimen",
            "3HP",
            "--start",
            START,
            "--times",
            "08:00",
            "--tz",
            "Nowhere/Town",
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=60,
    )
    assert refused.returncode == 2
    assert "unknown time zone" in refused.stderr
