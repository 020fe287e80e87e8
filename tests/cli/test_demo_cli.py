"""`tbbot demo` on a fresh machine: a newcomer sets up, gets a reminder, answers it, and
sees what a helper receives, with nothing configured."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.cli import main

TBBOT = Path(sys.executable).with_name("tbbot")
SCRIPT = [
    "/start",
    "1",  # English
    "1",  # I agree
    "Mina",
    "1",  # Seoul
    "1",  # standard 6-month treatment
    "2",  # yesterday
    "08:00",
    "1",  # all earlier doses taken (yesterday's, and today's if 08:00 has passed)
    "1",  # skip weight
    "1",  # discreet, called vitamins
    "1",  # start
    "+{hours}h",  # to just after the next 08:00 in Seoul (computed below)
    "1",  # Taken, on the reminder now on screen
    "/symptom",
    "1",  # the first red flag offered
    "1",  # mild
    "2",  # nothing else
    "1",  # skip own words
    "+2d",
    "@jisoo 1",  # the helper: "I'll reach out" on the latest alert
    "@jisoo /patients",
]


def hours_to_next_eight_in_seoul() -> int:
    now = datetime.now(ZoneInfo("Asia/Seoul"))
    eight = now.replace(hour=8, minute=0, second=0, microsecond=0)
    if eight <= now:
        eight += timedelta(days=1)
    return math.ceil((eight - now).total_seconds() / 3600)


def test_the_demo_runs_a_whole_story_without_configuration(tmp_path: Path) -> None:
    script = "\n".join(SCRIPT).format(hours=hours_to_next_eight_in_seoul()) + "\n"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TBBOT_", "TELEGRAM_", "DATABASE_"))
    }
    result = subprocess.run(
        [str(TBBOT), "demo", "--speed", "60"],
        input=script,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    out = result.stdout
    assert result.returncode == 0, result.stderr[-2000:]
    assert "All set, Mina" in out
    assert "time for your vitamins" in out
    assert ": taken ✓" in out
    assert "Stop taking the medicine" in out
    assert "to your helper Jisoo" in out
    assert "Thank you for reaching out to Mina" in out
    assert "The people you help, today:" in out
    assert "finished; the temporary database and key are deleted" in out
    assert list(tmp_path.iterdir()) == []  # nothing left behind in the working folder


def test_a_silly_speed_is_refused_with_exit_status_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--speed", "0"]) == 2
    assert "--speed must be from 1 to 100000" in capsys.readouterr().err


def test_run_without_a_token_points_to_env_example_and_the_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert ".env.example" in err and "make demo" in err
    assert not (tmp_path / "data").exists()  # nothing was created
