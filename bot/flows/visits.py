"""`/visits`: note a clinic visit or a test, list and cancel them, and see what clinicians
usually check during this treatment ("ask your clinician when"); and the reminders' words.

The flow reads the day and time as people type them (`bot.dates`), repeats the visit back and
returns it only once the patient confirms. Past days and days more than a year ahead get a
question back; nothing is saved half-made.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from bot.dates import parse_when
from bot.dialogue.choices import CANCEL, OPT, Choice
from bot.dialogue.conversation import Conversation, FlowTurn
from bot.dialogue.messages import Inbound, Kind, Reply
from bot.i18n import Translator, translator
from bot.parsing import ParseError, parse_time
from bot.texts import N_
from scheduler.outbox import Payload
from scheduler.visits import Step, Visit, VisitKind
from storage.records import Patient
from treatment.catalogue import load_catalogue
from treatment.monitoring import load_monitoring

FLOW = "visits"
KIND_NAMES = {
    VisitKind.CLINIC: N_("Clinic visit"),
    VisitKind.SPUTUM: N_("Sputum test"),
    VisitKind.BLOOD: N_("Blood test"),
    VisitKind.ECG: N_("ECG (heart check)"),
}
# On a channel read by others on the way (SMS), a sputum test would say "tuberculosis": it is
# called a sample there, and the usual tests are summed up without naming them.
DISCREET_KIND_NAMES = {**KIND_NAMES, VisitKind.SPUTUM: N_("Sample test")}
SUGGESTIONS = {
    "sputum_ds": N_("Sputum tests: usually at the end of month 2, and at months 5 and 6."),
    "culture_dr": N_("Sputum cultures: usually every month of treatment."),
    "ecg_qt": N_(
        "Heart checks (ECG): some of your medicines can change the heart rhythm, so clinicians "
        "check it before and during treatment."
    ),
}
DATE_PROBLEMS = {
    "date_past": N_("That day has passed. Which day is it? Type it like 12/3 or 2026-12-03."),
    "date_far": N_(
        "That is more than a year away. Please check the date and type it again, "
        "like 12/3 or 2026-12-03."
    ),
    "date_range": N_("There is no such day. Please type it like 12/3 or 2026-12-03."),
}


@dataclass(frozen=True, slots=True)
class AddVisit:
    kind: VisitKind
    local: datetime  # naive, on the patient's clock


@dataclass(frozen=True, slots=True)
class ShowVisits:
    pass


@dataclass(frozen=True, slots=True)
class CancelVisit:
    appointment_id: str
    label: str


Outcome = AddVisit | ShowVisits | CancelVisit
Turn = FlowTurn[Outcome]


def begin(
    now: datetime, language: str, zone: str, regimens: Sequence[str], *, discreet: bool = False
) -> Turn:
    """The menu. `regimens` are the ids followed so far (for the usual monitoring);
    `discreet` for a channel whose every message others may read (neutral names)."""
    data = {"language": language, "zone": zone, "regimens": list(regimens), "discreet": discreet}
    conversation = Conversation(FLOW, "menu", data, now)
    return Turn([_ask(conversation)], conversation)


def listing(conversation: Conversation, entries: Sequence[tuple[str, str]], now: datetime) -> Turn:
    """The upcoming visits (id, label), each with a button to cancel it."""
    moved = conversation.at("list", now, entries=[list(entry) for entry in entries])
    return Turn([_ask(moved)], moved)


def handle(conversation: Conversation, event: Inbound, now: datetime) -> Turn:
    t = translator(conversation.data["language"])
    asked = _ask(conversation)
    option = event.option(asked)
    text = event.text if event.kind is Kind.TEXT else None
    if option == "close" or (event.pick is not None and event.pick.verb == CANCEL):
        return Turn([Reply(t._("Closed. Nothing else changed."))], None)
    step, data = conversation.step, conversation.data
    today = now.astimezone(ZoneInfo(data["zone"])).date()
    problem: str | None = None
    moved: Conversation | None = None
    if step == "menu" and option == "add":
        moved = conversation.at("kind", now)
    elif step == "menu" and option == "list":
        return Turn([], conversation, ShowVisits())
    elif step == "menu" and option == "suggest":
        moved = conversation.at("menu", now)
        shown = suggestions_reply(t, data["regimens"], discreet=bool(data.get("discreet")))
        return Turn([shown, _ask(moved)], moved)
    elif step == "kind" and option in {k.value for k in VisitKind}:
        moved = conversation.at("when", now, kind=option)
    elif step == "when" and text is not None:
        moved, problem = _when(conversation, text, today, now, t)
    elif step == "time" and text is not None:
        moved, problem = _time(conversation, text, now, t)
    elif step == "confirm" and option == "yes":
        local = datetime.fromisoformat(data["local"])
        return Turn([], None, AddVisit(VisitKind(data["kind"]), local))
    elif step == "confirm" and option == "no":
        return Turn([Reply(t._("Nothing saved."))], None)
    elif step == "list" and option is not None and option.startswith("x"):
        entries = data.get("entries", [])
        index = int(option[1:]) if option[1:].isdigit() else -1
        if 0 <= index < len(entries):
            return Turn([], None, CancelVisit(str(entries[index][0]), str(entries[index][1])))
    if moved is not None:
        said = [Reply(problem)] if problem else []
        return Turn([*said, _ask(moved)], moved)
    replies = [Reply(problem or t._("Please choose one of the options."))]
    return Turn([*replies, asked], conversation.at(step, now))


def _when(
    conversation: Conversation, text: str, today: date, now: datetime, t: Translator
) -> tuple[Conversation | None, str | None]:
    try:
        day, at = parse_when(text, today)
    except ParseError as error:
        wanted = DATE_PROBLEMS.get(error.code)
        return None, t._(wanted) if wanted else t._(
            "I could not read that day. Please type it like 12/3, 2026-12-03 or tomorrow."
        )
    moved = conversation.at("time", now, day=day.isoformat())
    if at is None:
        return moved, None
    return _at(moved, day, at, now, t)


def _time(
    conversation: Conversation, text: str, now: datetime, t: Translator
) -> tuple[Conversation | None, str | None]:
    try:
        at = parse_time(text)
    except ParseError:
        return None, t._("Please type the time like 10:30 or 2pm.")
    return _at(conversation, date.fromisoformat(conversation.data["day"]), at, now, t)


def _at(
    conversation: Conversation, day: date, at: time, now: datetime, t: Translator
) -> tuple[Conversation | None, str | None]:
    local = datetime.combine(day, at)
    visit = Visit(VisitKind(conversation.data["kind"]), local, conversation.data["zone"])
    if visit.at <= now:
        return conversation.at("when", now), t._(
            "That time has passed. Which day is it? Type it like 12/3 or tomorrow."
        )
    return conversation.at("confirm", now, local=local.isoformat()), None


def label(t: Translator, visit: Visit, *, discreet: bool = False) -> str:
    """What and when, in the reader's style: "Sputum test, Dec 3, 10:30 AM" (no middle dot:
    an English text stays within the SMS alphabet)."""
    moment = t.moment(visit.local.replace(tzinfo=ZoneInfo(visit.zone)))
    names = DISCREET_KIND_NAMES if discreet else KIND_NAMES
    return t._("{what}, {when}", what=t._(names[visit.kind]), when=moment)


def suggestions_reply(
    t: Translator, regimen_ids: Sequence[str], *, discreet: bool = False
) -> Reply:
    """What clinicians usually check in these regimens, always as "ask your clinician"; on a
    discreet-only channel without naming the tests."""
    catalogue = load_catalogue()
    known = [catalogue.regimens[r] for r in regimen_ids if r in catalogue.regimens]
    found = load_monitoring().for_regimens(known)
    if not found:
        return Reply(
            t._(
                "I have no usual tests listed for your treatment. Ask your clinician which "
                "visits and tests you need, then note them here."
            )
        )
    if discreet:
        return Reply(
            t._(
                "Clinicians usually ask for a few tests during this treatment, some of them "
                "every month. Ask your clinician which ones and when, then note them here."
            )
        )
    lines = [t._("What clinicians usually check during your treatment:")]
    lines.extend(f"• {t._(SUGGESTIONS[s.id])}" for s in found if s.id in SUGGESTIONS)
    lines.append(
        t._(
            "I never book these. Ask your clinician when yours are, then note them with "
            "“Add a visit or test”."
        )
    )
    return Reply("\n".join(lines), sensitive=True)


def offer_after_setup(t: Translator, regimen_id: str) -> str | None:
    """Once, at the end of set-up: where to find the usual tests, if this regimen has any."""
    catalogue = load_catalogue()
    if regimen_id not in catalogue.regimens:
        return None
    if not load_monitoring().for_regimens([catalogue.regimens[regimen_id]]):
        return None
    return t._(
        "Your clinician may ask for some tests during this treatment. /visits shows what to "
        "ask about, and reminds you of each visit you note."
    )


def _ask(conversation: Conversation) -> Reply:
    t = translator(conversation.data["language"])
    data: dict[str, Any] = conversation.data
    close = (Choice(t._("Close"), OPT, "close"),)
    step = conversation.step
    if step == "kind":
        names = DISCREET_KIND_NAMES if data.get("discreet") else KIND_NAMES
        rows = [(Choice(t._(name), OPT, kind.value),) for kind, name in names.items()]
        return Reply(t._("What is it?"), (*rows, (Choice(t._("Cancel"), CANCEL),)))
    if step == "when":
        return Reply(
            t._("Which day, and at what time? Type it like 12/3 10:30, 2026-12-03 or tomorrow."),
            ((Choice(t._("Cancel"), CANCEL),),),
        )
    if step == "time":
        return Reply(
            t._("At what time? Type it like 10:30 or 2pm."), ((Choice(t._("Cancel"), CANCEL),),)
        )
    if step == "confirm":
        visit = Visit(VisitKind(data["kind"]), datetime.fromisoformat(data["local"]), data["zone"])
        return Reply(
            t._(
                "{visit}. I will remind you the day before and on the morning. Save it?",
                visit=label(t, visit, discreet=bool(data.get("discreet"))),
            ),
            ((Choice(t._("Yes, save it"), OPT, "yes"), Choice(t._("No, cancel"), OPT, "no")),),
            sensitive=True,
        )
    if step == "list":
        entries = data.get("entries", [])
        rows = [
            (Choice(t._("Cancel: {visit}", visit=entry[1]), OPT, f"x{n}"),)
            for n, entry in enumerate(entries)
        ]
        lines = [t._("Your visits and tests:"), *(f"• {entry[1]}" for entry in entries)]
        return Reply("\n".join(lines), (*rows, close), sensitive=True)
    rows = [
        (Choice(t._("Add a visit or test"), OPT, "add"),),
        (Choice(t._("My visits and tests"), OPT, "list"),),
        (Choice(t._("What to ask my clinician about"), OPT, "suggest"),),
    ]
    return Reply(t._("Clinic visits and tests. I remind you of each one."), (*rows, close))


class VisitReminders:
    """The reminders' words (`scheduler.visits.VisitWords`): discreet ones ("your
    appointment") when the patient chose discreet mode, and always as the brief form."""

    def visit_reminder(self, patient: Patient, visit: Visit, step: Step) -> Payload:
        t = translator(patient.language)
        at = t.time(visit.local)
        if step is Step.DAY_BEFORE:
            discreet = t._("Reminder: tomorrow at {time} you have an appointment.", time=at)
            full = t._("Reminder: tomorrow at {time}: {what}.", time=at, what=_what(t, visit))
        else:
            discreet = t._("Reminder: today at {time} you have an appointment.", time=at)
            full = t._("Reminder: today at {time}: {what}.", time=at, what=_what(t, visit))
        return Payload.message(discreet if patient.discreet else full).with_brief(discreet)


def _what(t: Translator, visit: Visit) -> str:
    return t._(KIND_NAMES[visit.kind])
