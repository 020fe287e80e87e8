"""The tablet questions of set-up: the weight (only when the regimen's tablets depend on it)
and which tablets the patient holds (only where the regimen comes more than one way)."""

from __future__ import annotations

from datetime import datetime

from bot.dialogue.choices import OPT, Choice
from bot.dialogue.conversation import Conversation
from bot.dialogue.messages import Reply
from bot.flows.onboarding.setup import regimen_of
from bot.flows.onboarding.step import Answer, discreet_only, with_cancel
from bot.i18n import Translator, translator
from bot.parsing import ParseError, parse_weight
from bot.texts import PRODUCT_SET_NAMES
from treatment.catalogue import load_catalogue
from treatment.regimen import COMBINATION, Regimen


def after_earlier(c: Conversation, now: datetime) -> Conversation:
    """Weight is asked only when the regimen's tablet count depends on it."""
    if regimen_of(c.data).weight_banded:
        return c.at("weight", now)
    return after_weight(c.at(c.step, now, weight=None), now)


def ask_weight(t: Translator, data: dict[str, object]) -> Reply:
    rows = [(Choice(t._("Skip"), OPT, "skip"),)]
    return Reply(
        t._(
            "What is your weight in kg? Many treatments use it to decide the number of tablets. "
            "You can skip this."
        ),
        with_cancel(t, rows),
    )


def accept_weight(c: Conversation, a: Answer, now: datetime) -> Conversation | str | None:
    t = translator(str(c.data.get("language", "en")))
    if a.option == "skip":
        return after_weight(c.at(c.step, now, weight=None), now)
    try:
        weight = parse_weight(a.text or "")
    except ParseError:
        return t._("Please type your weight in kg as a number from 3 to 250, or press Skip.")
    return after_weight(c.at(c.step, now, weight=weight), now)


def after_weight(c: Conversation, now: datetime) -> Conversation:
    """Which tablets the patient holds is asked only where the regimen comes more than one
    way (a combination tablet, or separate tablets)."""
    if regimen_of(c.data).product_sets:
        return c.at("products", now)
    return c.at("discreet", now, products=None)


def product_choices(
    t: Translator, regimen: Regimen, *, discreet: bool = False
) -> list[tuple[Choice, ...]]:
    """One choice per way the regimen's tablets come: the combination, then its other sets
    (`discreet`: without the combination's letters, which name its drugs)."""
    names = " / ".join(p.combination for p in regimen.phases if p.combination)
    combined = (
        t._("Combined tablets, several in one")
        if discreet
        else t._("Combined tablets ({names})", names=names)
    )
    rows: list[tuple[Choice, ...]] = [(Choice(combined, OPT, COMBINATION),)]
    rows.extend(
        (Choice(t._(PRODUCT_SET_NAMES.get(p.id, p.name)), OPT, p.id),) for p in regimen.product_sets
    )
    return rows


def products_question(t: Translator) -> str:
    return t._(
        "Which tablets do you have? Combined tablets hold several medicines in one tablet; "
        "some clinics give separate tablets, one kind for each medicine."
    )


def ask_products(t: Translator, data: dict[str, object]) -> Reply:
    regimen = load_catalogue().get(str(data["regimen"]))
    choices = product_choices(t, regimen, discreet=discreet_only(data))
    return Reply(products_question(t), with_cancel(t, choices))


def accept_products(c: Conversation, a: Answer, now: datetime) -> Conversation | str | None:
    if a.option is None:
        return None
    return c.at("discreet", now, products=None if a.option == COMBINATION else a.option)
