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
from bot.flows.dose_lines import dose_lines, number, product_line
from bot.i18n import Translator
from scheduler.doses import drugs_of, products_of
from scheduler.preferences import Preferences
from storage.records import Patient
from treatment.doses import DrugDose, ProductDose

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
        return cls(patient.discreet, Preferences.of(patient).cover_word or None)

    def pills(self, t: Translator) -> str:
        return self.cover or t._("your pills")


def discreet_line(
    t: Translator, wording: Wording, product: ProductDose, index: int, count: int
) -> str:
    """A product's count without naming it: the cover word (numbered when several)."""
    pills = wording.pills(t)
    name = pills if count == 1 else t._("{pills} no. {n}", pills=pills, n=index + 1)
    if product.tablets is None:
        return t._("{pills}: as prescribed", pills=name)
    if float(product.tablets).is_integer():
        return t.ngettext(
            "{pills}: {n} tablet", "{pills}: {n} tablets", int(product.tablets), pills=name
        )
    return t._("{pills}: {tablets} tablets", pills=name, tablets=number(product.tablets))


def product_lines(t: Translator, products: Sequence[ProductDose], wording: Wording) -> list[str]:
    """One line per product, as `wording` allows (discreet: counts, no names)."""
    if wording.discreet:
        return [discreet_line(t, wording, p, i, len(products)) for i, p in enumerate(products)]
    return [product_line(t, p) for p in products]


def stored_dose_lines(t: Translator, dose: Mapping[str, Any], wording: Wording) -> list[str]:
    """The lines of a stored slot's dose (`scheduler.doses.dose_json`) as `wording` allows.
    A slot stored before products were has only its drugs, shown as they were then (never
    in discreet mode, which must not name them)."""
    products = products_of(dose)
    if products is not None:
        return product_lines(t, products, wording)
    if wording.discreet:
        return []
    return dose_lines(t, drugs_of(dose))


def reminder(
    t: Translator,
    *,
    slot_ref: str,
    local_due: datetime,
    drugs: Sequence[DrugDose],
    discreet: bool,
    cover_word: str | None,
    nudge: bool = False,
    products: Sequence[ProductDose] | None = None,
) -> Reply:
    """The reminder (or a nudge) for one dose, with its buttons: the products in the hand
    (`products`), or for a slot stored before products were, its drugs."""
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
        lines = (
            dose_lines(t, drugs)
            if products is None
            else product_lines(t, products, Wording(False, cover_word))
        )
        text = "\n".join([head, *(f"• {line}" for line in lines)])
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


def brief_reminder(
    t: Translator,
    *,
    slot_ref: str,
    local_due: datetime,
    cover_word: str | None,
    nudge: bool = False,
) -> Reply:
    """The reminder for channels whose every message costs (SMS): one short line, always
    discreet, and four answers: taken, in an hour, not today, unwell. Fits one SMS segment in
    every language with any cover word the patient may choose (tests/sms/test_sms_reminder.py).
    """
    at = t.time(local_due)
    if cover_word:
        text = (
            t._("Still open: {time} {cover}?", time=at, cover=cover_word)
            if nudge
            else t._("{time} {cover}?", time=at, cover=cover_word)
        )
    else:
        text = (
            t._("Still open: {time} routine?", time=at)
            if nudge
            else t._("{time} routine?", time=at)
        )
    choices = (
        (Choice(t._("Taken"), TAKEN, slot_ref), Choice(t._("Later"), SNOOZE, f"{slot_ref}.60")),
        (Choice(t._("Skip today"), SKIP, slot_ref), Choice(t._("Unwell"), SYMPTOM, slot_ref)),
    )
    return Reply(text, choices)
