"""What the patient is told about the retention rule (`scheduler.retention`): the paragraph of
the privacy text that states the operator's periods, the notice before their data is erased
(with the button that keeps it), and the last message once it was.

Every sentence is built from the policy in force, so the text says exactly what the rule does.
The words are neutral (no illness, no medicine): they also go out in discreet mode and by SMS.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.compose import to_payload
from bot.dialogue.choices import Choice
from bot.dialogue.messages import Reply
from bot.i18n import Translator, translator
from scheduler.outbox import Payload
from scheduler.retention import RetentionPolicy
from storage.records import Patient

KEEP = "rkeep"  # the notice's button: keep my data


def _days(t: Translator, period: timedelta) -> str:
    return t.ngettext("{n} day", "{n} days", period.days)


def privacy_paragraph(t: Translator, policy: RetentionPolicy) -> str:
    """How long data is kept, as the rule in force does it."""
    after, silence = policy.after_treatment, policy.after_silence
    if after is not None and silence is not None:
        rule = t._(
            "How long it is kept: I erase everything {after} after your treatment ends, or "
            "after {silence} without a message from you, whichever comes first.",
            after=_days(t, after),
            silence=_days(t, silence),
        )
    elif after is not None:
        rule = t._(
            "How long it is kept: I erase everything {after} after your treatment ends.",
            after=_days(t, after),
        )
    elif silence is not None:
        rule = t._(
            "How long it is kept: I erase everything after {silence} without a message from you.",
            silence=_days(t, silence),
        )
    else:
        return t._("How long it is kept: until you send /forget.")
    warn = t._(
        '{notice} before, I write to tell you the day. If you press "Keep my data" then, '
        "I count again from that day.",
        notice=_days(t, policy.notice),
    )
    gap = "" if t.locale.startswith("zh") else " "  # Chinese sentences run on without a space
    return f"{rule}{gap}{warn}"


class BotRetentionTexts:
    """`scheduler.retention.RetentionTexts` in the patient's language."""

    def notice(self, patient: Patient, erase_at: datetime) -> Payload:
        t = translator(patient.language)
        day = erase_at.astimezone(ZoneInfo(patient.time_zone)).date()
        text = t._(
            "From {date}, I will erase everything I keep about you, as my privacy rules "
            'say. If that is what you want, there is nothing to do. To keep it, press "Keep '
            'my data".',
            date=t.date(day),
        )
        return to_payload(Reply(text, ((Choice(t._("Keep my data"), KEEP, "1"),),)))

    def erased(self, patient: Patient) -> Payload:
        t = translator(patient.language)
        return Payload.message(
            t._(
                "As I told you, I have erased everything I kept about you. Send /start if "
                "you want to begin again."
            )
        )


def kept_reply(t: Translator, policy: RetentionPolicy, was_asked: bool) -> Reply:
    said = (
        t._("Thank you. I keep your data, and I count again from today.")
        if was_asked
        else t._("Your data is kept. I count again from today.")
    )
    return Reply(f"{said}\n\n{privacy_paragraph(t, policy)}", edit=was_asked)
