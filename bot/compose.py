"""The words of the messages the reminder engine sends: the real `scheduler.compose.Composer`.

The engine decides when and to whom; this decides what is said, in the reader's language,
with discreet wording when the patient chose it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.dialogue.choices import Choice
from bot.dialogue.messages import Reply
from bot.flows.reminder import brief_reminder, reminder
from bot.i18n import Translator, translator
from bot.texts import SYMPTOM_LABELS
from scheduler.alerts import AlertKind, HelperPrefs
from scheduler.compose import Note
from scheduler.doses import DayCount, DoseSnapshot
from scheduler.ladder import Step
from scheduler.outbox import Button, ButtonRows, Payload
from scheduler.preferences import Preferences
from storage.records import DoseSlot, Helper, Incident, Patient

ACK = "hack"  # "I'll reach out"
HAND_ON = "hpass"  # "Can't reach them"


def buttons(reply: Reply) -> ButtonRows:
    """A reply's choices as the outbox keeps them (each channel renders them its own way)."""
    return tuple(tuple(Button(c.label, c.payload) for c in row) for row in reply.choices)


def to_payload(reply: Reply) -> Payload:
    return Payload.message(reply.text, buttons(reply), reply.attachment)


class BotComposer:
    """`discreet_channels`: the channels every message of which others read on the way (SMS):
    a helper there hears of the patient in discreet words, whatever the patient chose for
    themselves."""

    def __init__(self, discreet_channels: frozenset[str] = frozenset()) -> None:
        self.discreet_channels = discreet_channels

    def _discreet(self, patient: Patient, helper: Helper) -> bool:
        return patient.discreet or helper.channel in self.discreet_channels

    def reminder(self, patient: Patient, slot: DoseSlot, step: Step, *, nudge: bool) -> Payload:
        dose = DoseSnapshot.of(slot)
        t = translator(patient.language)
        cover_word = Preferences.of(patient).cover_word
        reply = reminder(
            t,
            slot_ref=slot.id,
            local_due=dose.local,
            drugs=dose.drugs,
            discreet=patient.discreet,
            cover_word=cover_word,
            nudge=nudge,
            products=dose.products,
        )
        brief = brief_reminder(
            t, slot_ref=slot.id, local_due=dose.local, cover_word=cover_word, nudge=nudge
        )
        return to_payload(reply).with_brief(brief.text, buttons(brief))

    def helper_alert(self, patient: Patient, helper: Helper, incident: Incident) -> Payload:
        prefs = HelperPrefs.of(helper)
        t = translator(prefs.language or patient.language)
        text = alert_text(t, patient, prefs, incident, discreet=self._discreet(patient, helper))
        choices = (
            (Choice(t._("I'll reach out"), ACK, incident.id),),
            (Choice(t._("Can't reach them"), HAND_ON, incident.id),),
        )
        return to_payload(Reply(text, choices))

    def helper_note(self, patient: Patient, helper: Helper, note: Note) -> Payload:
        prefs = HelperPrefs.of(helper)
        t = translator(prefs.language or patient.language)
        name = shown_name(prefs, patient)
        return Payload.message(
            t._("Another helper is reaching out to {alias}. Thank you for being there.", alias=name)
        )

    def patient_told(self, patient: Patient, helper: Helper) -> Payload:
        t = translator(patient.language)
        return Payload.message(
            t._(
                "Some doses have not been confirmed lately, so I have let {name} know. They may "
                "get in touch to see how you are.",
                name=helper.alias,
            )
        )

    def helper_summary(self, patient: Patient, helper: Helper, days: Sequence[DayCount]) -> Payload:
        prefs = HelperPrefs.of(helper)
        t = translator(prefs.language or patient.language)
        discreet = self._discreet(patient, helper)
        return Payload.message(week_text(t, patient, prefs, days, discreet=discreet))


def shown_name(prefs: HelperPrefs, patient: Patient) -> str:
    """The patient's name as this helper knows it (the patient chose it when inviting)."""
    return prefs.shown_as or patient.alias


def alert_text(
    t: Translator,
    patient: Patient,
    prefs: HelperPrefs,
    incident: Incident,
    *,
    discreet: bool | None = None,
) -> str:
    """The words of an alert: what happened, with the alias; TB and symptoms are named only
    when the patient does not use discreet mode (symptoms only if allowed for this helper).
    `discreet` overrides the patient's choice where the helper's channel is read on the way."""
    kind = AlertKind(incident.detail["kind"])
    facts = incident.detail.get("facts", {})
    name = shown_name(prefs, patient)
    discreet = patient.discreet if discreet is None else discreet
    if kind is AlertKind.UNANSWERED:
        local = t.time(datetime.fromisoformat(facts["local"]))
        if discreet:
            return t._(
                "{alias} has not answered today's check-in from {time}. Maybe reach out to them?",
                alias=name,
                time=local,
            )
        return t._(
            "{alias} has not confirmed the {time} TB dose. Maybe reach out to them?",
            alias=name,
            time=local,
        )
    if kind is AlertKind.MISSED_RUN:
        if discreet:
            return t.ngettext(
                "{alias} has not answered the last check-in. Please reach out to them.",
                "{alias} has not answered the last {n} check-ins. Please reach out to them.",
                int(facts["run"]),
                alias=name,
            )
        return t.ngettext(
            "{alias} has missed the last TB dose. Please reach out to them.",
            "{alias} has missed the last {n} TB doses. Please reach out to them.",
            int(facts["run"]),
            alias=name,
        )
    if kind is AlertKind.CRISIS:
        return t._(
            "{alias} may be going through a very hard time right now. Please reach out to them "
            "today, gently.",
            alias=name,
        )
    if kind is AlertKind.RED_FLAG:
        if discreet:
            return t._("{alias} needs care today. Please reach out to them now.", alias=name)
        text = t._(
            "{alias} reported a serious side effect and was told to stop the medicine and get "
            "care today. Please reach out to them now.",
            alias=name,
        )
        symptoms = facts.get("symptoms") or []
        if prefs.details and symptoms:
            names = ", ".join(t._(SYMPTOM_LABELS[s]) for s in symptoms if s in SYMPTOM_LABELS)
            text += "\n" + t._("They reported: {symptoms}.", symptoms=names)
        return text
    if kind is AlertKind.UNREACHABLE:
        return t._(
            "My messages no longer reach {alias}: they may have blocked me or closed their "
            "account. Please check on them.",
            alias=name,
        )
    if kind is AlertKind.SILENT:
        return t.ngettext(
            "{alias} has not answered me for {n} day. Please check on them.",
            "{alias} has not answered me for {n} days. Please check on them.",
            int(facts.get("days", 3)),
            alias=name,
        )
    if discreet:
        return t._("{alias} may need support to get back on track. Please reach out.", alias=name)
    return t._(
        "{alias} has missed enough TB doses that the treatment may be at risk. They may need "
        "to see a clinician soon. Please reach out.",
        alias=name,
    )


def day_marks(day: DayCount) -> str:
    """A day's doses at a glance: ✅ confirmed, ❌ missed, ⏳ still to come."""
    return "✅" * day.taken + "❌" * day.missed + "⏳" * day.open


def week_text(
    t: Translator,
    patient: Patient,
    prefs: HelperPrefs,
    days: Sequence[DayCount],
    *,
    discreet: bool | None = None,
) -> str:
    """Doses per day for a helper: the weekly summary and `/status` (`discreet` as for
    `alert_text`)."""
    name = shown_name(prefs, patient)
    taken = sum(d.taken for d in days)
    due = sum(d.taken + d.missed for d in days)
    if patient.discreet if discreet is None else discreet:
        head = t.ngettext(
            "{alias}: {taken} of {n} check-in answered.",
            "{alias}: {taken} of {n} check-ins answered.",
            due,
            alias=name,
            taken=taken,
        )
    else:
        head = t.ngettext(
            "{alias}: {taken} of {n} dose confirmed.",
            "{alias}: {taken} of {n} doses confirmed.",
            due,
            alias=name,
            taken=taken,
        )
    lines = [head]
    for day in days:
        if not day.due:
            continue
        lines.append(f"{t.date(day.day, 'EEE d MMM')}  {day_marks(day)}")
    return "\n".join(lines)


def refill_payload(patient: Patient, helper: Helper) -> Payload:
    """To a helper, when the patient asked that their helper hear about refills too."""
    prefs = HelperPrefs.of(helper)
    t = translator(prefs.language or patient.language)
    return Payload.message(
        t._(
            "{alias} will soon need more supplies. Maybe offer a hand with getting them?",
            alias=shown_name(prefs, patient),
        )
    )
