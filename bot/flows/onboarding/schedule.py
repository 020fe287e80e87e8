"""The plan questions of set-up: the regimen, the first dose's date and the dose times."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.dialogue.choices import OPT, Choice
from bot.dialogue.conversation import Conversation
from bot.dialogue.messages import Reply
from bot.flows.onboarding.custom import start_custom, start_operator
from bot.flows.onboarding.setup import CUSTOM, draft, regimen_of
from bot.flows.onboarding.step import Answer, discreet_only, with_cancel
from bot.flows.onboarding.tablets import after_earlier
from bot.i18n import Translator, translator
from bot.operator_regimens import load_operator_regimens
from bot.parsing import ParseError, parse_date, parse_times
from bot.texts import REGIMEN_NAMES, discreet_name
from treatment.backfill import due_before
from treatment.catalogue import load_catalogue
from treatment.regimen import Regimen

MAX_BACKDATE_DAYS = 365
TIME_CHOICES = ("07:00", "08:00", "09:00", "20:00", "21:00")


def _regimen_slug(regimen_id: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "_.-" else "_" for ch in regimen_id)


def _regimen_by_slug(slug: str) -> str | None:
    return next((r.id for r in load_catalogue() if _regimen_slug(r.id) == slug), None)


def regimen_label(t: Translator, regimen: Regimen, data: dict[str, object]) -> str:
    """The regimen as set-up lists it: by name, or by length and rhythm only where others
    read the channel's messages on the way."""
    if discreet_only(data):
        return discreet_name(t, regimen)
    return t._(REGIMEN_NAMES.get(regimen.id, regimen.name))


def ask_regimen(t: Translator, data: dict[str, object]) -> Reply:
    rows = [
        (Choice(regimen_label(t, r, data), OPT, _regimen_slug(r.id)),) for r in load_catalogue()
    ]
    if not discreet_only(data):
        # The operator's own regimens (TBBOT_REGIMENS_DIR) come after the catalogue, by their
        # name, which may name drugs: not where others read every message on the way.
        rows.extend((Choice(r.name, OPT, r.slug),) for r in load_operator_regimens())
    rows.append((Choice(t._("My treatment is not in this list"), OPT, CUSTOM),))
    if discreet_only(data):
        return Reply(
            # Short: with every plan listed it must still fit one text, not be cut.
            t._("Which plan did your clinician give you?"),
            with_cancel(t, rows),
        )
    return Reply(
        t._(
            "Which treatment did your clinician or prescription give you? If yours is not in "
            "the list, press “My treatment is not in this list” and tell me what your "
            "prescription says."
        ),
        with_cancel(t, rows),
    )


def accept_regimen(c: Conversation, a: Answer, now: datetime) -> Conversation | str | None:
    if a.option == CUSTOM:
        return start_custom(c, now)
    chosen = next((r for r in load_operator_regimens() if r.slug == a.option), None)
    if chosen is not None:
        return start_operator(c, chosen.words, now)
    regimen_id = _regimen_by_slug(a.option) if a.option else None
    if regimen_id is None:
        return None
    return c.at("start", now, regimen=regimen_id, custom=None)


def _local_today(data: dict[str, object], now: datetime) -> date:
    return now.astimezone(ZoneInfo(str(data["zone"]))).date()


def ask_start(t: Translator, data: dict[str, object]) -> Reply:
    rows = [(Choice(t._("Today"), OPT, "today"), Choice(t._("Yesterday"), OPT, "yesterday"))]
    return Reply(
        t._("When did you take (or will you take) the first dose? Type a date like 2026-03-01."),
        with_cancel(t, rows),
    )


def accept_start(c: Conversation, a: Answer, now: datetime) -> Conversation | str | None:
    t = translator(str(c.data.get("language", "en")))
    today = _local_today(c.data, now)
    try:
        start = parse_date(a.option or a.text or "", today)
    except ParseError:
        return t._("Please type the date as year-month-day, for example 2026-03-01.")
    if start > today:
        return t._(
            "Please choose today or a day in the past; I start counting from the first dose."
        )
    if (today - start).days > MAX_BACKDATE_DAYS:
        return t._("That is more than a year ago. Please check the date.")
    return c.at("times", now, start=start.isoformat(), today=today.isoformat())


def _doses_per_day(data: dict[str, object]) -> int:
    return regimen_of(data).doses_per_day


def ask_times(t: Translator, data: dict[str, object]) -> Reply:
    count = _doses_per_day(data)
    if count == 1:
        rows = [tuple(Choice(label, OPT, label.replace(":", "")) for label in TIME_CHOICES)]
        text = t._("At what time do you take your medicine? Pick one or type it, like 08:30.")
    else:
        rows = []
        text = t.ngettext(
            "At what time do you take your medicine? Type it, like 08:30.",
            "At what times do you take your {n} doses? Type them, like 08:00, 20:00.",
            count,
        )
    return Reply(text, with_cancel(t, rows))


def accept_times(c: Conversation, a: Answer, now: datetime) -> Conversation | str | None:
    t = translator(str(c.data.get("language", "en")))
    count = _doses_per_day(c.data)
    try:
        times = parse_times(a.option or a.text or "")
    except ParseError:
        return t._("Please type a time like 08:30.")
    if len(times) != count:
        return t.ngettext("Please give exactly one time.", "Please give exactly {n} times.", count)
    moved = c.at(
        "weight",
        now,
        times=[x.strftime("%H:%M") for x in times],
        earlier=None,
        asked=now.isoformat(),
    )
    due = len(due_before(draft(moved.data), now))
    if due:
        return moved.at("earlier", now, due=due)
    return after_earlier(moved, now)
