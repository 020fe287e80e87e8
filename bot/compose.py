"""The words of the messages the reminder engine sends: the real `scheduler.compose.Composer`.

The engine decides when and to whom; this decides what is said, in the reader's language,
with discreet wording when the patient chose it.
"""

from __future__ import annotations

from datetime import datetime

from bot.dialogue.messages import Reply
from bot.flows.reminder import DoseLine, reminder
from bot.i18n import translator
from scheduler.ladder import Step
from scheduler.outbox import Button, Payload
from storage.records import DoseSlot, Helper, Patient
from treatment.adherence import AdherenceSummary


def to_payload(reply: Reply) -> Payload:
    buttons = tuple(tuple(Button(c.label, c.payload) for c in row) for row in reply.choices)
    return Payload.message(reply.text, buttons)


class BotComposer:
    def reminder(self, patient: Patient, slot: DoseSlot, step: Step, *, nudge: bool) -> Payload:
        dose = slot.dose
        drugs = [DoseLine(d["name"], d.get("mg"), d.get("tablets")) for d in dose.get("drugs", [])]
        reply = reminder(
            translator(patient.language),
            slot_ref=slot.id,
            local_due=datetime.fromisoformat(dose["local"]),
            drugs=drugs,
            discreet=patient.discreet,
            cover_word=patient.preferences.get("cover_word"),
            nudge=nudge,
        )
        return to_payload(reply)

    def helper_alert(
        self, patient: Patient, helper: Helper, slot: DoseSlot, summary: AdherenceSummary
    ) -> Payload:
        t = translator(str(helper.permissions.get("language") or patient.language))
        local = datetime.fromisoformat(slot.dose["local"])
        if patient.discreet:
            text = t._(
                "{alias} has not answered today's check-in from {time}. Maybe reach out to them?",
                alias=patient.alias,
                time=t.time(local),
            )
        else:
            text = t._(
                "{alias} has not confirmed the {time} TB dose. Maybe reach out to them?",
                alias=patient.alias,
                time=t.time(local),
            )
        return Payload.message(text)


def alert_payload(patient: Patient, helper: Helper, what: str) -> Payload:
    """An alert to a helper about something the patient just reported (`red_flag`, `crisis`)
    or about to run out of tablets (`refill`).

    Details stay with the patient: the helper learns that something needs a person now,
    in neutral words when the patient uses discreet mode.
    """
    t = translator(str(helper.permissions.get("language") or patient.language))
    if what == "refill":
        text = t._(
            "{alias} will soon need more supplies. Maybe offer a hand with getting them?",
            alias=patient.alias,
        )
    elif what == "crisis":
        text = t._(
            "{alias} may be going through a very hard time right now. Please reach out to them "
            "today, gently.",
            alias=patient.alias,
        )
    elif patient.discreet:
        text = t._("{alias} needs care today. Please reach out to them now.", alias=patient.alias)
    else:
        text = t._(
            "{alias} reported a serious side effect and was told to stop the medicine and get "
            "care today. Please reach out to them now.",
            alias=patient.alias,
        )
    return Payload.message(text)
