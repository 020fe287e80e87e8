"""How much of which medicine, in words: the lines the reminder and `tbbot plan` share.

Only the dose's own wording lives here (counts, strengths, "as prescribed"); the discreet
forms, which depend on the patient's cover word, are the reminder's (`bot.flows.reminder`).
This module needs no store, so `tbbot plan` words a dose without loading one.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.i18n import Translator
from treatment.doses import DrugDose, ProductDose
from treatment.drugs import AS_PRESCRIBED, load_drugs


def number(value: float) -> str:
    """A dose or strength as people write it: 450, 112.5, 0.5."""
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
                t._("{tablets} tablets of {what}", tablets=number(drug.tablets), what=drug.name)
            )
        elif drug.mg is None:
            lines.append(t._("{drug}, as prescribed", drug=drug.name))
        elif drug.tablets is None:
            lines.append(t._("{drug} {mg} mg", drug=drug.name, mg=number(drug.mg)))
        elif float(drug.tablets).is_integer():
            lines.append(
                t.ngettext(
                    "{drug} {mg} mg ({n} tablet)",
                    "{drug} {mg} mg ({n} tablets)",
                    int(drug.tablets),
                    drug=drug.name,
                    mg=number(drug.mg),
                )
            )
        else:  # half tablets: plural in every language we ship
            lines.append(
                t._(
                    "{drug} {mg} mg ({tablets} tablets)",
                    drug=drug.name,
                    mg=number(drug.mg),
                    tablets=number(drug.tablets),
                )
            )
    return lines


def _contents(product: ProductDose) -> str:
    return ", ".join(
        drug if mg is None else f"{drug} {number(mg)} mg" for drug, mg in product.contains
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
            return t._("{drug} {mg} mg", drug=drug, mg=number(product.mg))
        if strength is not None:
            return t._(
                "{drug} {mg} mg tablets: ask your clinician how many",
                drug=drug,
                mg=number(strength),
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
            tablets=number(product.tablets),
            product=product.name,
            contents=_contents(product),
        )
    what = drug if strength is None else f"{drug} {number(strength)} mg"
    if whole:
        return t.ngettext(
            "{n} tablet of {what}", "{n} tablets of {what}", int(product.tablets), what=what
        )
    return t._("{tablets} tablets of {what}", tablets=number(product.tablets), what=what)
