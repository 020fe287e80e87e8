"""`/visitfor NAME KIND DAY TIME`: a helper the patient allowed notes a visit or test for them.

One line, since the helper desk keeps no conversation: the patient's name as this helper
knows it, the kind (a word in any of the three languages) and the day and time as
`bot.dates` reads them. The visit is stored under the patient's key with its reminders, and
the patient is told who noted it (discreetly in discreet mode), so nothing appears in their
reminders unannounced. Without the patient's permission (`HelperPrefs.visits`) nothing is read.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.compose import shown_name
from bot.dates import parse_when
from bot.dialogue.helper_common import notice
from bot.dialogue.messages import Reply
from bot.flows.visits import label
from bot.i18n import Translator, translator
from bot.parsing import ParseError, normalise
from scheduler.alerts import HelperPrefs
from scheduler.outbox import Payload
from scheduler.visits import Visit, VisitKind, first_reminder
from storage.records import PATIENT, Helper, Patient

if TYPE_CHECKING:
    from bot.dialogue.helpers import HelperDesk

KIND_WORDS = {
    VisitKind.CLINIC: ("clinic", "visit", "진료", "외래", "门诊", "就诊", "复诊"),
    VisitKind.SPUTUM: ("sputum", "가래", "객담", "痰检", "验痰"),
    VisitKind.BLOOD: ("blood", "혈액", "피검사", "验血", "抽血"),
    VisitKind.ECG: ("ecg", "ekg", "심전도", "心电图"),
}


def _usage(t: Translator) -> Reply:
    return Reply(
        t._(
            "To note a visit or test for someone you help, send for example: "
            "/visitfor Mina sputum 12/3 10:30 (kinds: clinic, sputum, blood, ecg)."
        )
    )


async def note(
    desk: HelperDesk, roles: list[Helper], args: str, t: Translator, now: datetime
) -> Reply:
    """1. Find the role whose patient's name starts the line; it must allow visits.
    2. Read the kind and the day and time (a time is needed: it is a visit, not a day).
    3. Store the visit with its first reminder and tell the patient, in one transaction."""
    try:
        text = normalise(args)
    except ParseError:
        return _usage(t)
    found: tuple[Helper, Patient, str] | None = None
    for role in roles:
        patient = await desk.store.patients.get(role.patient_id)
        name = shown_name(HelperPrefs.of(role), patient).casefold()
        if text.startswith(name + " ") and (found is None or len(name) > len(found[2])):
            found = (role, patient, name)
    if found is None:
        return _usage(t)
    role, patient, name = found
    if not HelperPrefs.of(role).visits:
        return Reply(
            t._(
                "{alias} has not allowed you to note visits. They can allow it in /helper.",
                alias=shown_name(HelperPrefs.of(role), patient),
            ),
            about=(role,),
        )
    head, _, when = text[len(name) :].strip().partition(" ")
    kind = next((k for k, words in KIND_WORDS.items() if head in words), None)
    today = now.astimezone(ZoneInfo(patient.time_zone)).date()
    try:
        day, at = parse_when(when, today) if kind is not None else (None, None)
    except ParseError:
        day, at = None, None
    if kind is None or day is None or at is None:
        return _usage(t)
    visit = Visit(kind, datetime.combine(day, at), patient.time_zone)
    if visit.at <= now:
        return Reply(t._("That time has passed. Nothing was noted."))
    async with desk.store.transaction() as tx:
        stored = await tx.appointments.add(
            patient.id, visit.to_details(), first_reminder(visit, now)
        )
        await tx.outbox.enqueue(
            notice(patient.id, PATIENT, f"visitfor:{stored.id}", _told(patient, role, visit), now)
        )
    desk.poke()
    noted = t._("Noted: {visit}. They are told, and reminded.", visit=label(t, visit))
    return Reply(noted, about=(role,))


def _told(patient: Patient, helper: Helper, visit: Visit) -> Payload:
    """To the patient: who noted which visit (in discreet mode, only when)."""
    t = translator(patient.language)
    moment = t.moment(visit.local.replace(tzinfo=ZoneInfo(visit.zone)))
    discreet = t._(
        "{name} noted an appointment for you: {moment}. /visits lists it.",
        name=helper.alias,
        moment=moment,
    )
    full = t._(
        "{name} noted for you: {visit}. /visits lists or cancels it.",
        name=helper.alias,
        visit=label(t, visit),
    )
    return Payload.message(discreet if patient.discreet else full).with_brief(discreet)
