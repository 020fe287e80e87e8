"""The SMS channel's way out: a message rendered as an SMS, checked, sent, counted, its menu kept.

Steps of `SmsSender.send`:
1. SMS cannot edit or delete a message already sent: such payloads are refused (`Permanent`),
   as the channel's spec says, never pretended.
2. The address is a phone number in E.164; anything else is not an address of this channel.
3. A number that texted STOP gets nothing (`OPTED_OUT`, which is not "unreachable": the person
   chose it, and their helpers are not told they cannot be reached).
4. The message's brief form when it has one (a reminder's one line and four answers), its
   text and choices otherwise, with the "/commands" it mentions as the words to text in the
   reader's language, rendered within the per-message cap (`bot.sms.render`).
5. A message that would take the number past the operator's daily cap is not sent
   (`OVER_CAP`); essential ones (the STOP confirmation) are exempt.
6. The transport sends it under our id (the outbox row's, when there is one, so a resend after
   a crash is recognised by the gateway and not sent twice).
7. Accepted: the segments are counted for the day and the month, and the message's menu is
   stored, sealed under the patient it concerns, so the next "1" answers this question.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.sms.phone import InvalidPhone, region_of, to_e164
from bot.sms.policy import SmsPolicy
from bot.sms.render import Option, Rendered, render
from bot.sms.texts import language_for_region, name_keywords
from bot.sms.transport import Accepted, OutgoingSms, SmsTransport
from scheduler.alerts import HelperPrefs
from scheduler.clock import Clock
from scheduler.outbox import Action, FailureReason, OutboxMessage, Payload
from scheduler.sending import Permanent, SendResult, Sent
from storage.sealed import new_id
from storage.store import Repositories, Store

log = logging.getLogger(__name__)


class SmsSender:
    def __init__(
        self,
        store: Store,
        transport: SmsTransport,
        clock: Clock,
        policy: SmsPolicy | None = None,
    ) -> None:
        self.store = store
        self.transport = transport
        self.clock = clock
        self.policy = policy or SmsPolicy()

    async def send(
        self,
        address: str,
        payload: Payload,
        *,
        message_id: str | None = None,
        valid_until: datetime | None = None,
        essential: bool = False,
        concerns: str | None = None,
        row: str | None = None,
    ) -> SendResult:
        """See the module docstring."""
        if payload.action is not Action.SEND:
            return Permanent(FailureReason.BAD_REQUEST)
        try:
            number = to_e164(address)
        except InvalidPhone:
            return Permanent(FailureReason.CHAT_NOT_FOUND)
        text, rows = payload.brief if payload.brief is not None else (payload.text, payload.buttons)
        options = [Option(b.label, b.callback_data) for buttons in rows for b in buttons]
        today = self.clock.now().date()
        # One read transaction for every check (on SQLite each transaction takes the lock).
        async with self.store.transaction() as tx:
            stopped = await tx.sms.stopped(number)
            used = await tx.sms.segments_on(number, today)
            patient_id, owner, language = await _owners(tx, number)
        sms = render(name_keywords(text, language), options, self.policy.max_segments)
        if stopped and not essential:
            return Permanent(FailureReason.OPTED_OUT)
        if not essential and used + sms.segments > self.policy.daily_segments:
            log.info("sms: daily cap reached, message not sent")
            return Permanent(FailureReason.OVER_CAP)
        first_id = message_id or new_id()
        outgoing = OutgoingSms(first_id, number, sms.parts[0], valid_until)
        for index, part in enumerate(sms.parts):
            # Each part under an id of its own derived from the first: a resend of a message
            # sends again only the parts the phone did not accept.
            part_id = first_id if index == 0 else f"{first_id}.{index}"
            outcome = await self.transport.send(OutgoingSms(part_id, number, part, valid_until))
            if not isinstance(outcome, Accepted):
                return outcome
        await self._accepted(number, outgoing, sms, valid_until, patient_id, concerns or owner, row)
        return Sent(None)

    async def send_row(self, message: OutboxMessage) -> SendResult:
        """A scheduled message: sent under its outbox id, not after its window; once the phone
        accepted it, its row says "pending" until the phone reports what became of it."""
        return await self.send(
            message.address,
            message.payload,
            message_id=message.id,
            valid_until=message.expires_at,
            row=message.id,
        )

    async def _accepted(
        self,
        number: str,
        outgoing: OutgoingSms,
        sms: Rendered,
        valid_until: datetime | None,
        patient_id: str | None,
        concerns: str | None,
        row: str | None,
    ) -> None:
        """Step 7, in one transaction (one write lock, not three): the count, the menu, and
        for an outbox row "pending" until the phone reports what became of it."""
        now = self.clock.now()
        async with self.store.transaction() as tx:
            await tx.sms.count_sent(number, now.date(), sms.segments, patient_id=patient_id)
            if sms.menu and concerns is not None:
                lifetime = now + self.policy.menu_lifetime
                expires = min(valid_until, lifetime) if valid_until else lifetime
                menu = {"options": list(sms.menu), "ref": outgoing.id}
                await tx.sms.save_menu(number, concerns, menu, expires)
            if row is not None:
                await tx.outbox.record_delivery(row, "pending", now)


async def _owners(tx: Repositories, number: str) -> tuple[str | None, str | None, str]:
    """The patient whose number this is (None for a helper), the patient a menu sent to it
    concerns (the patient, the one a helper supports, or the one whose invitation it opened),
    and the reader's language."""
    identity = await tx.identities.find("sms", number)
    if identity is not None:
        patient = await tx.patients.get(identity.patient_id)
        return identity.patient_id, identity.patient_id, patient.language
    roles = await tx.helpers.find_by_address("sms", number)
    if not roles:
        # Someone answering an invitation: its menu ("1 I accept") concerns the inviter.
        return (
            None,
            await tx.helpers.opened_by("sms", number),
            language_for_region(region_of(number)),
        )
    role = roles[-1]
    language = HelperPrefs.of(role).language
    if language is None:
        language = (await tx.patients.get(role.patient_id)).language
    return None, role.patient_id, language
