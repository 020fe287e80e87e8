"""Onboarding: from `/start` to a confirmed treatment plan, one question at a time.

The flow is pure: it reads the conversation so far and one inbound event, and returns the
replies, the next conversation state and, on confirmation, the `Setup` to store. Nothing is
stored before the patient confirms, so cancelling at any step leaves nothing behind.

Order: language (only when the client's language is not one we speak), privacy consent,
alias, time zone, regimen, start date, dose times, the doses since a past start (only then),
weight (only when the regimen's tablets depend on it), discreet mode with its cover word in one
question, summary. The time zone comes before the start date so that "today" means the
patient's today.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, available_timezones

from bot.dialogue.choices import CANCEL, OPT, Choice
from bot.dialogue.conversation import Conversation
from bot.dialogue.messages import Inbound, Kind, Reply
from bot.flows.reminder import DoseLine, dose_lines
from bot.i18n import LOCALES, Translator, negotiate, spoken, translator
from bot.parsing import (
    ParseError,
    offset_zone,
    parse_date,
    parse_missed,
    parse_times,
    parse_utc_offset,
    parse_weight,
)
from bot.texts import LANGUAGE_NAMES, REGIMEN_NAMES
from treatment.backfill import Earlier, EarlierDoses, due_before, last_dose_day, not_taken
from treatment.catalogue import load_catalogue
from treatment.enrolment import Enrolment, enrol
from treatment.plan import iter_slots

FLOW = "onboarding"
MAX_ALIAS = 32
MAX_COVER = 24
MAX_BACKDATE_DAYS = 365

# Cities offered as buttons; anything else is typed (a city, an IANA name or a UTC offset).
ZONES = (
    "Asia/Seoul",
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Tokyo",
    "Asia/Manila",
    "Asia/Ho_Chi_Minh",
    "Asia/Bangkok",
    "Asia/Jakarta",
    "Asia/Kolkata",
    "Europe/London",
    "America/New_York",
)
CITY_ALIASES = {
    "서울": "Asia/Seoul",
    "부산": "Asia/Seoul",
    "上海": "Asia/Shanghai",
    "北京": "Asia/Shanghai",
    "广州": "Asia/Shanghai",
    "深圳": "Asia/Shanghai",
    "香港": "Asia/Hong_Kong",
    "台北": "Asia/Taipei",
    "东京": "Asia/Tokyo",
    "도쿄": "Asia/Tokyo",
    "beijing": "Asia/Shanghai",
}
TIME_CHOICES = ("07:00", "08:00", "09:00", "20:00", "21:00")


@dataclass(frozen=True, slots=True)
class Setup:
    """What the patient confirmed; the caller stores it in one transaction."""

    language: str
    alias: str
    zone: str
    regimen_id: str
    start: date
    times: tuple[time, ...]
    weight_kg: float | None
    discreet: bool
    cover_word: str | None
    earlier: EarlierDoses | None = None
    """What the patient said about the doses due before set-up (None: there were none)."""


@dataclass(frozen=True, slots=True)
class Turn:
    replies: list[Reply]
    conversation: Conversation | None  # None: the flow is over (confirmed or cancelled)
    setup: Setup | None = None


def begin(now: datetime, language_tag: str | None) -> Turn:
    """The first question: the privacy notice in the client's language when we speak it (with
    a button to pick another), else the language question."""
    known = spoken(language_tag)
    if known is None:
        conversation = Conversation(FLOW, "language", {"language": negotiate(language_tag)}, now)
    else:
        conversation = Conversation(FLOW, "consent", {"language": known, "guessed": True}, now)
    return Turn([_ask(conversation)], conversation)


def handle(conversation: Conversation, event: Inbound, now: datetime) -> Turn:
    """Take one answer to the current question.

    Steps:
    1. A cancel choice ends the flow with nothing stored.
    2. The answer is read: a pick must be one of the options this step offered (a replayed or
       forged button from another step is not), typed text goes through the step's parser.
    3. A valid answer moves to the next step and asks its question; an invalid one repeats the
       question with a short reason, keeping everything said so far.
    """
    t = translator(conversation.data.get("language", "en"))
    if event.kind is Kind.PICK and event.pick is not None and event.pick.verb == CANCEL:
        return Turn(
            [Reply(t._("Setup cancelled. Nothing was saved. Send /start to begin again."))], None
        )
    step = STEPS[conversation.step]
    answer = _answer(event, _ask(conversation))
    outcome = step.accept(conversation, answer, now) if answer is not None else None
    if outcome is None or isinstance(outcome, str):
        problem = outcome or t._("Please choose one of the options, or type your answer.")
        return Turn([Reply(problem), _ask(conversation)], conversation.at(conversation.step, now))
    if isinstance(outcome, Setup):
        return Turn([_done(translator(outcome.language), outcome)], None, outcome)
    if outcome.step == "declined":
        t = translator(outcome.data.get("language", "en"))
        return Turn(
            [
                Reply(
                    t._("That's all right. Nothing was saved. Send /start if you change your mind.")
                )
            ],
            None,
        )
    return Turn([_ask(outcome)], outcome)


# --- reading answers -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answer:
    option: str | None = None
    text: str | None = None


def _answer(event: Inbound, offered: Reply) -> Answer | None:
    if event.kind is Kind.PICK:
        option = event.option(offered)
        return None if option is None else Answer(option=option)
    if event.kind is Kind.TEXT and event.text.strip():
        return Answer(text=event.text)
    return None


# --- the questions ---------------------------------------------------------------------------

Accept = Callable[[Conversation, Answer, datetime], "Conversation | Setup | str | None"]
Ask = Callable[[Translator, dict[str, object]], Reply]


@dataclass(frozen=True, slots=True)
class Step:
    ask: Ask
    accept: Accept


def _ask(conversation: Conversation) -> Reply:
    t = translator(str(conversation.data.get("language", "en")))
    return STEPS[conversation.step].ask(t, conversation.data)


def _with_cancel(
    t: Translator, rows: Sequence[tuple[Choice, ...]]
) -> tuple[tuple[Choice, ...], ...]:
    return (*rows, (Choice(t._("Cancel"), CANCEL),))


def _ask_language(t: Translator, data: dict[str, object]) -> Reply:
    suggested = str(data.get("language", "en"))
    ordered = [suggested, *(code for code in LOCALES if code != suggested)]
    rows = [(Choice(LANGUAGE_NAMES[code], OPT, code),) for code in ordered]
    return Reply(t._("Hello. Which language should I use?"), _with_cancel(t, rows))


def _accept_language(c: Conversation, a: Answer, now: datetime) -> Conversation | str | None:
    if a.option is None:
        return None
    return c.at("consent", now, language=a.option)


def _ask_consent(t: Translator, data: dict[str, object]) -> Reply:
    text = t._(
        "I can remind you of every dose, count your doses the way clinics do, and tell a person "
        "you choose if doses stop.\n\n"
        "What I keep: a nickname, your treatment plan, the doses you report, side effects and "
        "how you feel. It is encrypted at rest with a key of your own. Whoever runs this server "
        "holds the key that opens it, so they could technically read it; nobody else can.\n"
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


def _accept_consent(c: Conversation, a: Answer, now: datetime) -> Conversation | str | None:
    if a.option == "language":
        return c.at("language", now, guessed=False)
    if a.option == "yes":
        return c.at("alias", now, consent=True)
    if a.option == "no":
        return c.at("declined", now)
    return None


def _ask_alias(t: Translator, data: dict[str, object]) -> Reply:
    return Reply(
        t._("What should I call you? Please use a nickname, not your real name."),
        _with_cancel(t, []),
    )


def _accept_alias(c: Conversation, a: Answer, now: datetime) -> Conversation | str | None:
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
    return c.at("zone", now, alias=alias)


def _ask_zone(t: Translator, data: dict[str, object]) -> Reply:
    rows = [
        tuple(
            Choice(zone.split("/")[-1].replace("_", " "), OPT, zone.replace("/", "."))
            for zone in pair
        )
        for pair in zip(ZONES[::2], ZONES[1::2], strict=True)
    ]
    return Reply(
        t._(
            "Where are you? I use this to remind you at your local time. Pick a city, or type "
            "another city, a time zone such as Europe/Paris, or a UTC offset such as UTC+9."
        ),
        _with_cancel(t, rows),
    )


def _accept_zone(c: Conversation, a: Answer, now: datetime) -> Conversation | str | None:
    t = translator(str(c.data.get("language", "en")))
    if a.option is not None:
        return c.at("regimen", now, zone=a.option.replace(".", "/"))
    zone = find_zone(a.text or "")
    if zone is None:
        return t._(
            "I don't know that place. Try a bigger city nearby, or a UTC offset such as UTC+9."
        )
    return c.at("regimen", now, zone=zone)


def find_zone(text: str) -> str | None:
    """An IANA zone for a typed city, zone name or UTC offset; None when nothing fits."""
    typed = unicodedata.normalize("NFKC", text).strip()
    if not typed or len(typed) > 64:
        return None
    if typed in CITY_ALIASES or typed.lower() in CITY_ALIASES:
        return CITY_ALIASES.get(typed) or CITY_ALIASES[typed.lower()]
    try:
        return offset_zone(parse_utc_offset(typed))
    except ParseError:
        pass
    wanted = typed.lower().replace(" ", "_")
    by_name = {zone.lower(): zone for zone in _zones()}
    if wanted in by_name:
        return by_name[wanted]
    cities = [zone for zone in _zones() if zone.lower().rsplit("/", 1)[-1] == wanted]
    return cities[0] if len(cities) == 1 else None


def _zones() -> set[str]:
    return {zone for zone in available_timezones() if "/" in zone and not zone.startswith("Etc/")}


def _regimen_slug(regimen_id: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "_.-" else "_" for ch in regimen_id)


def _regimen_by_slug(slug: str) -> str | None:
    return next((r.id for r in load_catalogue() if _regimen_slug(r.id) == slug), None)


def _ask_regimen(t: Translator, data: dict[str, object]) -> Reply:
    rows = [
        (Choice(t._(REGIMEN_NAMES.get(r.id, r.name)), OPT, _regimen_slug(r.id)),)
        for r in load_catalogue()
    ]
    return Reply(
        t._(
            "Which treatment did your clinician or prescription give you? If none of these "
            "matches, please ask your clinician which one it is."
        ),
        _with_cancel(t, rows),
    )


def _accept_regimen(c: Conversation, a: Answer, now: datetime) -> Conversation | str | None:
    regimen_id = _regimen_by_slug(a.option) if a.option else None
    if regimen_id is None:
        return None
    return c.at("start", now, regimen=regimen_id)


def _local_today(data: dict[str, object], now: datetime) -> date:
    return now.astimezone(ZoneInfo(str(data["zone"]))).date()


def _ask_start(t: Translator, data: dict[str, object]) -> Reply:
    rows = [(Choice(t._("Today"), OPT, "today"), Choice(t._("Yesterday"), OPT, "yesterday"))]
    return Reply(
        t._("When did you take (or will you take) the first dose? Type a date like 2026-03-01."),
        _with_cancel(t, rows),
    )


def _accept_start(c: Conversation, a: Answer, now: datetime) -> Conversation | str | None:
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
    return load_catalogue().get(str(data["regimen"])).doses_per_day


def _ask_times(t: Translator, data: dict[str, object]) -> Reply:
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
    return Reply(text, _with_cancel(t, rows))


def _accept_times(c: Conversation, a: Answer, now: datetime) -> Conversation | str | None:
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
    due = len(due_before(_draft(moved.data), now))
    if due:
        return moved.at("earlier", now, due=due)
    return _after_earlier(moved, now)


def _draft(data: dict[str, object]) -> Enrolment:
    """The plan as answered so far (weight aside), to see which doses are already due."""
    return enrol(
        regimen=str(data["regimen"]),
        start=date.fromisoformat(str(data["start"])),
        times=tuple(time.fromisoformat(str(x)) for x in _as_list(data["times"])),
        zone=str(data["zone"]),
        today=date.fromisoformat(str(data["today"])),
    )


def _ask_earlier(t: Translator, data: dict[str, object]) -> Reply:
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
        _with_cancel(t, rows),
    )


def _accept_earlier(c: Conversation, a: Answer, now: datetime) -> Conversation | str | None:
    if a.option == Earlier.SOME.value:
        return c.at("missed", now)
    if a.option in (Earlier.ALL.value, Earlier.UNSURE.value):
        return _after_earlier(
            c.at(c.step, now, earlier=EarlierDoses(Earlier(a.option)).to_dict()), now
        )
    return None


def _ask_missed(t: Translator, data: dict[str, object]) -> Reply:
    return Reply(
        t._(
            "How many doses did you miss? Type a number, like 3, or the days, like "
            "{example}. Doses you do not tell me about are counted as taken.",
            example=date.fromisoformat(str(data["start"])).isoformat(),
        ),
        _with_cancel(t, [(Choice(t._("Not sure"), OPT, Earlier.UNSURE.value),)]),
    )


def _accept_missed(c: Conversation, a: Answer, now: datetime) -> Conversation | str | None:
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
    return _after_earlier(c.at(c.step, now, earlier=earlier.to_dict()), now)


def _after_earlier(c: Conversation, now: datetime) -> Conversation:
    """Weight is asked only when the regimen's tablet count depends on it."""
    if _needs_weight(str(c.data["regimen"])):
        return c.at("weight", now)
    return c.at("discreet", now, weight=None)


def _needs_weight(regimen_id: str) -> bool:
    regimen = load_catalogue().get(regimen_id)
    return any(s.weight_banded for p in regimen.phases for d in p.drugs for s in d.steps)


def _ask_weight(t: Translator, data: dict[str, object]) -> Reply:
    rows = [(Choice(t._("Skip"), OPT, "skip"),)]
    return Reply(
        t._(
            "What is your weight in kg? Many treatments use it to decide the number of tablets. "
            "You can skip this."
        ),
        _with_cancel(t, rows),
    )


def _accept_weight(c: Conversation, a: Answer, now: datetime) -> Conversation | str | None:
    t = translator(str(c.data.get("language", "en")))
    if a.option == "skip":
        return c.at("discreet", now, weight=None)
    try:
        weight = parse_weight(a.text or "")
    except ParseError:
        return t._("Please type your weight in kg as a number from 3 to 250, or press Skip.")
    return c.at("discreet", now, weight=weight)


def _ask_discreet(t: Translator, data: dict[str, object]) -> Reply:
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
        _with_cancel(t, rows),
    )


def _accept_discreet(c: Conversation, a: Answer, now: datetime) -> Conversation | str | None:
    t = translator(str(c.data.get("language", "en")))
    if a.option == "off":
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


def _ask_confirm(t: Translator, data: dict[str, object]) -> Reply:
    setup = _setup(data)
    regimen = load_catalogue().get(setup.regimen_id)
    lines = [
        t._("Please check:"),
        t._("Nickname: {alias}", alias=setup.alias),
        t._("Treatment: {name}", name=t._(REGIMEN_NAMES.get(regimen.id, regimen.name))),
        t._("First dose: {date}", date=t.date(setup.start)),
        t._("Dose times: {times}", times=", ".join(t.time(x) for x in setup.times)),
        t._("Time zone: {zone}", zone=setup.zone),
    ]
    if setup.weight_kg is not None:
        lines.append(t._("Weight: {kg} kg", kg=format(setup.weight_kg, "g")))
    plan = to_enrolment(setup, setup.start)
    first = next(iter_slots(plan), None)
    if first is not None:
        lines.append(t._("Each dose:"))
        drugs = [DoseLine(d.name, d.mg, d.tablets) for d in first.drugs]
        lines.extend(f"• {line}" for line in dose_lines(t, drugs))
    if setup.earlier is not None:
        lines.append(earlier_line(t, setup, setup.earlier, data))
    if setup.discreet:
        lines.append(
            t._("Discreet mode: on, medicine called “{word}”", word=setup.cover_word)
            if setup.cover_word
            else t._("Discreet mode: on")
        )
    else:
        lines.append(t._("Discreet mode: off"))
    rows = [(Choice(t._("Start"), OPT, "start"), Choice(t._("Start over"), OPT, "restart"))]
    return Reply("\n".join(lines), _with_cancel(t, rows), sensitive=True)


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


def _accept_confirm(c: Conversation, a: Answer, now: datetime) -> Conversation | Setup | str | None:
    if a.option == "start":
        return _setup(c.data)
    if a.option == "restart":
        return Conversation(FLOW, "alias", {"language": c.data["language"], "consent": True}, now)
    return None


def _setup(data: dict[str, object]) -> Setup:
    weight = data.get("weight")
    cover = data.get("cover")
    earlier = data.get("earlier")
    return Setup(
        language=str(data["language"]),
        alias=str(data["alias"]),
        zone=str(data["zone"]),
        regimen_id=str(data["regimen"]),
        start=date.fromisoformat(str(data["start"])),
        times=tuple(time.fromisoformat(str(x)) for x in _as_list(data["times"])),
        weight_kg=None if weight is None else float(str(weight)),
        discreet=bool(data["discreet"]),
        cover_word=None if cover is None else str(cover),
        earlier=EarlierDoses.from_dict(earlier) if isinstance(earlier, dict) else None,
    )


def to_enrolment(setup: Setup, today: date) -> Enrolment:
    """The treatment plan the patient confirmed, checked by the treatment engine."""
    return enrol(
        regimen=setup.regimen_id,
        start=setup.start,
        times=setup.times,
        zone=setup.zone,
        today=today,
        weight_kg=setup.weight_kg,
    )


def _as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, list | tuple) else []


def _done(t: Translator, setup: Setup) -> Reply:
    return Reply(
        t._(
            "All set, {alias}. I will remind you at {times}. Press Taken when you have taken "
            "your dose. /progress shows how far you are, /help lists everything I can do.",
            alias=setup.alias,
            times=", ".join(t.time(x) for x in setup.times),
        )
    )


STEPS: dict[str, Step] = {
    "language": Step(_ask_language, _accept_language),
    "consent": Step(_ask_consent, _accept_consent),
    "alias": Step(_ask_alias, _accept_alias),
    "zone": Step(_ask_zone, _accept_zone),
    "regimen": Step(_ask_regimen, _accept_regimen),
    "start": Step(_ask_start, _accept_start),
    "times": Step(_ask_times, _accept_times),
    "weight": Step(_ask_weight, _accept_weight),
    "earlier": Step(_ask_earlier, _accept_earlier),
    "missed": Step(_ask_missed, _accept_missed),
    "discreet": Step(_ask_discreet, _accept_discreet),
    "confirm": Step(_ask_confirm, _accept_confirm),
}
