"""A helper asks the bot to invite someone by phone number: `/enrol NUMBER` (ENROL by SMS).

The person gets one text inviting them to reply; nothing else is ever sent to the number
unless they do. Their own START begins the set-up, with its consent: no reminder is ever
sent before it. Steps of `enrol`:

1. Only a helper whose role a patient confirmed may ask (the desk gives `roles`, active ones:
   a stranger cannot make the bot text anyone), and only where a channel of this
   installation can contact a number first.
2. The number is read as that channel reads it (E.164); anything else gets a hint.
3. The ask is counted against the helper (`ASKS` a day): a helper cannot use the bot to
   text many numbers. Beyond it: "try tomorrow", and nothing is recorded.
4. The invitation is queued (the outbox sends it at the channel's pace, once) only when the
   number is nobody the bot knows, has not texted STOP and was not invited within 30 days.
   The helper hears the same answer whatever happened, so the command cannot be used to
   learn whether a number belongs to a patient.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.dialogue.helper_common import notice
from bot.dialogue.messages import Inbound, Reply
from bot.i18n import Translator, translator
from scheduler.alerts import HelperPrefs
from scheduler.outbox import Payload
from storage.records import DIRECT, Address, Helper, HelperState
from storage.repositories.sms import FirstContact
from storage.sealed import new_id

if TYPE_CHECKING:
    from bot.dialogue.helpers import HelperDesk

ASKS = 3
ASKS_PER = timedelta(days=1)


async def enrol(
    desk: HelperDesk, event: Inbound, roles: list[Helper], t: Translator, now: datetime
) -> Reply:
    """See the module docstring; `roles` is not empty (the desk answers others itself)."""
    linked = [role for role in roles if role.state is HelperState.ACTIVE]
    channel = next((spec for spec in desk.channels if spec.contact is not None), None)
    if channel is None:
        return Reply(t._("I cannot send text messages here, so I cannot invite anyone by number."))
    if not event.args.strip():
        return Reply(
            t._("Please send /enrol followed by their number, like /enrol +86 138 0013 8000.")
        )
    contact = channel.reads_contact(event.args)
    if contact is None:
        return Reply(
            t._(
                "That does not look like a mobile number. Please write it with its country "
                "code, like +86 138 0013 8000."
            )
        )
    async with desk.store.transaction() as tx:
        asked = await tx.sms.first_contact(
            contact.address, (event.channel, event.user), limit=ASKS, per=ASKS_PER
        )
        if asked is FirstContact.LIMIT:
            return Reply(
                t.ngettext(
                    "You can invite {n} number a day. Please try again tomorrow.",
                    "You can invite {n} numbers a day. Please try again tomorrow.",
                    ASKS,
                )
            )
        known = await tx.identities.find(channel.name, contact.address)
        stopped = await tx.sms.stopped(contact.address)
        if asked is FirstContact.NEW and known is None and not stopped:
            it = translator(contact.language or HelperPrefs.of(linked[0]).language or "en")
            text = it._(
                "Hello. Someone who cares about you asked me to send you daily reminders. "
                "Nothing starts unless you reply /start. Reply /stop and I will never text "
                "you again."
            )
            # Queued under the patient this helper supports (sealed under their key), to an
            # address of its own: the row is only the way out, nothing of it is theirs.
            message = notice(
                linked[0].patient_id, DIRECT, f"contact:{new_id()}", Payload.message(text), now
            )
            await tx.outbox.enqueue(replace(message, to=Address(channel.name, contact.address)))
    desk.poke()
    return Reply(
        t._(
            "Done: if that number can be invited, it gets one text from me, and nothing more "
            "unless they reply. Once set up, they can make you their helper with /helper."
        )
    )
