"""The first questions of set-up: the language, the privacy consent and the nickname."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from bot.dialogue.choices import OPT, Choice
from bot.dialogue.conversation import Conversation
from bot.dialogue.messages import Reply
from bot.flows.onboarding.step import Answer, discreet_only, with_cancel
from bot.i18n import LOCALES, Translator, translator
from bot.texts import LANGUAGE_NAMES

MAX_ALIAS = 32


def ask_language(t: Translator, data: dict[str, object]) -> Reply:
    suggested = str(data.get("language", "en"))
    ordered = [suggested, *(code for code in LOCALES if code != suggested)]
    rows = [(Choice(LANGUAGE_NAMES[code], OPT, code),) for code in ordered]
    return Reply(t._("Hello. Which language should I use?"), with_cancel(t, rows))


def accept_language(c: Conversation, a: Answer, now: datetime) -> Conversation | str | None:
    if a.option is None:
        return None
    return c.at("consent", now, language=a.option)


def ask_consent(t: Translator, data: dict[str, object]) -> Reply:
    if discreet_only(data):
        return _ask_consent_briefly(t, data)
    text = t._(
        "I can remind you of every dose, count your doses the way clinics do, and tell a person "
        "you choose if doses stop.\n\n"
        "What I keep: a nickname, your treatment plan, the doses you report, side effects, "
        "how you feel and the visits you note. It is encrypted at rest with a key of your own. "
        "Whoever runs this server holds the key that opens it, so they could technically read "
        "it; nobody else can.\n"
        "What protects you: I never ask for your real name, phone number or address; you use a "
        "nickname; only a helper you choose later sees anything, and only what you allow; and "
        "/forget erases everything for good, at any time.\n\n"
        "Do you agree?"
    )
    rows: list[tuple[Choice, ...]] = [
        (Choice(t._("I agree"), OPT, "yes"), Choice(t._("No, thanks"), OPT, "no"))
    ]
    if data.get("guessed"):
        text = t._("I will speak English. For another language, press the button below.") + (
            "\n\n" + text
        )
        rows.append((Choice(t._("Another language"), OPT, "language"),))
    return Reply(text, tuple(rows))


def _ask_consent_briefly(t: Translator, data: dict[str, object]) -> Reply:
    """The notice where others read every message on the way (SMS): as true, in neutral
    words, short enough to be read whole within the channel's cap."""
    text = t._(
        "I text a reminder for each dose and can tell a person you choose if doses stop. I "
        "keep a nickname, your plan and answers, encrypted with your own key; whoever runs "
        "this service could read them. Texts pass the phone company, so my words stay "
        "neutral. /forget erases all. Do you agree?"
    )
    rows: list[tuple[Choice, ...]] = [
        (Choice(t._("I agree"), OPT, "yes"),),
        (Choice(t._("No, thanks"), OPT, "no"),),
    ]
    if data.get("guessed"):
        rows.append((Choice(t._("Another language"), OPT, "language"),))
    return Reply(text, tuple(rows))


def accept_consent(c: Conversation, a: Answer, now: datetime) -> Conversation | str | None:
    if a.option == "language":
        return c.at("language", now, guessed=False)
    if a.option == "yes":
        return c.at("alias", now, consent=True)
    if a.option == "no":
        return c.at("declined", now)
    return None


def ask_alias(t: Translator, data: dict[str, object]) -> Reply:
    return Reply(
        t._("What should I call you? Please use a nickname, not your real name."),
        with_cancel(t, []),
    )


def accept_alias(c: Conversation, a: Answer, now: datetime) -> Conversation | str | None:
    t = translator(str(c.data.get("language", "en")))
    if a.text is None:
        return None
    alias = " ".join(unicodedata.normalize("NFKC", a.text).split())
    if not alias or any(unicodedata.category(ch).startswith("C") for ch in alias):
        return t._("Please type a short nickname.")
    if len(alias) > MAX_ALIAS:
        return t._("Please use at most {max} characters.", max=MAX_ALIAS)
    if sum(ch.isdigit() for ch in alias) >= 6:
        return t._("That looks like a number. Please use a nickname instead.")
    return c.at("zone_guess" if c.data.get("zones") else "zone", now, alias=alias)
