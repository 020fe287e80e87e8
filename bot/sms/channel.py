"""The SMS channel: what it can do (its registry entry), and where the phone's reports go.

- Numbered replies, no edits, no deletions, no files; an invitation is a code to text.
- Length in segments: the channel shortens what is longer than the operator's cap, so it
  measures a message as it will send it.
- The pace is the phones' (`TBBOT_SMS_PER_MINUTE` each), kept by the dispatcher's SMS lane.
- "Sent" means the phone accepted the text; what became of it comes back as delivery reports
  (`SmsDeliveries`), reconciled into the outbox.
- Discreet wording only: SMS crosses the carrier in plaintext and stays on the phone.
- A number's country gives set-up its time zones to confirm, and a helper may ask the bot to
  text a number first (one invitation).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.sms.phone import InvalidPhone, region_of, to_e164, zones_of
from bot.sms.policy import DEFAULT_PER_MINUTE, SmsPolicy
from bot.sms.render import render
from bot.sms.texts import language_for_region
from scheduler.channels import (
    ChannelSpec,
    ChoiceStyle,
    Contact,
    Invitation,
    Length,
    LengthUnit,
)
from scheduler.ratelimit import Limits
from storage.store import Store

if TYPE_CHECKING:
    # The channel's entry is in every process's registry; the parser of received texts is
    # needed only where a gateway is configured (`bot.sms.wiring`).
    from bot.sms.inbound import SmsInbound
    from bot.sms.transport import InboundSms, StatusReport

NAME = "sms"


def sms_spec(
    policy: SmsPolicy | None = None,
    per_minute: float = DEFAULT_PER_MINUTE,
    phones: int = 1,
    region: str | None = None,
) -> ChannelSpec:
    """The SMS channel as the operator set it up: its caps, the pace of all its phones, and
    the country of numbers typed without one (`region`)."""
    policy = policy or SmsPolicy()

    def contact(typed: str) -> Contact | None:
        try:
            number = to_e164(typed, region)
        except InvalidPhone:
            return None
        return Contact(number, language_for_region(region_of(number)))

    def measure(text: str) -> int:
        return render(text, (), policy.max_segments).segments

    return ChannelSpec(
        name=NAME,
        choices=ChoiceStyle.NUMBERED,
        edits=False,
        deletes=False,
        length=Length(policy.max_segments, LengthUnit.SEGMENTS, measure=measure),
        invitation=Invitation.CODE,
        limits=Limits(per_chat_interval=1.0, global_rate=per_minute * phones / 60),
        reports_delivery=True,
        discreet_only=True,
        zones_of=zones_of,
        contact=contact,
    )


SMS = sms_spec()


class SmsDeliveries:
    """What the phone reports about texts it accepted, recorded against their outbox rows
    (forward only: a late "sent" never undoes "delivered"). A report for a message we never
    sent matches no row and changes nothing."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def status(self, report: StatusReport) -> None:
        await self.store.outbox.record_delivery(report.message_id, report.state.value, report.at)


class SmsEventsHub:
    """`bot.sms.transport.SmsEvents`: texts to the conversation, reports to the outbox."""

    def __init__(self, inbound: SmsInbound, deliveries: SmsDeliveries) -> None:
        self._inbound = inbound
        self._deliveries = deliveries

    async def received(self, sms: InboundSms) -> None:
        await self._inbound.received(sms)

    async def status(self, report: StatusReport) -> None:
        await self._deliveries.status(report)
