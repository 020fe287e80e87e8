"""`tbbot sms usage`: the month's texts and segments, and their spread over people, counts only."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest

from bot.cli import main as tbbot
from bot.commands.sms_usage import percentile, report
from bot.config import Settings, config_dir
from tests.conftest import TestDatabase

NUMBERS = ("+12025550101", "+12025550102", "+821012345678", "+8613800138000")


@pytest.fixture
def workdir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database: TestDatabase) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("TBBOT_MASTER_KEY", "TBBOT_FORGOTTEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TBBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATABASE_URL", database.url)
    key_file = config_dir() / "usage.key"
    monkeypatch.setenv("TBBOT_MASTER_KEY_FILE", str(key_file))
    assert tbbot(["keys", "init", "--file", str(key_file)]) == 0
    return tmp_path


async def _send(sent: list[tuple[str, date, int]]) -> None:
    store = await Settings().open_store()
    try:
        for number, day, segments in sent:
            await store.sms.count_sent(number, day, segments)
    finally:
        await store.close()


def test_the_month_is_counted_and_spread_without_a_number(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    march = [
        (NUMBERS[0], date(2026, 3, 1), 1),
        (NUMBERS[0], date(2026, 3, 1), 3),
        (NUMBERS[0], date(2026, 3, 31), 2),  # 3 texts, 6 segments
        (NUMBERS[1], date(2026, 3, 15), 1),  # 1 text, 1 segment
        *[(NUMBERS[2], date(2026, 3, day), 3) for day in range(1, 26)],  # 75 segments
    ]
    april = [(NUMBERS[3], date(2026, 4, 1), 3)]
    asyncio.run(_send([*march, *april]))
    capsys.readouterr()
    assert tbbot(["sms", "usage", "--month", "2026-03"]) == 0
    out = capsys.readouterr().out
    assert "SMS sent in 2026-03" in out
    assert "texts:    29" in out and "segments: 82" in out and "numbers:  3" in out
    assert "min 1, median 6, 90th percentile 75, max 75" in out
    bins = dict(line.split() for line in out.splitlines() if line.startswith("      "))
    assert bins == {"1-10": "2", "11-30": "0", "31-60": "0", "61-100": "1", "101-300": "0"}
    assert "301 or more  0" in out
    for number in NUMBERS:
        assert number not in out and number[-4:] not in out

    assert tbbot(["sms", "usage", "--month", "2026-05"]) == 0
    assert "nothing was sent this month" in capsys.readouterr().out


def test_a_bad_or_future_month_is_refused(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as bad:
        tbbot(["sms", "usage", "--month", "2026-13"])
    assert bad.value.code == 2
    assert "is not a month like 2026-03" in capsys.readouterr().err
    assert tbbot(["sms", "usage", "--month", "2999-01"]) == 2
    assert "has not begun yet" in capsys.readouterr().err


def test_help_says_what_it_shows(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        tbbot(["sms", "usage", "--help"])
    out = capsys.readouterr().out
    assert "--month YYYY-MM" in out and "No number" in " ".join(out.split())


def test_percentiles_are_nearest_rank() -> None:
    assert percentile([1, 2, 3, 4], 0.5) == 2
    assert percentile([5], 0.9) == 5
    assert percentile(list(range(1, 11)), 0.9) == 9
    assert report("2026-01", 0, 0, [])[-1] == "  nothing was sent this month"
