"""`/progress`, `/report` and `/export`: the patient's records, made and sent where they may go.

What a reply can carry is the channel's to say (`ChannelSpec.sends`): a picture of the month
or a text calendar, the PDF or a short summary, the export's files or why they cannot come.
The records leave only to the patient's own chat, or to a helper the patient switched "my
treatment report" on for, whose own channel takes documents; that helper's id comes back in
a button, so it is checked against the patient's helpers again before anything is queued.

Rendering is CPU work of up to a second: it runs in a worker thread, so other people's
messages keep flowing meanwhile.
"""

from __future__ import annotations

import asyncio
import importlib
from datetime import datetime

from bot.dialogue import followups
from bot.dialogue.messages import Inbound, Reply
from bot.dialogue.turn import TurnContext
from bot.flows import report
from bot.i18n import translator
from bot.records import facts
from scheduler.alerts import HelperPrefs
from scheduler.channels import Attachment, ChannelRegistry
from scheduler.outbox import Kind, Payload
from storage.records import (
    EnrolmentRecord,
    Helper,
    HelperState,
    OutboxMessage,
    Patient,
    helper_recipient,
)
from storage.store import Store


async def _load_renderers() -> None:
    """Import `bot.records.replies` on first use, in a worker thread: its libraries (fpdf2
    with fontTools, Pillow, fhir.resources) take longer to load than the rest of the bot
    together, and a process that never renders a record should not pay for them at start."""
    await asyncio.to_thread(importlib.import_module, "bot.records.replies")


class RecordsDesk:
    def __init__(self, store: Store, channels: ChannelRegistry) -> None:
        self.store = store
        self.channels = channels

    def _sends(self, channel: str | None, attachment: Attachment) -> bool:
        # A helper not linked to an account has no channel; one this process does not serve
        # cannot be asked.
        if channel is None or channel not in self.channels:
            return False
        return self.channels[channel].sends(attachment)

    async def calendar(
        self, event: Inbound, patient: Patient, enrolment: EnrolmentRecord, now: datetime
    ) -> Reply:
        """This month's calendar, as a picture where the channel shows pictures."""
        record = await facts.gather(self.store, patient, enrolment, now)
        await _load_renderers()
        from bot.records import replies

        t = translator(patient.language)
        pictures = self._sends(event.channel, Attachment.PHOTO)
        return await asyncio.to_thread(replies.calendar_reply, record, t, pictures=pictures)

    async def allowed_helpers(self, patient: Patient) -> list[Helper]:
        """Active helpers the patient lets have the report, on a channel that takes it."""
        return [
            helper
            for helper in await self.store.helpers.for_patient(patient.id)
            if helper.state is HelperState.ACTIVE
            and HelperPrefs.of(helper).report
            and self._sends(helper.channel, Attachment.DOCUMENT)
        ]

    async def report_begin(self, patient: Patient, now: datetime) -> report.Turn:
        helpers = [(h.id, h.alias) for h in await self.allowed_helpers(patient)]
        return report.begin(now, patient.language, helpers)

    async def report(
        self,
        event: Inbound,
        patient: Patient,
        enrolment: EnrolmentRecord,
        request: report.Request,
        now: datetime,
    ) -> tuple[list[Reply], OutboxMessage | None]:
        """Make the report: for the patient's chat, a PDF (or the summary where files cannot
        go); for a helper, the outbox row the caller queues with the end of the question.

        Nothing here holds a transaction open: rendering takes up to a second, and a write
        after a long read would lose to any write committed meanwhile (SQLite)."""
        t = translator(patient.language)
        language = translator(request.language)
        record = await facts.gather(self.store, patient, enrolment, now)
        await _load_renderers()
        from bot.records import replies

        if request.to == report.ME:
            if self._sends(event.channel, Attachment.DOCUMENT):
                pdf = await asyncio.to_thread(replies.report_reply, record, t, language)
                return [pdf], None
            summary = replies.report_text(record, t)
            if not await self.allowed_helpers(patient):
                return [summary], None
            more = t._(
                "The full report, a PDF, can go to a helper you allowed: send /report again "
                "and choose them."
            )
            return [summary, Reply(more)], None
        helper = next((h for h in await self.allowed_helpers(patient) if h.id == request.to), None)
        if helper is None:
            return [Reply(t._("That helper can no longer be sent the report."))], None
        prefs = HelperPrefs.of(helper)
        caption, file = await asyncio.to_thread(
            replies.helper_report_reply,
            record,
            translator(prefs.language or patient.language),
            language,
            prefs.shown_as or patient.alias,
        )
        row = OutboxMessage(
            patient_id=patient.id,
            recipient=helper_recipient(helper.id),
            kind=Kind.NOTICE.value,
            payload=Payload.message(caption, file=file).to_dict(),
            dedupe_key=f"report:{helper.id}:{now.isoformat()}",
            not_before=now,
            priority=int(Kind.NOTICE.priority),
        )
        done = Reply(t._("Done: I am sending the report to {name}.", name=helper.alias))
        return [done], row

    async def export(
        self, event: Inbound, patient: Patient, enrolment: EnrolmentRecord, now: datetime
    ) -> list[Reply]:
        record = await facts.gather(self.store, patient, enrolment, now)
        await _load_renderers()
        from bot.records import replies

        documents = self._sends(event.channel, Attachment.DOCUMENT)
        t = translator(patient.language)
        return await asyncio.to_thread(replies.export_replies, record, t, documents=documents)


def _desk(ctx: TurnContext) -> RecordsDesk:
    return RecordsDesk(ctx.store, ctx.app.channels)


async def progress_command(ctx: TurnContext) -> list[Reply]:
    """`/progress`: the numbers, then the month's calendar as the channel can show it."""
    numbers = await followups.progress_command(ctx)
    calendar = await _desk(ctx).calendar(ctx.event, ctx.patient, ctx.enrolled, ctx.now)
    return [*numbers, calendar]


async def report_command(ctx: TurnContext) -> list[Reply]:
    return await ctx.begin(await _desk(ctx).report_begin(ctx.patient, ctx.now))


async def export_command(ctx: TurnContext) -> list[Reply]:
    return await _desk(ctx).export(ctx.event, ctx.patient, ctx.enrolled, ctx.now)


async def report_flow(ctx: TurnContext) -> list[Reply]:
    """The report as asked; a copy queued for a helper is committed with the end of the
    question, before the patient is told it is on its way."""
    turn = report.handle(ctx.asked, ctx.event, ctx.now)
    if turn.outcome is None:
        return await ctx.begin(turn)
    said, row = await _desk(ctx).report(ctx.event, ctx.patient, ctx.enrolled, turn.outcome, ctx.now)
    async with ctx.store.transaction() as tx:
        if row is not None:
            await tx.outbox.enqueue(row)
        await ctx.save(tx, None)
    ctx.app.engine.poke()
    return said
