"""`/progress`: doses taken and still to take, adherence, streak, end date and warnings.

Counting is `treatment.adherence`; this module only words it. Missed doses are stated as
facts with what to do next, never as blame.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from bot.dialogue.messages import Reply
from bot.flows.reminder import Wording, stored_dose_lines
from bot.i18n import Translator
from bot.texts import DISCREET_REASONS, PHASE_NAMES, REASONS
from treatment.adherence import AdherenceSummary
from treatment.codes import Severity


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{round(value * 100)}%"


MOOD_MAX = {"phq2": 6, "phq9": 27}


def progress_reply(
    t: Translator,
    summary: AdherenceSummary,
    zone: str,
    moods: Sequence[tuple[date, str, int]] = (),
    *,
    next_dose: Mapping[str, Any] | None = None,
    wording: Wording | None = None,
    history: Sequence[str] = (),
) -> Reply:
    """The progress message, most important first: the loudest status, then the numbers,
    then what the next dose is (the products in the hand, as `wording` allows)."""
    wording = wording or Wording()
    lines = []
    reasons = {**REASONS, **DISCREET_REASONS} if wording.discreet else REASONS
    loud = [s for s in summary.statuses if s.code.value in reasons]
    for status in loud[:3]:
        until = ""
        if status.until is not None:
            until = t.moment(status.until.astimezone(ZoneInfo(zone)))
        mark = "⚠️ " if status.severity in (Severity.WARNING, Severity.CLINICIAN) else ""
        lines.append(mark + t._(reasons[status.code.value], until=until))
    lines.append("")
    if history:
        lines.extend([*history, ""])
    lines.append(
        t._(
            "Doses taken: {taken} of {required}",
            taken=summary.doses_taken,
            required=summary.doses_required,
        )
    )
    for phase in summary.phases:
        name = t._(PHASE_NAMES.get(phase.name, phase.name))
        lines.append(
            t._(
                "{phase}: {taken} of {required}",
                phase=name,
                taken=phase.doses_taken,
                required=phase.doses_required,
            )
        )
    lines.append(
        t._(
            "Doses taken when due: {week} (last 7 days), {month} (30 days), "
            "{whole} (since the start)",
            week=_percent(summary.adherence_7d),
            month=_percent(summary.adherence_30d),
            whole=_percent(summary.adherence_whole),
        )
    )
    if summary.streak:
        lines.append(
            t.ngettext("Streak: {n} dose in a row", "Streak: {n} doses in a row", summary.streak)
        )
    if summary.intensive_ends is not None and not summary.complete:
        lines.append(t._("First phase ends around: {date}", date=t.date(summary.intensive_ends)))
    if summary.projected_completion is not None and not summary.complete:
        lines.append(
            t._("Last dose expected on: {date}", date=t.date(summary.projected_completion))
        )
    dose_lines = (
        [] if next_dose is None or summary.complete else stored_dose_lines(t, next_dose, wording)
    )
    if dose_lines:
        lines.append(t._("Each dose now:"))
        lines.extend(f"• {line}" for line in dose_lines)
    if moods:
        lines.append("")
        lines.append(t._("Mood check-ins (a lower score means fewer troubles):"))
        lines.extend(
            t._(
                "{date}: {score} of {max}",
                date=t.date(day, "medium"),
                score=score,
                max=MOOD_MAX.get(instrument, 27),
            )
            for day, instrument, score in moods
        )
    return Reply("\n".join(lines), sensitive=True)
