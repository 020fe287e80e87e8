"""`/regimenfor NAME`: a helper the patient allowed enters a custom regimen; the patient confirms.

The helper answers the set-up's own custom-regimen questions
(`bot.flows.onboarding.custom.QUESTIONS`) in a conversation of their own party
("helper:<id>", under the patient's key, so the answers are sealed like the patient's). When
the helper says the repeat-back is right, the entry waits there whole and the patient gets
it in plain words with Yes and No; nothing in the patient's plan changes before Yes
(`bot.dialogue.regimen.entry_pick`). Either answer clears the entry and the helper is told.

Without the patient's permission (`HelperPrefs.regimen`) nothing is asked. Where the patient
is discreet the notice names no medicine; where the helper's channel is discreet-only, the
helper is offered only "as my clinician told me", as a patient on that channel would be.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.compose import shown_name
from bot.dialogue.choices import CANCEL, OPT
from bot.dialogue.conversation import Conversation
from bot.dialogue.helper_common import notice
from bot.dialogue.messages import Inbound, Kind, Reply
from bot.flows.onboarding import custom
from bot.flows.onboarding.setup import CUSTOM
from bot.flows.onboarding.step import read_answer
from bot.i18n import Translator, negotiate, translator
from bot.parsing import ParseError, normalise
from scheduler.alerts import HelperPrefs
from scheduler.outbox import Button, Payload
from storage.records import PATIENT, Helper, Patient

if TYPE_CHECKING:
    from bot.dialogue.helpers import HelperDesk

FLOW = "helper_regimen"
WAITING = "waiting"
"""The entry is whole and waits for the patient's answer."""
ACCEPT = "hrxok"  # the patient's answers, on the patient's side
REJECT = "hrxno"


def party(helper_id: str) -> str:
    return f"helper:{helper_id}"


def _usage(t: Translator) -> Reply:
    return Reply(
        t._(
            "To enter a treatment for someone you help, send /regimenfor and their name, "
            "for example: /regimenfor Mina"
        )
    )


async def begin(
    desk: HelperDesk, event: Inbound, roles: list[Helper], t: Translator, now: datetime
) -> list[Reply]:
    """1. Find the role whose patient's name is the whole line; it must allow this.
    2. Open the helper's own conversation at the first custom-regimen question."""
    try:
        wanted = normalise(event.args).casefold()
    except ParseError:
        return [_usage(t)]
    found: tuple[Helper, Patient] | None = None
    for role in roles:
        patient = await desk.store.patients.get(role.patient_id)
        if shown_name(HelperPrefs.of(role), patient).casefold() == wanted:
            found = (role, patient)
    if found is None:
        return [_usage(t)]
    role, patient = found
    prefs = HelperPrefs.of(role)
    alias = shown_name(prefs, patient)
    if not prefs.regimen:
        return _about(
            role,
            Reply(
                t._(
                    "{alias} has not allowed you to enter their treatment. They can allow it "
                    "in /helper.",
                    alias=alias,
                )
            ),
        )
    if not await desk.store.enrolments.active(patient.id):
        return _about(role, Reply(t._("{alias} has no treatment set up yet.", alias=alias)))
    today = now.astimezone(ZoneInfo(patient.time_zone)).date()
    data = {
        "language": prefs.language or negotiate(event.language),
        "zone": patient.time_zone,
        "discreet_only": desk.channels[event.channel].discreet_only,
        "custom_start": today.isoformat(),
        "alias": alias,
    }
    entry = custom.start_custom(Conversation(FLOW, "custom_known", data, now), now)
    await _save(desk, role, entry)
    intro = Reply(
        t._(
            "Enter only what {alias}'s clinician prescribed. {alias} sees it and must confirm "
            "it before anything changes. Cancel stops at any question.",
            alias=alias,
        )
    )
    return _about(role, intro, _ask(entry))


async def open_entry(desk: HelperDesk, event: Inbound, now: datetime) -> Helper | None:
    """The role of the sender whose entry is open and waits for the helper's answer (None:
    the event is not an answer to one)."""
    answer = event.kind is Kind.TEXT or (
        event.kind is Kind.PICK and event.pick is not None and event.pick.verb in (OPT, CANCEL)
    )
    if not answer and not (event.kind is Kind.COMMAND and event.command == "cancel"):
        return None
    for role in await desk.roles(event):
        entry = await _entry(desk, role)
        if entry is not None and entry.step != WAITING and not entry.expired(now):
            return role
    return None


async def answer(desk: HelperDesk, role: Helper, event: Inbound, now: datetime) -> list[Reply]:
    """One answer of the helper's; once the repeat-back is right, the patient is asked."""
    entry = await _entry(desk, role)
    if entry is None:
        return []
    t = translator(str(entry.data["language"]))
    cancelled = event.kind is Kind.COMMAND or (event.pick is not None and event.pick.verb == CANCEL)
    if cancelled:
        await desk.store.conversations.clear(role.patient_id, party(role.id))
        return _about(role, Reply(t._("Stopped. Nothing was entered.")))
    asked = _ask(entry)
    said = read_answer(event, asked)
    outcome = custom.QUESTIONS[entry.step].accept(entry, said, now) if said else None
    if not isinstance(outcome, Conversation):
        problem = outcome if isinstance(outcome, str) else t._("Please choose one of the options.")
        return _about(role, Reply(problem), asked)
    if outcome.step != custom.CONFIRMED:
        await _save(desk, role, outcome)
        return _about(role, _ask(outcome))
    patient = await desk.store.patients.get(role.patient_id)
    waiting = outcome.at(WAITING, now)
    async with desk.store.transaction() as tx:
        current = await tx.conversations.get(role.patient_id, party(role.id))
        await tx.conversations.save(
            role.patient_id,
            waiting.to_dict(),
            party=party(role.id),
            expected_version=None if current is None else current.version,
        )
        key = f"regimenfor:{role.id}:{now.isoformat()}"
        await tx.outbox.enqueue(
            notice(patient.id, PATIENT, key, _asked(patient, role, waiting), now)
        )
    desk.poke()
    return _about(
        role,
        Reply(
            t._(
                "Sent to {alias}. Nothing changes until they confirm; I will tell you their "
                "answer.",
                alias=str(entry.data["alias"]),
            )
        ),
    )


def _about(role: Helper, *replies: Reply) -> list[Reply]:
    """What the helper is shown while entering the patient's treatment names the patient or
    their medicines: kept for deletion with the helper's other messages (`Reply.about`)."""
    return [replace(reply, about=(role,)) for reply in replies]


def _ask(entry: Conversation) -> Reply:
    t = translator(str(entry.data["language"]))
    return custom.QUESTIONS[entry.step].ask(t, entry.data)


async def _entry(desk: HelperDesk, role: Helper) -> Conversation | None:
    stored = await desk.store.conversations.get(role.patient_id, party(role.id))
    if stored is None or not stored.state:
        return None
    entry = Conversation.from_dict(dict(stored.state))
    return entry if entry.flow == FLOW else None


async def _save(desk: HelperDesk, role: Helper, entry: Conversation) -> None:
    async with desk.store.transaction() as tx:
        current = await tx.conversations.get(role.patient_id, party(role.id))
        await tx.conversations.save(
            role.patient_id,
            entry.to_dict(),
            party=party(role.id),
            expected_version=None if current is None else current.version,
        )


def _asked(patient: Patient, helper: Helper, entry: Conversation) -> Payload:
    """To the patient: the entry in plain words (no medicine named where they are
    discreet, and in the brief form a discreet-only channel sends), with Yes and No."""
    t = translator(patient.language)
    words = entry.data[CUSTOM]
    day = date.fromisoformat(str(entry.data["custom_start"]))
    closing = t._("Nothing changes until you say it is right. Is this what your clinician said?")
    discreet = "\n".join(
        [
            t._("{name} entered a new plan for you:", name=helper.alias),
            *custom.describe(t, words, day, hide_names=True),
            closing,
        ]
    )
    full = "\n".join(
        [
            t._("{name} entered a new TB treatment for you:", name=helper.alias),
            *custom.describe(t, words, day, hide_names=False),
            closing,
        ]
    )
    buttons = (
        (
            Button(t._("Yes, that is right"), f"{ACCEPT}:{helper.id}"),
            Button(t._("No, cancel"), f"{REJECT}:{helper.id}"),
        ),
    )
    text = discreet if patient.discreet else full
    return Payload.message(text, buttons).with_brief(discreet, buttons)
