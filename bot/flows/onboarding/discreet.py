"""The discreet-mode question of set-up, with its cover word for the medicine."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from bot.dialogue.choices import OPT, Choice
from bot.dialogue.conversation import Conversation
from bot.dialogue.messages import Reply
from bot.flows.onboarding.step import Answer, discreet_only, with_cancel
from bot.i18n import Translator, translator

MAX_COVER = 24


def ask_discreet(t: Translator, data: dict[str, object]) -> Reply:
    if discreet_only(data):
        return _ask_cover(t)
    rows = [
        (Choice(t._("Discreet, call it “{word}”", word=t._("vitamins")), OPT, "vitamins"),),
        (Choice(t._("Discreet, call it “{word}”", word=t._("my pills")), OPT, "pills"),),
        (Choice(t._("Discreet, no name"), OPT, "none"),),
        (Choice(t._("Plain wording"), OPT, "off"),),
    ]
    return Reply(
        t._(
            "Others may see your phone. In discreet mode my messages use neutral words, never "
            "the name of the illness, a medicine or a symptom, and I can call your medicine by "
            "another name. Pick one, or type your own word for it (discreet mode)."
        ),
        with_cancel(t, rows),
    )


def _ask_cover(t: Translator) -> Reply:
    """Where every message is read on the way, discreet wording is the only wording: only the
    cover word is asked."""
    rows = [
        (Choice(t._("vitamins"), OPT, "vitamins"),),
        (Choice(t._("my pills"), OPT, "pills"),),
        (Choice(t._("No name"), OPT, "none"),),
    ]
    return Reply(
        t._(
            "My texts never name an illness or a medicine. What should I call your tablets? "
            "Pick one or type your own word."
        ),
        with_cancel(t, rows),
    )


def accept_discreet(c: Conversation, a: Answer, now: datetime) -> Conversation | str | None:
    t = translator(str(c.data.get("language", "en")))
    if a.option == "off" and not discreet_only(c.data):
        return c.at("confirm", now, discreet=False, cover=None)
    words = {"vitamins": t._("vitamins"), "pills": t._("my pills"), "none": None}
    if a.option in words:
        return c.at("confirm", now, discreet=True, cover=words[a.option])
    if a.option is not None:
        return None
    cover = " ".join(unicodedata.normalize("NFKC", a.text or "").split())
    if not cover or len(cover) > MAX_COVER:
        return t._("Please type a short word, at most {max} characters.", max=MAX_COVER)
    return c.at("confirm", now, discreet=True, cover=cover)
