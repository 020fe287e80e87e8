"""The words and buttons of a dose reminder, a nudge, and the outcome shown after a press.

Discreet mode never names the illness or a drug: anyone glancing at the phone sees a routine
("your vitamins", or no name at all). Nothing here shames a missed dose.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.dialogue.choices import Choice
from bot.dialogue.messages import Reply
from bot.i18n import Translator
from storage.records import Patient

TAKEN = "taken"
SNOOZE = "snooze"
SKIP = "skip"
SYMPTOM = "symptom"
SNOOZE_MINUTES = (15, 60)


@dataclass(frozen=True, slots=True)
class Wording:
    """How openly a message may speak. Discreet: never the illness, a drug, a drug's letters
    or a symptom; the medicine is the patient's cover word, or "your pills"."""

    discreet: bool = False
    cover: str | None = None

    @classmethod
    def of(cls, patient: Patient) -> Wording:
        cover = patient.preferences.get("cover_word")
        return cls(patient.discreet, cover if isinstance(cover, str) and cover else None)

    def pills(self, t: Translator) -> str:
        return self.cover or t._("your pills")


@dataclass(frozen=True, slots=True)
class DoseLine:
    """One drug of a dose as the reminder shows it."""

    name: str
    mg: float | None
    tablets: float | None


def _number(value: float) -> str:
    return f"{value:g}"


def dose_lines(t: Translator, drugs: Sequence[DoseLine]) -> list[str]:
    """One line per drug: name, mg and tablets when known, "as prescribed" otherwise."""
    lines = []
    for drug in drugs:
        if drug.mg is None:
            lines.append(t._("{drug}, as prescribed", drug=drug.name))
        elif drug.tablets is None:
            lines.append(t._("{drug} {mg} mg", drug=drug.name, mg=_number(drug.mg)))
        elif float(drug.tablets).is_integer():
            lines.append(
                t.ngettext(
                    "{drug} {mg} mg ({n} tablet)",
                    "{drug} {mg} mg ({n} tablets)",
                    int(drug.tablets),
                    drug=drug.name,
                    mg=_number(drug.mg),
                )
            )
        else:  # half tablets: plural in every language we ship
            lines.append(
                t._(
                    "{drug} {mg} mg ({tablets} tablets)",
                    drug=drug.name,
                    mg=_number(drug.mg),
                    tablets=_number(drug.tablets),
                )
            )
    return lines


def stored_dose_lines(t: Translator, dose: Mapping[str, Any], wording: Wording) -> list[str]:
    """The lines of a stored slot's dose (`scheduler.doses.dose_json`) as `wording` allows:
    in discreet mode no drug is named, only the tablets of the patient's pills."""
    drugs = [DoseLine(d["name"], d.get("mg"), d.get("tablets")) for d in dose.get("drugs", [])]
    if wording.discreet:
        return []
    return dose_lines(t, drugs)


def reminder(
    t: Translator,
    *,
    slot_ref: str,
    local_due: datetime,
    drugs: Sequence[DoseLine],
    discreet: bool,
    cover_word: str | None,
    nudge: bool = False,
) -> Reply:
    """The reminder (or a nudge) for one dose, with its buttons."""
    at = t.time(local_due)
    if discreet:
        if nudge:
            text = (
                t._("Just checking: did you take your {cover}?", cover=cover_word)
                if cover_word
                else t._("Just checking in about {time}. All done?", time=at)
            )
        else:
            text = (
                t._("It's {time}: time for your {cover}.", time=at, cover=cover_word)
                if cover_word
                else t._("It's {time}: time for your daily routine.", time=at)
            )
    else:
        head = (
            t._("Did you take your {time} TB medicine?", time=at)
            if nudge
            else t._("It's {time}: time for your TB medicine.", time=at)
        )
        text = "\n".join([head, *(f"• {line}" for line in dose_lines(t, drugs))])
    return Reply(text, dose_buttons(t, slot_ref))


def dose_buttons(t: Translator, slot_ref: str) -> tuple[tuple[Choice, ...], ...]:
    return (
        (Choice(t._("Taken"), TAKEN, slot_ref),),
        (
            Choice(t._("In 15 min"), SNOOZE, f"{slot_ref}.15"),
            Choice(t._("In 1 hour"), SNOOZE, f"{slot_ref}.60"),
        ),
        (
            Choice(t._("Not today"), SKIP, slot_ref),
            Choice(t._("Side effect"), SYMPTOM, slot_ref),
        ),
    )
