"""`/progress`: doses taken and still to take, adherence, streak, end date and warnings.

Counting is `treatment.adherence`; this module only words it. Missed doses are stated as
facts with what to do next, never as blame.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from zoneinfo import ZoneInfo

from bot.dialogue.messages import Reply
from bot.i18n import Translator
from bot.texts import PHASE_NAMES, REASONS
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
) -> Reply:
    """The progress message, most important first: the loudest status, then the numbers."""
    lines = []
    loud = [s for s in summary.statuses if s.code.value in REASONS]
    for status in loud[:3]:
        until = ""
        if status.until is not None:
            until = t.datetime(status.until.astimezone(ZoneInfo(zone)), "short")
        mark = "⚠️ " if status.severity in (Severity.WARNING, Severity.CLINICIAN) else ""
        lines.append(mark + t._(REASONS[status.code.value], until=until))
    lines.append("")
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
