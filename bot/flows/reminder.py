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
from scheduler.doses import drugs_of, products_of
from scheduler.preferences import Preferences
from storage.records import Patient
from treatment.doses import DrugDose, ProductDose
from treatment.drugs import AS_PRESCRIBED, load_drugs

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


def _number(value: float) -> str:
    return f"{value:g}"


def dose_lines(t: Translator, drugs: Sequence[DrugDose]) -> list[str]:
    """One line per drug: name, mg and tablets when known, "as prescribed" otherwise."""
    lines = []
    for drug in drugs:
        if drug.name == load_drugs().get(AS_PRESCRIBED).name:
            lines.append(t._("your medicines, as your clinician told you"))
        elif drug.mg is None and drug.tablets is not None and float(drug.tablets).is_integer():
            # A custom regimen may give tablets without their strength.
            lines.append(
                t.ngettext(
                    "{n} tablet of {what}",
                    "{n} tablets of {what}",
                    int(drug.tablets),
                    what=drug.name,
                )
            )
        elif drug.mg is None and drug.tablets is not None:
            lines.append(
                t._("{tablets} tablets of {what}", tablets=_number(drug.tablets), what=drug.name)
            )
        elif drug.mg is None:
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


def _contents(product: ProductDose) -> str:
    return ", ".join(
        drug if mg is None else f"{drug} {_number(mg)} mg" for drug, mg in product.contains
    )


def product_line(t: Translator, product: ProductDose) -> str:
    """What to take of one product: "4 tablets of HRZE (each: isoniazid 75 mg, ...)" for a
    combination, "3 tablets of isoniazid 100 mg" for a single drug; without a count, the
    dose if known, else "as prescribed" (never a guess)."""
    (drug, strength), *more = product.contains
    if drug == load_drugs().get(AS_PRESCRIBED).name:
        # "As my clinician told me": the patient gave no drug, so none is named.
        return t._("your medicines, as your clinician told you")
    if product.tablets is None:
        if more:
            return t._(
                "{product} (each: {contents}): ask your clinician how many tablets",
                product=product.name,
                contents=_contents(product),
            )
        if product.mg is not None:
            return t._("{drug} {mg} mg", drug=drug, mg=_number(product.mg))
        if strength is not None:
            return t._(
                "{drug} {mg} mg tablets: ask your clinician how many",
                drug=drug,
                mg=_number(strength),
            )
        return t._("{drug}, as prescribed", drug=drug)
    whole = float(product.tablets).is_integer()
    if more:
        if whole:
            return t.ngettext(
                "{n} tablet of {product} (each: {contents})",
                "{n} tablets of {product} (each: {contents})",
                int(product.tablets),
                product=product.name,
                contents=_contents(product),
            )
        return t._(
            "{tablets} tablets of {product} (each: {contents})",
            tablets=_number(product.tablets),
            product=product.name,
            contents=_contents(product),
        )
    what = drug if strength is None else f"{drug} {_number(strength)} mg"
    if whole:
        return t.ngettext(
            "{n} tablet of {what}", "{n} tablets of {what}", int(product.tablets), what=what
        )
    return t._("{tablets} tablets of {what}", tablets=_number(product.tablets), what=what)


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
    return t._("{pills}: {tablets} tablets", pills=name, tablets=_number(product.tablets))


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
