"""Crisis help lines, from a data file the operator can edit.

`TBBOT_CRISIS_LINES_FILE` points at the operator's own copy; the packaged default is
`bot/data/crisis_lines.toml`. A broken file must not hide help from someone in crisis, so
a file that cannot be read falls back to the packaged one and the problem is logged.
"""

from __future__ import annotations

import logging
import os
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HelpLine:
    name: str
    number: str
    zones: frozenset[str]


@dataclass(frozen=True, slots=True)
class CrisisLines:
    default_text: dict[str, str]  # locale -> text; "en" is always there
    lines: tuple[HelpLine, ...]

    def for_zone(self, zone: str | None) -> list[HelpLine]:
        return [line for line in self.lines if zone in line.zones]


def _parse(text: str) -> CrisisLines:
    data = tomllib.loads(text)
    lines = tuple(
        HelpLine(str(row["name"]), str(row["number"]), frozenset(str(z) for z in row["zones"]))
        for row in data.get("line", [])
    )
    texts = {str(k): str(v) for k, v in data["default"]["text"].items()}
    if "en" not in texts:
        raise KeyError("default.text.en")
    return CrisisLines(texts, lines)


def load_crisis_lines() -> CrisisLines:
    packaged = resources.files("bot").joinpath("data/crisis_lines.toml").read_text("utf-8")
    custom = os.environ.get("TBBOT_CRISIS_LINES_FILE")
    if custom:
        try:
            return _parse(Path(custom).read_text("utf-8"))
        except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError) as exc:
            logger.error(
                "crisis lines file unusable (%s); using the packaged one", type(exc).__name__
            )
    return _parse(packaged)
