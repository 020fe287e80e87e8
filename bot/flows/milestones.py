"""Encouragement at the moments that matter: the first week, the end of the first phase (with
what changes), half-way, and the last dose. Missed doses are never mentioned here."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from bot.dialogue.messages import Reply
from bot.flows.reminder import Wording, stored_dose_lines
from bot.i18n import Translator
from treatment.adherence import AdherenceSummary
from treatment.regimen import PhaseKind


def milestone_replies(
    t: Translator,
    before: AdherenceSummary,
    after: AdherenceSummary,
    *,
    first_week_doses: int,
    next_dose: Mapping[str, Any] | None,
    wording: Wording,
) -> list[Reply]:
    """The messages earned by the dose that turned `before` into `after` (usually none).

    Each milestone is a threshold of doses taken; it is said when this dose crossed it, so a
    second press of Taken (which records nothing) cannot say it twice.
    """

    def crossed(threshold: int) -> bool:
        return before.doses_taken < threshold <= after.doses_taken

    replies = []
    if after.complete and not before.complete:
        return [
            Reply(
                t._(
                    "🎉 You have taken every dose of your treatment. That took real strength. "
                    "Please see a clinician now for your end-of-treatment check."
                ),
                sensitive=True,
            )
        ]
    if crossed(first_week_doses):
        replies.append(
            Reply(t._("One week done! The first days are often the hardest. Keep going."))
        )
    finished = [
        p.name
        for p, q in zip(before.phases, after.phases, strict=True)
        if q.complete and not p.complete and q.kind is PhaseKind.INTENSIVE
    ]
    if finished:
        lines = [t._("You have finished the first phase of your treatment. Well done!")]
        next_lines = [] if next_dose is None else stored_dose_lines(t, next_dose, wording)
        if next_lines:
            lines.append(t._("From your next dose, you take:"))
            lines.extend(f"• {line}" for line in next_lines)
        replies.append(Reply("\n".join(lines), sensitive=True))
    if crossed(math.ceil(after.doses_required / 2)):
        replies.append(Reply(t._("Half-way! You have taken half of all your doses.")))
    return replies
