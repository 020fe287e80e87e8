"""Thresholds of the interruption and bedaquiline rules, read from `treatment/data/rules.toml`.

They are data, not constants in code, so an operator can follow a programme that counts
differently, and each value keeps its source next to it.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from treatment.errors import DataFileError

SOURCE = "treatment/data/rules.toml"


@dataclass(frozen=True, slots=True)
class Rules:
    intensive_lapse_days: int
    continuation_min_taken_percent: int
    continuation_cumulative_lapse_days: int
    continuation_single_lapse_days: int
    lost_to_follow_up_days: int
    lapse_warning_days: int
    bedaquiline_window_hours: int
    bedaquiline_reload_gap_days: int
    bedaquiline_reassess_gap_days: int
    bedaquiline_reload_daily_doses: int


@functools.cache
def load_rules() -> Rules:
    text = resources.files("treatment").joinpath("data/rules.toml").read_text("utf-8")
    return parse_rules(tomllib.loads(text), SOURCE)


def parse_rules(data: dict[str, Any], source: str) -> Rules:
    def number(table: str, key: str, high: int) -> int:
        section = data.get(table)
        if not isinstance(section, dict):
            raise DataFileError(source, table, "missing table")
        if not isinstance(section.get("source"), str) or not section["source"]:
            raise DataFileError(source, f"{table}.source", "every rule table names its source")
        value = section.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= high:
            raise DataFileError(
                source, f"{table}.{key}", f"must be a whole number from 1 to {high}"
            )
        return value

    rules = Rules(
        intensive_lapse_days=number("intensive", "lapse_days", 365),
        continuation_min_taken_percent=number("continuation", "min_taken_percent", 100),
        continuation_cumulative_lapse_days=number("continuation", "cumulative_lapse_days", 3650),
        continuation_single_lapse_days=number("continuation", "single_lapse_days", 3650),
        lost_to_follow_up_days=number("lost_to_follow_up", "consecutive_days", 3650),
        lapse_warning_days=number("lost_to_follow_up", "warn_after_days", 3650),
        bedaquiline_window_hours=number("bedaquiline", "window_hours", 24 * 7),
        bedaquiline_reload_gap_days=number("bedaquiline", "reload_gap_days", 3650),
        bedaquiline_reassess_gap_days=number("bedaquiline", "reassess_gap_days", 3650),
        bedaquiline_reload_daily_doses=number("bedaquiline", "reload_daily_doses", 100),
    )
    if rules.lapse_warning_days >= rules.lost_to_follow_up_days:
        raise DataFileError(
            source, "lost_to_follow_up.warn_after_days", "must come before consecutive_days"
        )
    if rules.bedaquiline_reload_gap_days >= rules.bedaquiline_reassess_gap_days:
        raise DataFileError(
            source, "bedaquiline.reload_gap_days", "must be below reassess_gap_days"
        )
    return rules
