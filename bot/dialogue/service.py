"""The dialogue's router: one inbound event in, replies out, everything in between stored first.

Steps of `Dialogue.handle`:
1. Group chats get one polite sentence and nothing else is touched.
2. Events for the helper side (and the patient's answer about a helper) go to the helper desk.
3. The sender is found through the blind index. A stranger can only `/start`; anything else,
   including a button from before `/forget`, gets "send /start".
4. A repeated delivery of the same update is dropped (its id is kept in the conversation).
5. Commands (`COMMANDS`) and button verbs (`PICKS`) go to the handler registered for them;
   other picks and text go to the open conversation's flow (`FLOWS`). A handler marked
   `enrolled` runs only for a patient with an active enrolment.
6. Whatever a reply tells the patient is committed before the reply is returned, in one
   transaction with the conversation state, so a crash cannot tell them something untrue.

Each feature owns its module and registers its handlers here: dose actions
(`bot.dialogue.doses`), enrolment and forgetting (`enrolment`), settings and pause
(`settings`), supplies (`supplies`), what the patient reports (`reports`), follow-ups such as
milestones and the check-in offer (`followups`), weight and the monthly weight question
(`weight`), and the patient's helpers (`helper_care`).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

from bot.dialogue import (
    doses,
    enrolment,
    followups,
    helper_care,
    helper_regimen,
    records,
    regimen,
    reports,
    settings,
    supplies,
    visits,
    weight,
)
from bot.dialogue import helpers as helper_desk
from bot.dialogue.choices import CANCEL, OPT
from bot.dialogue.conversation import Conversation
from bot.dialogue.helper_side import helper_help
from bot.dialogue.helpers import HelperDesk
from bot.dialogue.messages import Inbound, Kind, Reply
from bot.dialogue.turn import (
    PARTY,
    EnginePort,
    Route,
    Services,
    TurnContext,
    active_enrolment,
)
from bot.flows import forget, helpers, info, mood, pause, report, stock, symptom, weighin
from bot.flows import regimen as regimen_flow
from bot.flows import retention as retention_texts
from bot.flows import settings as settings_flow
from bot.flows import visits as visits_flow
from bot.flows.onboarding import step as onboarding_step
from bot.i18n import negotiate, translator
from scheduler.channels import ChannelRegistry
from scheduler.clock import Clock
from scheduler.compose import Composer
from scheduler.outbox import Kind as OutboxKind
from scheduler.outbox import Payload
from scheduler.preferences import Preferences
from scheduler.retention import RetentionPolicy
from scheduler.retention import keep as keep_data
from storage.errors import NotFound, StaleWrite
from storage.records import Address, Helper, OutboxMessage, helper_recipient
from storage.store import Store

log = logging.getLogger(__name__)


async def _help(ctx: TurnContext) -> list[Reply]:
    t = ctx.t
    if await ctx.app.store.helpers.find_by_address(ctx.event.channel, ctx.event.user):
        return [info.help_reply(t), helper_help(t)]  # their helper commands too
    return [info.help_reply(t)]


async def _privacy(ctx: TurnContext) -> list[Reply]:
    said = info.privacy_reply(ctx.t)
    kept = retention_texts.privacy_paragraph(ctx.t, ctx.app.retention)
    return [replace(said, text=f"{said.text}\n\n{kept}")]


async def _keep(ctx: TurnContext) -> list[Reply]:
    """ "Keep my data", on the retention notice (or an old one): for the presser's own data."""
    was_asked = await keep_data(ctx.store, ctx.patient.id, ctx.now)
    return [retention_texts.kept_reply(ctx.t, ctx.app.retention, was_asked)]


async def _cancel(ctx: TurnContext) -> list[Reply]:
    await ctx.close()
    return [Reply(ctx.t._("Stopped. Nothing else changed."))]


COMMANDS: dict[str, Route] = {
    "help": Route(_help, enrolled=False),
    "privacy": Route(_privacy, enrolled=False),
    "cancel": Route(_cancel, enrolled=False),
    "forget": Route(enrolment.forget_command, enrolled=False),
    "start": Route(enrolment.start_command, enrolled=False),
    "helper": Route(helper_care.helper_command),
    "taken": Route(doses.taken_command),
    "late": Route(doses.late_command),
    "symptom": Route(reports.symptom_command),
    "progress": Route(records.progress_command),
    "report": Route(records.report_command),
    "export": Route(records.export_command),
    "stock": Route(supplies.stock_command),
    "mood": Route(reports.mood_command),
    "settings": Route(settings.settings_command),
    "pause": Route(settings.pause_command),
    "resume": Route(settings.resume_command),
    "regimen": Route(regimen.regimen_command),
    "visits": Route(visits.visits_command, enrolled=False),
}
PICKS: dict[str, Route] = {
    followups.CHECKIN: Route(followups.checkin_pick, enrolled=False),
    weight.WEIGH: Route(weight.weigh_pick),
    retention_texts.KEEP: Route(_keep, enrolled=False),
    helper_regimen.ACCEPT: Route(regimen.entry_pick),
    helper_regimen.REJECT: Route(regimen.entry_pick),
    **{verb: Route(doses.dose_button) for verb in doses.VERBS},
}
FLOWS: dict[str, Route] = {
    onboarding_step.FLOW: Route(enrolment.onboarding_flow, enrolled=False),
    symptom.FLOW: Route(reports.symptom_flow, enrolled=False),
    mood.FLOW: Route(reports.mood_flow, enrolled=False),
    helpers.FLOW: Route(helper_care.helper_flow),
    settings_flow.FLOW: Route(settings.settings_flow),
    pause.FLOW: Route(settings.pause_flow),
    stock.FLOW: Route(supplies.stock_flow),
    forget.FLOW: Route(enrolment.forget_flow),
    report.FLOW: Route(records.report_flow),
    weighin.FLOW: Route(weight.weight_flow),
    regimen_flow.FLOW: Route(regimen.regimen_flow),
    visits_flow.FLOW: Route(visits.visits_flow, enrolled=False),
}
# The verbs a flow's own options use (`OPT`, `CANCEL`) are read by the flow, not routed.
VERBS = frozenset({OPT, CANCEL, *PICKS})


class Dialogue:
    verbs = VERBS | helper_desk.VERBS

    def __init__(
        self,
        store: Store,
        engine: EnginePort,
        clock: Clock,
        *,
        channels: ChannelRegistry,
        composer: Composer,
        retention: RetentionPolicy | None = None,
    ) -> None:
        self.app = Services(
            store, engine, clock, composer, channels, retention or RetentionPolicy()
        )
        self.desk = HelperDesk(store, composer, clock, channels=channels, poke=engine.poke)

    async def handle(self, event: Inbound) -> list[Reply]:
        """Steps 1 to 4 of the module docstring, then `_route`."""
        store, now = self.app.store, self.app.clock.now()
        if not event.private:
            return [info.not_in_groups(translator(negotiate(event.language)))]
        entering = await helper_regimen.open_entry(self.desk, event, now)
        if entering is not None:  # a helper's answer to the regimen they are entering
            try:
                return await helper_regimen.answer(self.desk, entering, event, now)
            except StaleWrite:
                return [info.busy(translator(negotiate(event.language)))]
        if self.desk.claims(event):
            try:
                return await self.desk.handle(event)
            except StaleWrite:
                return [info.busy(translator(negotiate(event.language)))]
        identity = await store.identities.find(event.channel, event.user)
        if identity is None:
            starting = event.kind is Kind.COMMAND and event.command == "start"
            if not starting and await self.desk.roles(event):
                return [helper_help(translator(negotiate(event.language)))]
            return await enrolment.stranger(self.app, event, now)
        patient = await store.patients.get(identity.patient_id)
        if patient.seen_on is None or patient.seen_on < now.date():
            await store.retention.seen(patient.id, now.date())  # the retention rule's silence
        stored = await store.conversations.get(patient.id, PARTY)
        conversation = None
        version = None if stored is None else stored.version
        if stored is not None and stored.state:
            conversation = Conversation.from_dict(dict(stored.state))
            if conversation.expired(now):
                conversation = None
            elif event.update_ref and conversation.data.get("update") == event.update_ref:
                return []
        ctx = TurnContext(
            self.app,
            event,
            patient,
            await active_enrolment(store, patient.id),
            conversation,
            version,
            now,
        )
        try:
            return await self._route(ctx)
        except StaleWrite:
            return [info.busy(ctx.t)]

    async def _route(self, ctx: TurnContext) -> list[Reply]:
        """Step 5: the handler registered for the command, the verb or the open flow."""
        event, t = ctx.event, ctx.t
        if event.kind is Kind.UNSUPPORTED:
            return [info.unsupported(t)]
        if event.kind is Kind.COMMAND:
            command = COMMANDS.get(event.command)
            if command is None or (command.enrolled and ctx.enrolment is None):
                known = event.command in info.COMMANDS and ctx.enrolment is None
                return [info.not_enrolled(t) if known else info.unknown_command(t)]
            return await command.handler(ctx)
        pick = PICKS.get(event.pick.verb) if event.pick is not None else None
        if event.kind is Kind.PICK and pick is not None:
            if pick.enrolled and ctx.enrolment is None:
                return [info.not_enrolled(t)]
            return await pick.handler(ctx)
        if ctx.conversation is None:
            if event.kind is Kind.PICK:
                return [info.expired_question(t)]
            return [info.not_enrolled(t) if ctx.enrolment is None else info.not_understood(t)]
        flow = FLOWS.get(ctx.conversation.flow)
        if flow is None:
            await ctx.close()
            return [info.expired_question(t)]
        if flow.enrolled and ctx.enrolment is None:
            await ctx.close()
            return [info.not_enrolled(t)]
        return await flow.handler(ctx)

    async def sent(self, event: Inbound, reply: Reply, message_id: int) -> None:
        """After a reply was sent, where the channel can delete messages:

        1. A reply to a helper that names patients (`Reply.about`) is kept as sent to that
           helper, one row per patient, so removing the helper or forgetting the patient
           deletes it from the helper's chat.
        2. In discreet mode, a message with health details is queued for deletion. The
           deletion is an outbox row, so it happens even if this process restarts before the
           delay is over.
        """
        store = self.app.store
        if not self.app.channels[event.channel].deletes:
            return
        if reply.about:
            await self._keep_for_deletion(event, reply.about, message_id)
        if not reply.sensitive:
            return
        identity = await store.identities.find(event.channel, event.user)
        if identity is None:
            return
        patient = await store.patients.get(identity.patient_id)
        minutes = Preferences.of(patient).delete_after_minutes
        if not patient.discreet or minutes <= 0:
            return
        await store.outbox.enqueue(
            OutboxMessage(
                patient_id=patient.id,
                recipient=PARTY,
                kind=OutboxKind.CLEANUP.value,
                payload=Payload.delete(message_id).to_dict(),
                dedupe_key=f"cleanup:{identity.id}:{message_id}",
                not_before=self.app.clock.now() + timedelta(minutes=minutes),
                priority=int(OutboxKind.CLEANUP.priority),
            )
        )

    async def _keep_for_deletion(
        self, event: Inbound, roles: tuple[Helper, ...], message_id: int
    ) -> None:
        """Step 1 of `sent`. A patient forgotten in between has nothing left to keep."""
        to = Address(event.channel, event.user, event.chat)
        now = self.app.clock.now()
        for role in roles:
            kept = OutboxMessage(
                patient_id=role.patient_id,
                recipient=helper_recipient(role.id),
                kind=OutboxKind.REPLY.value,
                payload={},  # what it said is not kept
                dedupe_key=f"reply:{role.id}:{message_id}",
                not_before=now,
                priority=int(OutboxKind.REPLY.priority),
                to=to,
            )
            try:
                await self.app.store.outbox.record_sent(kept, str(message_id), now)
            except NotFound:
                continue
            except Exception as exc:  # the reply is out; failing the turn now would not help
                log.error("a reply to a helper was not kept for deletion: %s", type(exc).__name__)
