"""`/helper`: the patient's helpers, what each is told, inviting one, removing one.

The flow only asks; it returns a `Change` that the caller applies in one transaction (and
re-opens the menu with what is stored). Helper ids travel in button arguments, and the caller
checks each against the patient's own helpers before acting on it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.dialogue.choices import OPT, Choice
from bot.dialogue.conversation import Conversation, FlowTurn
from bot.dialogue.messages import Inbound, Kind, Reply
from bot.i18n import Translator, translator
from bot.texts import N_
from scheduler.alerts import MAX_HELPERS, MISSED_RUN_CHOICES, HelperPrefs
from scheduler.preferences import ESCALATION_CHOICES

FLOW = "helpers"
MAX_NAME = 40
SWITCHES = {
    "unanswered": N_("A dose still unanswered at the end of its window"),
    "missed_run": N_("Several doses missed in a row"),
    "red_flag": N_("A dangerous side effect, or a very hard moment"),
    "unreachable": N_("I can't reach you, or you don't answer for 3 days"),
    "interruption": N_("A risk that the treatment is interrupted"),
    "weekly": N_("A weekly summary of doses"),
    "details": N_("Show which symptoms you reported"),
    "report": N_("May get my treatment report when I send it"),
    "visits": N_("May note my visits and tests"),
    "regimen": N_("May enter my regimen"),
}
STATES = {
    "invited": N_("invitation not used yet"),
    "accepted": N_("waiting for you to confirm"),
    "active": N_("linked"),
}
ESCALATION_LABELS = {
    30: N_("After 30 minutes"),
    60: N_("After 1 hour"),
    180: N_("After 3 hours"),
    720: N_("After 12 hours"),
}


@dataclass(frozen=True, slots=True)
class Invite:
    name: str  # as the patient knows them
    shown_as: str  # the patient's name as the helper will see it


@dataclass(frozen=True, slots=True)
class Reinvite:
    helper: str


@dataclass(frozen=True, slots=True)
class Remove:
    helper: str


@dataclass(frozen=True, slots=True)
class Toggle:
    helper: str
    switch: str  # one of `SWITCHES`


@dataclass(frozen=True, slots=True)
class MissedRun:
    helper: str
    n: int  # doses missed in a row before the helper is told


@dataclass(frozen=True, slots=True)
class PauseAlerts:
    paused: bool


@dataclass(frozen=True, slots=True)
class Escalate:
    minutes: int


# What to apply, as a tagged union: the type says what, the fields with what.
Change = Invite | Reinvite | Remove | Toggle | MissedRun | PauseAlerts | Escalate


Turn = FlowTurn[Change]


def entry(helper_id: str, alias: str, state: str, prefs: HelperPrefs) -> dict[str, Any]:
    """One helper as the flow sees it (stored with the conversation)."""
    return {"id": helper_id, "alias": alias, "state": state, "prefs": prefs.to_permissions()}


def begin(
    now: datetime,
    language: str,
    alias: str,
    helpers: list[dict[str, Any]],
    *,
    alerts_on: bool,
    escalate_minutes: int,
    focus: str | None = None,
) -> Turn:
    """The menu, or straight to naming a helper when there is none; `focus` re-opens one
    helper's page after a change to it."""
    data = {
        "language": language,
        "alias": alias,
        "helpers": helpers,
        "alerts_on": alerts_on,
        "escalate": escalate_minutes,
    }
    step = "menu" if helpers else "name"
    if focus is not None and any(h["id"] == focus for h in helpers):
        step = f"helper:{focus}"
    conversation = Conversation(FLOW, step, data, now)
    return Turn([_ask(conversation)], conversation)


def handle(conversation: Conversation, event: Inbound, now: datetime) -> Turn:
    t = translator(conversation.data["language"])
    option = event.option(_ask(conversation))
    text = event.text if event.kind is Kind.TEXT else None
    if option == "close":
        return Turn([Reply(t._("Closed."), edit=True)], None)
    step = conversation.step
    if option == "menu":
        return _to(conversation.at("menu", now))
    if step == "menu":
        return _menu(conversation, option, now)
    if step == "name":
        name = _clean(text)
        if name is None:
            return _again(t, conversation, now, text)
        return _to(conversation.at("shown", now, name=name))
    if step == "shown":
        shown = conversation.data["alias"] if option == "alias" else _clean(text)
        if shown is None:
            return _again(t, conversation, now, text)
        name = conversation.data["name"]
        return Turn([], None, Invite(name, shown))
    if step == "escalate" and option is not None and option.isdigit():
        return Turn([], None, Escalate(int(option)))
    if step.startswith("helper:"):
        return _helper_page(conversation, step.removeprefix("helper:"), option, now)
    if step.startswith("remove:") and option == "yes":
        return Turn([], None, Remove(step.removeprefix("remove:")))
    return _again(t, conversation, now, text)


def _menu(conversation: Conversation, option: str | None, now: datetime) -> Turn:
    t = translator(conversation.data["language"])
    if option == "invite":
        return _to(conversation.at("name", now))
    if option == "escalate":
        return _to(conversation.at("escalate", now))
    if option in ("pause", "unpause"):
        return Turn([], None, PauseAlerts(option == "pause"))
    if option is not None and option.startswith("h."):
        return _to(conversation.at(f"helper:{option.removeprefix('h.')}", now))
    return _again(t, conversation, now, None)


def _helper_page(
    conversation: Conversation, helper_id: str, option: str | None, now: datetime
) -> Turn:
    t = translator(conversation.data["language"])
    if option is None:
        return _again(t, conversation, now, None)
    if option == "remove":
        return _to(conversation.at(f"remove:{helper_id}", now))
    if option == "reinvite":
        return Turn([], None, Reinvite(helper_id))
    if option.startswith("t."):
        switch = option.removeprefix("t.")
        return Turn([], None, Toggle(helper_id, switch))
    if option.startswith("n."):
        return Turn([], None, MissedRun(helper_id, int(option[2:])))
    return _again(t, conversation, now, None)


def _clean(text: str | None) -> str | None:
    name = " ".join(unicodedata.normalize("NFKC", text or "").split())
    if not name or len(name) > MAX_NAME or name.startswith("/"):
        return None
    return name


def _to(conversation: Conversation) -> Turn:
    return Turn([_ask(conversation)], conversation)


def _again(t: Translator, conversation: Conversation, now: datetime, text: str | None) -> Turn:
    problem = (
        t._("Please type a name of at most {max} characters.", max=MAX_NAME)
        if text
        else t._("Please choose one of the options.")
    )
    return Turn([Reply(problem), _ask(conversation)], conversation.at(conversation.step, now))


def _helper(conversation: Conversation, helper_id: str) -> dict[str, Any] | None:
    return next((h for h in conversation.data["helpers"] if h["id"] == helper_id), None)


def _ask(conversation: Conversation) -> Reply:
    t = translator(conversation.data["language"])
    data = conversation.data
    close = (Choice(t._("Close"), OPT, "close"),)
    back = (Choice(t._("Back"), OPT, "menu"),)
    step = conversation.step
    if step == "name":
        return Reply(
            t._(
                "A helper is someone you trust: a friend, relative or health worker. I tell them "
                "when you may need a hand, never your health details unless you allow it.\n\n"
                "What is their name? Only you will see it."
            ),
            (close,),
        )
    if step == "shown":
        return Reply(
            t._("Which name of yours should {name} see in my messages?", name=data["name"]),
            ((Choice(data["alias"], OPT, "alias"),), close),
        )
    if step == "escalate":
        rows = [
            (Choice(t._(ESCALATION_LABELS[m]), OPT, str(m)),)
            for m in ESCALATION_CHOICES
            if m in ESCALATION_LABELS
        ]
        return Reply(
            t._("If the first helper does not answer an alert, when should I tell the next one?"),
            (*rows, back),
        )
    if step.startswith("remove:"):
        helper = _helper(conversation, step.removeprefix("remove:"))
        name = helper["alias"] if helper else ""
        return Reply(
            t._(
                "Remove {name}? They will be told they are no longer your helper, without any "
                "details, and get no more messages about you.",
                name=name,
            ),
            ((Choice(t._("Yes, remove"), OPT, "yes"),), back),
        )
    if step.startswith("helper:"):
        helper = _helper(conversation, step.removeprefix("helper:"))
        if helper is not None:
            return _page(t, helper, back)
    return _menu_reply(t, data, close)


def _menu_reply(t: Translator, data: dict[str, Any], close: tuple[Choice, ...]) -> Reply:
    helpers = data["helpers"]
    lines = [t._("Your helpers:")]
    rows: list[tuple[Choice, ...]] = []
    for helper in helpers:
        state = t._(STATES.get(helper["state"], STATES["invited"]))
        lines.append(f"• {helper['alias']} ({state})")
        rows.append((Choice(helper["alias"], OPT, f"h.{helper['id']}"),))
    if not data["alerts_on"] and any(h["state"] == "active" for h in helpers):
        lines.append(t._("Alerts to helpers are paused."))
    if len(helpers) < MAX_HELPERS:
        rows.append((Choice(t._("Invite a helper"), OPT, "invite"),))
    else:
        lines.append(
            t.ngettext(
                "You have {n} helper, the most I allow.",
                "You have {n} helpers, the most I allow.",
                MAX_HELPERS,
            )
        )
    if any(h["state"] == "active" for h in helpers):
        if data["alerts_on"]:
            rows.append((Choice(t._("Pause all alerts"), OPT, "pause"),))
        else:
            rows.append((Choice(t._("Turn alerts back on"), OPT, "unpause"),))
        minutes = int(data["escalate"])
        label = ESCALATION_LABELS.get(minutes, ESCALATION_LABELS[60])
        rows.append((Choice(t._("Next helper: {when}", when=t._(label)), OPT, "escalate"),))
    return Reply("\n".join(lines), (*rows, close))


def _page(t: Translator, helper: dict[str, Any], back: tuple[Choice, ...]) -> Reply:
    prefs = HelperPrefs.of_mapping(helper["prefs"])
    name = helper["alias"]
    rows: list[tuple[Choice, ...]] = []
    if helper["state"] == "invited":
        text = t._("{name} has not used the invitation yet.", name=name)
        rows.append((Choice(t._("New invitation code"), OPT, "reinvite"),))
    else:
        text = t._("What should {name} be told? Tap to switch.", name=name)
        for switch, label in SWITCHES.items():
            on = bool(getattr(prefs, switch))
            mark = "✅" if on else "⬜"
            if switch == "missed_run" and on:
                label_text = t.ngettext(
                    "{n} dose missed in a row", "{n} doses missed in a row", prefs.missed_run
                )
            else:
                label_text = t._(label)
            rows.append((Choice(f"{mark} {label_text}", OPT, f"t.{switch}"),))
        if prefs.missed_run:
            rows.append(
                tuple(
                    Choice(("• " if n == prefs.missed_run else "") + str(n), OPT, f"n.{n}")
                    for n in MISSED_RUN_CHOICES
                )
            )
    rows.append((Choice(t._("Remove {name}", name=name), OPT, "remove"),))
    return Reply(text, (*rows, back))
