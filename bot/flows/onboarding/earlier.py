"""The doses due before set-up (asked only after a past start): were they taken, which were
missed, and what the answer does to the count and the end date."""

from __future__ import annotations

from datetime import date, datetime

from bot.dialogue.choices import OPT, Choice
from bot.dialogue.conversation import Conversation
from bot.dialogue.messages import Reply
from bot.flows.onboarding.setup import Setup, to_enrolment
from bot.flows.onboarding.step import Answer, with_cancel
from bot.flows.onboarding.tablets import after_earlier
from bot.i18n import Translator, translator
from bot.parsing import ParseError, parse_missed
from treatment.backfill import Earlier, EarlierDoses, last_dose_day, not_taken


def ask_earlier(t: Translator, data: dict[str, object]) -> Reply:
    due = int(str(data["due"]))
    rows = [
        (Choice(t._("All taken"), OPT, Earlier.ALL.value),),
        (Choice(t._("I missed some"), OPT, Earlier.SOME.value),),
        (Choice(t._("Not sure"), OPT, Earlier.UNSURE.value),),
    ]
    return Reply(
        t.ngettext(
            "Since your first dose on {date}, {n} dose was due before now. Did you take it?",
            "Since your first dose on {date}, {n} doses were due before now. Did you take all "
            "of them?",
            due,
            date=t.date(date.fromisoformat(str(data["start"]))),
        ),
        with_cancel(t, rows),
    )


def accept_earlier(c: Conversation, a: Answer, now: datetime) -> Conversation | str | None:
    if a.option == Earlier.SOME.value:
        return c.at("missed", now)
    if a.option in (Earlier.ALL.value, Earlier.UNSURE.value):
        return after_earlier(
            c.at(c.step, now, earlier=EarlierDoses(Earlier(a.option)).to_dict()), now
        )
    return None


def ask_missed(t: Translator, data: dict[str, object]) -> Reply:
    return Reply(
        t._(
            "How many doses did you miss? Type a number, like 3, or the days, like "
            "{example}. Doses you do not tell me about are counted as taken.",
            example=date.fromisoformat(str(data["start"])).isoformat(),
        ),
        with_cancel(t, [(Choice(t._("Not sure"), OPT, Earlier.UNSURE.value),)]),
    )


def accept_missed(c: Conversation, a: Answer, now: datetime) -> Conversation | str | None:
    t = translator(str(c.data.get("language", "en")))
    if a.option == Earlier.UNSURE.value:
        earlier = EarlierDoses(Earlier.UNSURE)
    elif a.text is None:
        return None
    else:
        start = date.fromisoformat(str(c.data["start"]))
        today = date.fromisoformat(str(c.data["today"]))
        due = int(str(c.data["due"]))
        try:
            missed = parse_missed(a.text, start, today, due)
        except ParseError:
            return t._(
                "Please type a number from 1 to {n}, or dates from your first dose to today.",
                n=due,
            )
        if isinstance(missed, int):
            earlier = EarlierDoses(Earlier.SOME, missed_count=missed)
        else:
            earlier = EarlierDoses(Earlier.SOME, missed_days=missed)
    return after_earlier(c.at(c.step, now, earlier=earlier.to_dict()), now)


def earlier_line(
    t: Translator, setup: Setup, earlier: EarlierDoses, data: dict[str, object]
) -> str:
    """What the answer about earlier doses does to the count and the end date."""
    plan = to_enrolment(setup, date.fromisoformat(str(data["today"])))
    asked = datetime.fromisoformat(str(data["asked"]))
    missed = not_taken(plan, asked, earlier)
    due = int(str(data["due"]))
    if not missed:
        return t.ngettext(
            "The {n} dose since your first dose is counted as taken, as you said.",
            "The {n} doses since your first dose are counted as taken, as you said.",
            due,
        )
    planned = last_dose_day(plan)
    moved = last_dose_day(plan, missed)
    counted = t.ngettext(
        "{n} earlier dose is not counted as taken.",
        "{n} earlier doses are not counted as taken.",
        len(missed),
    )
    if planned is None or moved is None:
        return counted
    return (
        counted
        + " "
        + t._(
            "Your last dose moves from {before} to {after}.",
            before=t.date(planned),
            after=t.date(moved),
        )
    )
