"""Set-up for a regimen that is not in the list: the patient enters what the clinician said.

Two ways in, after "My treatment is not in this list":
* the patient knows the medicines: picks them by number from the drug catalogue, then says
  for each how many tablets each time (or "as prescribed"), and for a drug that starts with a
  loading dose (bedaquiline) the loading tablets and days and how often after it;
* "as my clinician told me": only how often, for how long; counts stay "as prescribed".
Then how often (every day, twice a day, 5 days a week, 3 times a week, once a week) and how
long (weeks, months or doses). The bot repeats it back in plain words and saves nothing
before the patient says it is right; a later part (the treatment changes after some time) is
added the same way. It never suggests a drug, a count or a length: every choice offered is a
way to say what the prescription says, never a default.

Where discreet wording is the only wording (`ChannelSpec.discreet_only`, SMS), no drug is
named: only "as my clinician told me" is offered, and the repeat-back says "your medicines".

The prescription is kept in the words of `treatment.custom` (conversation data "custom") and
turned into a regimen by `build_custom`, with the start date once it is known (months are
calendar months from it); whatever the engine refuses is asked again, nothing is half saved.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import get_day_names

from bot.dialogue.choices import OPT, Choice
from bot.dialogue.conversation import Conversation
from bot.dialogue.messages import Reply
from bot.flows.onboarding.setup import CUSTOM
from bot.flows.onboarding.step import Answer, Step, with_cancel
from bot.i18n import Translator, translator
from bot.parsing import ParseError
from bot.prescription import (
    MAX_DRUGS,
    MAX_TABLETS,
    parse_length,
    parse_loading,
    parse_picks,
    parse_tablets,
)
from bot.texts import N_
from treatment.custom import build_custom
from treatment.drugs import AS_PRESCRIBED, DrugInfo, load_drugs
from treatment.errors import RegimenFileError
from treatment.regimen import DoseStep, DosingPattern, Drug, PatternKind

MAX_PHASES = 4
CONFIRMED = "start"
"""The step after "Yes, that is right": the start date in set-up; `/regimen` goes on from it."""
THREE_WEEKLY = ["mon", "wed", "fri"]
PATTERNS = {
    "daily": N_("Every day"),
    "twice_daily": N_("Twice a day"),
    "five_of_seven": N_("5 days a week, Monday to Friday"),
    "three_times_weekly": N_("3 times a week: Monday, Wednesday, Friday"),
    "weekly": N_("Once a week"),
}


def start_custom(c: Conversation, now: datetime) -> Conversation:
    """From the regimen question: a new prescription, asked from its first part."""
    return _next_part(c.at(c.step, now, regimen=CUSTOM, custom={"phases": []}), now)


def start_operator(c: Conversation, words: dict[str, Any], now: datetime) -> Conversation:
    """A regimen the operator added: straight to the repeat-back, to check against the
    prescription; "Start again" there enters the patient's own instead."""
    return c.at(
        "custom_check",
        now,
        regimen=CUSTOM,
        custom=words,
        phase={},
        custom_from=_today(c, now).isoformat(),
    )


def _next_part(c: Conversation, now: datetime) -> Conversation:
    if c.data.get("discreet_only"):
        return c.at("custom_pattern", now, phase={"drugs": [{"name": AS_PRESCRIBED}]})
    return c.at("custom_known", now, phase={})


def _t(c: Conversation) -> Translator:
    return translator(str(c.data.get("language", "en")))


def _hide(data: dict[str, Any]) -> bool:
    return bool(data.get("discreet_only"))


def _prescription(data: dict[str, object]) -> dict[str, Any]:
    custom = data.get(CUSTOM)
    if not isinstance(custom, dict):
        raise LookupError("this step follows the first part of a custom regimen")
    return custom


def _phase(c: Conversation) -> dict[str, Any]:
    return dict(c.data.get("phase") or {})


# --- do you know the medicines --------------------------------------------------------------


def ask_known(t: Translator, data: dict[str, object]) -> Reply:
    rows = [
        (Choice(t._("Yes, I will pick them from a list"), OPT, "pick"),),
        (Choice(t._("No: as my clinician told me"), OPT, "told"),),
    ]
    return Reply(
        t._(
            "Do you know the names of your medicines? If not, I only ask how often and for how "
            "long, and show each dose as prescribed."
        ),
        with_cancel(t, rows),
    )


def accept_known(c: Conversation, a: Answer, now: datetime) -> Conversation | str | None:
    if a.option == "pick":
        return c.at("custom_drugs", now)
    if a.option == "told":
        return c.at("custom_pattern", now, phase={"drugs": [{"name": AS_PRESCRIBED}]})
    return None


# --- which medicines ------------------------------------------------------------------------


def _pickable() -> tuple[DrugInfo, ...]:
    return load_drugs().pickable()


def ask_drugs(t: Translator, data: dict[str, object]) -> Reply:
    """The catalogue as choices, in its order, so that a typed number on a numbered channel
    is the same medicine as the button: one at a time, then Done; or all numbers at once."""
    phase = data.get("phase")
    drugs = phase.get("drugs", []) if isinstance(phase, dict) else []
    picked = [str(d["name"]) for d in drugs]
    text = t._(
        "Which medicines are in your prescription? Press them one at a time, or type their "
        "numbers like 1, 3, 9; then press Done. Only what your clinician prescribed."
    )
    if picked:
        names = ", ".join(load_drugs().get(i).local_name(t.locale) for i in picked)
        text += "\n" + t._("Picked so far: {names}", names=names)
    rows: list[tuple[Choice, ...]] = [
        (Choice(f"{d.local_name(t.locale)} ({d.id})", OPT, d.id),) for d in _pickable()
    ]
    if picked:
        rows.append((Choice(t._("Done"), OPT, "done"),))
    return Reply(text, with_cancel(t, rows), sensitive=True)


def accept_drugs(c: Conversation, a: Answer, now: datetime) -> Conversation | str | None:
    t = _t(c)
    phase = _phase(c)
    drugs = list(phase.get("drugs", []))
    if a.option == "done" and drugs:
        return c.at("custom_tablets", now, phase={"drugs": drugs, "i": 0})
    if a.option is not None:
        if a.option not in {d.id for d in _pickable()}:
            return None
        if len(drugs) >= MAX_DRUGS:
            return t._("Please pick at most 10 medicines.")
        if all(d["name"] != a.option for d in drugs):
            drugs.append({"name": a.option})
        return c.at("custom_drugs", now, phase={"drugs": drugs})
    try:
        picks = parse_picks(a.text or "", len(_pickable()))
    except ParseError as exc:
        if exc.code == "picks_too_many":
            return t._("Please pick at most 10 medicines.")
        return t._("Please type the numbers of your medicines from the list, like 1, 3, 9.")
    drugs = [{"name": _pickable()[i].id} for i in picks]
    return c.at("custom_tablets", now, phase={"drugs": drugs, "i": 0})


# --- tablets of each medicine, and a loading dose -------------------------------------------


def _current(data: dict[str, Any]) -> tuple[int, dict[str, Any], DrugInfo]:
    phase = data["phase"]
    index = int(phase.get("i", 0))
    drug = phase["drugs"][index]
    return index, drug, load_drugs().get(str(drug["name"]))


def ask_tablets(t: Translator, data: dict[str, object]) -> Reply:
    """Whole counts 1 to 20 as choices first, so a typed count on a numbered channel is that
    count, never another button; halves are typed."""
    _, _, info = _current(dict(data))
    counts = [Choice(str(n), OPT, f"n{n}") for n in range(1, int(MAX_TABLETS) + 1)]
    rows: list[tuple[Choice, ...]] = [tuple(counts[i : i + 5]) for i in range(0, len(counts), 5)]
    rows.append((Choice(t._("As prescribed"), OPT, "prescribed"),))
    return Reply(
        t._(
            "How many tablets of {drug} do you take each time? Type the number on your "
            "prescription, like 2 or 1.5, or press As prescribed.",
            drug=info.local_name(t.locale),
        ),
        with_cancel(t, rows),
        sensitive=True,
    )


def _with_drug(c: Conversation, index: int, **changes: Any) -> dict[str, Any]:
    phase = _phase(c)
    drugs = [dict(d) for d in phase["drugs"]]
    drugs[index] = {**drugs[index], **changes}
    return {**phase, "drugs": drugs}


def accept_tablets(c: Conversation, a: Answer, now: datetime) -> Conversation | str | None:
    t = _t(c)
    index, _, info = _current(c.data)
    if a.option == "prescribed":
        tablets: float | str = "as prescribed"
    elif a.option is not None and a.option.startswith("n") and a.option[1:].isdigit():
        tablets = int(a.option[1:])
    elif a.option is not None:
        return None
    else:
        try:
            tablets = parse_tablets(a.text or "")
        except ParseError:
            return t._("Please type a number of tablets, like 2 or 1.5, or press As prescribed.")
    moved = c.at(c.step, now, phase=_with_drug(c, index, tablets=tablets))
    if info.loading_dose:
        return moved.at("custom_loading", now)
    return _after_drug(moved, now)


def _after_drug(c: Conversation, now: datetime) -> Conversation:
    phase = _phase(c)
    index = int(phase.get("i", 0)) + 1
    if index < len(phase["drugs"]):
        return c.at("custom_tablets", now, phase={**phase, "i": index})
    return c.at("custom_pattern", now)


def ask_loading(t: Translator, data: dict[str, object]) -> Reply:
    _, _, info = _current(dict(data))
    rows = [(Choice(t._("No loading dose"), OPT, "none"),)]
    return Reply(
        t._(
            "Does your prescription start {drug} with a loading dose (more tablets every day "
            "for the first days)? Type the tablets and days, like 4 x 14, or press No loading "
            "dose.",
            drug=info.local_name(t.locale),
        ),
        with_cancel(t, rows),
        sensitive=True,
    )


def accept_loading(c: Conversation, a: Answer, now: datetime) -> Conversation | str | None:
    t = _t(c)
    index, _, _ = _current(c.data)
    if a.option == "none":
        return _after_drug(c, now)
    if a.option is not None:
        return None
    try:
        tablets, days = parse_loading(a.text or "")
    except ParseError:
        return t._("Please type the tablets and the days, like 4 x 14, or press No loading dose.")
    loading = {"tablets": tablets, "days": days}
    return c.at("custom_after_loading", now, phase=_with_drug(c, index, loading=loading))


def ask_after_loading(t: Translator, data: dict[str, object]) -> Reply:
    _, _, info = _current(dict(data))
    rows = [
        (Choice(t._("With every dose"), OPT, "every"),),
        (Choice(t._(PATTERNS["three_times_weekly"]), OPT, "three"),),
    ]
    return Reply(
        t._("After the loading days, when do you take {drug}?", drug=info.local_name(t.locale)),
        with_cancel(t, rows),
        sensitive=True,
    )


def accept_after_loading(c: Conversation, a: Answer, now: datetime) -> Conversation | str | None:
    index, _, _ = _current(c.data)
    if a.option == "every":
        return _after_drug(c, now)
    if a.option == "three":
        days = {"weekdays": THREE_WEEKLY, "min_gap_hours": 48}
        return _after_drug(c.at(c.step, now, phase=_with_drug(c, index, **days)), now)
    return None


# --- how often, how long ---------------------------------------------------------------------


def ask_pattern(t: Translator, data: dict[str, object]) -> Reply:
    rows = [(Choice(t._(label), OPT, key),) for key, label in PATTERNS.items()]
    return Reply(t._("How often does your prescription say to take them?"), with_cancel(t, rows))


def accept_pattern(c: Conversation, a: Answer, now: datetime) -> Conversation | str | None:
    if a.option not in PATTERNS:
        return None
    return c.at("custom_length", now, phase={**_phase(c), "pattern": {"kind": a.option}})


def ask_length(t: Translator, data: dict[str, object]) -> Reply:
    return Reply(
        t._(
            "How long does your prescription say this lasts? Type it like 24 weeks, 6 months "
            "or 180 doses."
        ),
        with_cancel(t, []),
    )


def accept_length(c: Conversation, a: Answer, now: datetime) -> Conversation | str | None:
    t = _t(c)
    try:
        unit, amount = parse_length(a.text or "")
    except ParseError:
        return t._("Please type a number and weeks, months or doses, like 24 weeks.")
    phase = {key: value for key, value in _phase(c).items() if key != "i"}
    phase.pop("duration", None)
    phase.pop("doses_required", None)
    if unit == "doses":
        phase["doses_required"] = amount
    else:
        phase["duration"] = {unit: amount}
    phase["name"] = t._("part {n}", n=len(c.data[CUSTOM]["phases"]) + 1)
    custom = {"phases": [*c.data[CUSTOM]["phases"], phase]}
    problem = _problem(t, custom, _today(c, now))
    if problem is not None:
        return problem
    return c.at(
        "custom_check", now, custom=custom, phase={}, custom_from=_today(c, now).isoformat()
    )


def _today(c: Conversation, now: datetime) -> date:
    """The day months are counted from: the switch's day in `/regimen` ("custom_start"),
    else the patient's today until set-up knows the start."""
    if "custom_start" in c.data:
        return date.fromisoformat(str(c.data["custom_start"]))
    return now.astimezone(ZoneInfo(str(c.data.get("zone", "UTC")))).date()


def _problem(t: Translator, custom: dict[str, Any], start: date) -> str | None:
    """What the engine refuses in this prescription, as a question back (None: it fits)."""
    try:
        build_custom(custom, "set-up", start)
    except RegimenFileError as exc:
        if exc.field == "phases" and "weeks" in exc.message:
            return t._(
                "That is longer than the 2 years I can follow. Please check the length on your "
                "prescription and type it again."
            )
        if "twice a day" in exc.message:
            return t._(
                "Twice a day must be the same in every part. Please check your prescription; "
                "press Cancel to start again."
            )
        return t._("That does not fit together. Please check your prescription and type it again.")
    return None


# --- the repeat-back ---------------------------------------------------------------------------


def ask_check(t: Translator, data: dict[str, object]) -> Reply:
    custom = _prescription(data)
    lines = [
        t._("Here is your treatment as you told me. Please check it against your prescription:")
    ]
    # Months are counted from the day the prescription was told until the start is known.
    start = date.fromisoformat(str(data["custom_from"]))
    lines.extend(describe(t, custom, start, hide_names=_hide(dict(data))))
    rows = [(Choice(t._("Yes, that is right"), OPT, "right"),)]
    if len(custom["phases"]) < MAX_PHASES:
        rows.append((Choice(t._("Add a later part (it changes after some time)"), OPT, "more"),))
    rows.append((Choice(t._("Start the treatment again"), OPT, "again"),))
    return Reply("\n".join(lines), with_cancel(t, rows), sensitive=True)


def accept_check(c: Conversation, a: Answer, now: datetime) -> Conversation | str | None:
    if a.option == "right":
        return c.at(CONFIRMED, now)
    if a.option == "more" and len(c.data[CUSTOM]["phases"]) < MAX_PHASES:
        return _next_part(c, now)
    if a.option == "again":
        return _next_part(c.at(c.step, now, custom={"phases": []}), now)
    return None


def describe(t: Translator, custom: dict[str, Any], start: date, *, hide_names: bool) -> list[str]:
    """The prescription in plain words, one line per part and per medicine: the length as the
    patient gave it, everything else read from the validated regimen (so what is shown is
    what will be reminded)."""
    regimen = build_custom(custom, "set-up", start)
    lines: list[str] = []
    for number, (phase, words) in enumerate(zip(regimen.phases, custom["phases"], strict=True)):
        lines.append(
            t._(
                "Part {n}: {how}, {length}",
                n=number + 1,
                how=_pattern_words(t, phase.pattern, regimen.doses_per_day).lower(),
                length=_length_words(t, words, phase.doses_required),
            )
        )
        for index, drug in enumerate(phase.drugs, start=1):
            lines.append(f"• {_drug_words(t, drug, index, hide_names)}")
    return lines


def _days(t: Translator, weekdays: tuple[int, ...]) -> str:
    names = get_day_names("wide", locale=t.locale)
    return ", ".join(str(names[d]) for d in weekdays)


def _pattern_words(t: Translator, pattern: DosingPattern, doses_per_day: int) -> str:
    if pattern.kind is PatternKind.DAILY:
        return t._(PATTERNS["twice_daily" if doses_per_day == 2 else "daily"])
    if pattern.kind is PatternKind.WEEKLY and not pattern.weekdays:
        return t._(PATTERNS["weekly"])
    if pattern.weekdays == (0, 1, 2, 3, 4):
        return t._(PATTERNS["five_of_seven"])
    if pattern.weekdays == (0, 2, 4):
        return t._(PATTERNS["three_times_weekly"])
    return t._("on {days}", days=_days(t, pattern.weekdays))


def _length_words(t: Translator, words: dict[str, Any], doses: int) -> str:
    duration = words.get("duration")
    if not isinstance(duration, dict):
        return t.ngettext("{n} dose", "{n} doses", doses)
    ((unit, n),) = duration.items()
    if unit == "months":
        return t.ngettext("for {n} month", "for {n} months", int(n))
    if unit == "days":
        return t.ngettext("for {n} day", "for {n} days", int(n))
    return t.ngettext("for {n} week", "for {n} weeks", int(n))


def _step_words(t: Translator, step: DoseStep) -> str:
    if step.tablets is None and step.mg is None:
        words = t._("as prescribed")
    elif step.tablets is None:
        words = t._("{mg} mg each time", mg=f"{step.mg:g}")
    elif float(step.tablets).is_integer():
        words = t.ngettext("{n} tablet each time", "{n} tablets each time", int(step.tablets))
    else:
        words = t._("{tablets} tablets each time", tablets=f"{step.tablets:g}")
    if step.tablets is not None and step.mg is not None:
        words = t._("{words} ({mg} mg)", words=words, mg=f"{step.mg:g}")
    if step.weekdays:
        words = t._("{words}, on {days}", words=words, days=_days(t, step.weekdays))
    return words


def _drug_words(t: Translator, drug: Drug, index: int, hide_names: bool) -> str:
    info = load_drugs().get(drug.name)
    if info.id == AS_PRESCRIBED:
        return t._("your medicines, as your clinician told you")
    name = t._("medicine {n}", n=index) if hide_names else info.local_name(t.locale)
    parts = []
    for step in drug.steps:
        words = _step_words(t, step)
        if step.for_days is not None:
            words = t.ngettext(
                "{words} for the first {n} day",
                "{words} for the first {n} days",
                step.for_days,
                words=words,
            )
        parts.append(words)
    if len(parts) == 1:
        return t._("{drug}: {words}", drug=name, words=parts[0])
    return t._("{drug}: {first}, then {then}", drug=name, first=parts[0], then=parts[1])


QUESTIONS: dict[str, Step] = {
    "custom_known": Step(ask_known, accept_known),
    "custom_drugs": Step(ask_drugs, accept_drugs),
    "custom_tablets": Step(ask_tablets, accept_tablets),
    "custom_loading": Step(ask_loading, accept_loading),
    "custom_after_loading": Step(ask_after_loading, accept_after_loading),
    "custom_pattern": Step(ask_pattern, accept_pattern),
    "custom_length": Step(ask_length, accept_length),
    "custom_check": Step(ask_check, accept_check),
}
"""The questions of a custom regimen, shared by set-up and `/regimen` (conversation data:
"language", "zone", "discreet_only", and "custom_start" where the first day is known)."""
