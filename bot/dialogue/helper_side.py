"""The helper's own commands and buttons: `/patients` (today), `/status NAME` (7 days),
`/leave`, and "I'll reach out" or "Can't reach them" on an alert.

Every button a helper presses carries a random id (a helper role, an incident) that is
checked against the presser's own roles before anything is read or changed: a forged or
replayed id answers "not for you" and touches nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.compose import ACK, alert_text, day_marks, shown_name, week_text
from bot.dialogue.choices import Choice
from bot.dialogue.helper_common import (
    LEAVE,
    STATUS,
    not_for_you,
    notice,
)
from bot.dialogue.messages import Reply
from bot.i18n import Translator, translator
from scheduler.alerts import (
    HelperPrefs,
    Outcome,
    acknowledge,
    pass_on,
    was_told,
)
from scheduler.doses import day_counts
from scheduler.outbox import Payload
from storage.records import (
    PATIENT,
    Helper,
    Patient,
)

if TYPE_CHECKING:
    from bot.dialogue.helpers import HelperDesk


async def patients(desk: HelperDesk, roles: list[Helper], t: Translator, now: datetime) -> Reply:
    lines = [t._("The people you help, today:")]
    for role in roles:
        patient = await desk.store.patients.get(role.patient_id)
        today = now.astimezone(ZoneInfo(patient.time_zone)).date()
        (day,) = await day_counts(desk.store.doses, patient, [today])
        name = shown_name(HelperPrefs.of(role), patient)
        if not day.due:
            lines.append(t._("{alias}: no dose today", alias=name))
        else:
            lines.append(f"{name}: {day_marks(day)}")
    lines.append(t._("✅ confirmed, ❌ missed, ⏳ still to come. /status NAME shows 7 days."))
    return Reply("\n".join(lines), about=tuple(roles))


async def status(
    desk: HelperDesk, roles: list[Helper], arg: str, t: Translator, now: datetime
) -> list[Reply]:
    wanted = " ".join(arg.split()).casefold()
    named: list[tuple[Helper, str]] = []
    for role in roles:
        patient = await desk.store.patients.get(role.patient_id)
        named.append((role, shown_name(HelperPrefs.of(role), patient)))
    matches = [role for role, name in named if name.casefold() == wanted] if wanted else []
    if not wanted and len(roles) == 1:
        matches = roles
    if len(matches) == 1:
        return [await week(desk, matches[0], t, now)]
    rows = tuple((Choice(name, STATUS, role.id),) for role, name in named)
    return [Reply(t._("Whose week would you like to see?"), rows, about=tuple(roles))]


async def week(desk: HelperDesk, role: Helper, t: Translator, now: datetime) -> Reply:
    patient = await desk.store.patients.get(role.patient_id)
    today = now.astimezone(ZoneInfo(patient.time_zone)).date()
    days = [today - timedelta(days=n) for n in range(6, -1, -1)]
    counts = await day_counts(desk.store.doses, patient, days)
    discreet = _discreet(desk, patient, role)
    text = week_text(t, patient, HelperPrefs.of(role), counts, discreet=discreet)
    return Reply(text, about=(role,))


def _discreet(desk: HelperDesk, patient: Patient, role: Helper) -> bool:
    """Discreet words for this helper: the patient's choice, or always on a channel others
    read on the way (SMS)."""
    on = role.channel is not None and role.channel in desk.channels
    return patient.discreet or (on and desk.channels[str(role.channel)].discreet_only)


async def leave_question(desk: HelperDesk, roles: list[Helper], t: Translator) -> Reply:
    rows = []
    for role in roles:
        patient = await desk.store.patients.get(role.patient_id)
        name = shown_name(HelperPrefs.of(role), patient)
        rows.append((Choice(t._("Stop helping {alias}", alias=name), LEAVE, role.id),))
    return Reply(
        t._("Stop being a helper? The person you help will be told, without any details."),
        tuple(rows),
        about=tuple(roles),
    )


async def leave(
    desk: HelperDesk, roles: list[Helper], helper_id: str, t: Translator, now: datetime
) -> list[Reply]:
    role = next((r for r in roles if r.id == helper_id), None)
    if role is None:
        return [not_for_you(t)]
    async with desk.store.transaction() as tx:
        patient = await tx.patients.get(role.patient_id)
        await tx.helpers.remove(patient.id, role.id)
        pt = translator(patient.language)
        text = pt._(
            "{name} stopped being your helper. They will get no more messages about you. "
            "/helper to invite someone else.",
            name=role.alias,
        )
        await tx.outbox.enqueue(
            notice(patient.id, PATIENT, f"left:{role.id}", Payload.message(text), now)
        )
    desk.poke()
    name = shown_name(HelperPrefs.of(role), patient)
    return [Reply(t._("Done. You will get no more messages about {alias}.", alias=name), edit=True)]


async def answer_alert(
    desk: HelperDesk, roles: list[Helper], verb: str, incident_id: str, t: Translator, now: datetime
) -> list[Reply]:
    """ "I'll reach out" or "Can't reach them" on an alert: only from a helper who was
    sent that alert, through their role for that patient."""
    incident = await desk.store.incidents.find(incident_id)
    role = None
    if incident is not None:
        role = next((r for r in roles if was_told(incident, r)), None)
    if incident is None or role is None:
        return [not_for_you(t)]
    async with desk.store.transaction() as tx:
        fresh = await tx.incidents.get(incident.patient_id, incident.id)
        if verb == ACK:
            outcome = await acknowledge(tx, desk.composer, fresh, role, now)
        else:
            outcome = await pass_on(tx, desk.composer, fresh, role, now)
        patient = await tx.patients.get(incident.patient_id)
    desk.poke()
    prefs = HelperPrefs.of(role)
    answer = outcome_text(t, outcome, shown_name(prefs, patient))
    if outcome is Outcome.BUSY:
        return [Reply(answer)]
    # The edited alert still says what it was about, in the words the patient allowed.
    said = alert_text(t, patient, prefs, fresh, discreet=_discreet(desk, patient, role))
    return [Reply(f"{said}\n\n{answer}", edit=True)]


def outcome_text(t: Translator, outcome: Outcome, name: str) -> str:
    if outcome is Outcome.TAKEN:
        return t._(
            "Thank you for reaching out to {alias}. No other helper will be asked.", alias=name
        )
    if outcome is Outcome.ALREADY:
        return t._("Another helper is already reaching out to {alias}. Thank you.", alias=name)
    if outcome is Outcome.PASSED:
        return t._("Thank you for telling me. I passed this on to another helper.")
    if outcome is Outcome.NOBODY:
        return t._("There is no other helper to pass this to. If you can, please try again later.")
    if outcome is Outcome.OVER:
        return t._("This alert is over.")
    return t._("One moment, I was still answering your last message. Please try again.")


def helper_help(t: Translator) -> Reply:
    """For someone who helps others but has no treatment of their own here."""
    return Reply(
        "\n".join(
            [
                t._("You are a helper. Here is what you can do:"),
                "/patients – " + t._("The people you help, and their doses today"),
                "/status – " + t._("The last 7 days of one of them"),
                "/visitfor – " + t._("Note a visit or test for them, if they allow it"),
                "/regimenfor – "
                + t._("Enter their treatment for them to confirm, if they allow it"),
                "/leave – " + t._("Stop being a helper"),
                "/enrol – " + t._("Invite someone by phone number to set up reminders"),
                "/start – " + t._("Set up reminders for your own treatment"),
            ]
        )
    )


def not_helping(t: Translator) -> Reply:
    return Reply(
        t._(
            "You are not helping anyone yet. If someone invited you, open their link or send "
            "/join with their code."
        )
    )
