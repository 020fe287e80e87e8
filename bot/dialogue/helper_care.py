"""The patient's management of their helpers (`/helper`): invite, invite again, remove, pause
all alerts, the escalation delay, and what each helper is told.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.compose import shown_name
from bot.dialogue.helper_common import (
    direct,
    info_gone,
)
from bot.dialogue.helper_links import invitation
from bot.dialogue.messages import Reply
from bot.dialogue.turn import TurnContext
from bot.flows import helpers as flow
from bot.i18n import translator
from scheduler.alerts import (
    MAX_HELPERS,
    MISSED_RUN_CHOICES,
    SUMMARY_EVERY,
    HelperPrefs,
)
from scheduler.channels import ChannelRegistry, ChannelSpec
from scheduler.outbox import Kind as OutboxKind
from scheduler.outbox import Payload
from scheduler.preferences import Preferences
from storage.errors import NotFound
from storage.records import (
    DIRECT,
    Address,
    Helper,
    HelperState,
    OutboxMessage,
    Patient,
    helper_recipient,
)
from storage.store import Repositories


async def menu(
    tx: Repositories, patient: Patient, now: datetime, focus: str | None = None
) -> flow.Turn:
    helpers = await current(tx, patient.id)
    entries = [flow.entry(h.id, h.alias, h.state.value, HelperPrefs.of(h)) for h in helpers]
    minutes = int(Preferences.of(patient).escalation_delay().total_seconds() // 60)
    return flow.begin(
        now,
        patient.language,
        patient.alias,
        entries,
        alerts_on=patient.consent.helper_alerts,
        escalate_minutes=minutes,
        focus=focus,
    )


async def apply(
    tx: Repositories,
    patient: Patient,
    change: flow.Change,
    now: datetime,
    channel: ChannelSpec,
    channels: ChannelRegistry,
) -> tuple[list[Reply], flow.Turn | None]:
    """Apply a change from the `/helper` flow in the caller's transaction: the replies,
    and the menu to show again (None: the flow ends). `channel` is the one the patient
    is on: invitations take its form; `channels` says what a removed helper's channel lets
    us delete."""
    t = translator(patient.language)
    match change:
        case flow.Invite(name, shown_as):
            if len(await current(tx, patient.id)) >= MAX_HELPERS:
                return [Reply(t._("You have {n} helpers, the most I allow.", n=MAX_HELPERS))], None
            prefs = HelperPrefs(shown_as=shown_as)
            helper = await tx.helpers.add(
                patient.id, alias=name, permissions=prefs.to_permissions()
            )
            return [await invitation(tx, patient, helper, now, channel)], None
        case flow.PauseAlerts(paused):
            consent = replace(patient.consent, helper_alerts=not paused)
            await tx.patients.update(replace(patient, consent=consent))
            text = (
                t._("Alerts to your helpers are paused. Crisis help is still shown to you.")
                if paused
                else t._("Alerts to your helpers are on again.")
            )
            return [Reply(text)], None
        case flow.Escalate(minutes):
            chosen = replace(Preferences.of(patient), escalate_minutes=minutes)
            await tx.patients.update(chosen.saved_into(patient))
            return [Reply(t._("Saved."))], None
    try:
        helper = await tx.helpers.get(patient.id, change.helper)
    except NotFound:
        return [info_gone(t)], None
    if helper.state is HelperState.REMOVED:
        return [info_gone(t)], None
    prefs = HelperPrefs.of(helper)
    match change:
        case flow.Reinvite():
            if helper.state is not HelperState.INVITED:
                return [info_gone(t)], None
            return [await invitation(tx, patient, helper, now, channel)], None
        case flow.Remove():
            return [await remove(tx, patient, helper, now, channels)], None
        case flow.MissedRun(n=n) if n in MISSED_RUN_CHOICES:
            prefs = replace(prefs, missed_run=n)
        case flow.Toggle(switch=switch) if switch in flow.SWITCHES:
            prefs = prefs.toggled(switch)
    await tx.helpers.set_permissions(patient.id, helper.id, prefs.to_permissions())
    summary_at = await tx.helpers.summary_at(patient.id, helper.id)
    if prefs.weekly and summary_at is None:
        await tx.helpers.schedule_summary(patient.id, helper.id, now + SUMMARY_EVERY)
    elif not prefs.weekly and summary_at is not None:
        await tx.helpers.schedule_summary(patient.id, helper.id, None)
    return [], await menu(tx, patient, now, focus=helper.id)


async def remove(
    tx: Repositories, patient: Patient, helper: Helper, now: datetime, channels: ChannelRegistry
) -> Reply:
    """Remove at once (the row, and queued alerts, deleted); a short goodbye goes to the
    helper's account directly, since their role no longer has one. What they were sent
    about the patient is deleted from their chat where the channel allows it."""
    t = translator(patient.language)
    sent = await deletable(tx, patient.id, helper, now, channels)
    gone = await tx.helpers.remove(patient.id, helper.id)
    for message_id in sent:
        await tx.outbox.enqueue(cleanup(patient.id, gone, message_id, now))
    if gone.state in (HelperState.ACTIVE, HelperState.ACCEPTED) and gone.address:
        prefs = HelperPrefs.of(gone)
        ht = translator(prefs.language or patient.language)
        text = ht._(
            "{alias} has removed you as their helper. You will get no more messages about "
            "them. Thank you for your support.",
            alias=shown_name(prefs, patient),
        )
        await tx.outbox.enqueue(direct(patient.id, gone, f"removed:{helper.id}", text, now))
    return Reply(t._("{name} is no longer your helper.", name=helper.alias))


async def deletable(
    tx: Repositories, patient_id: str, helper: Helper, now: datetime, channels: ChannelRegistry
) -> list[str]:
    """The messages in `helper`'s chat that their channel still lets us delete."""
    if helper.channel is None or helper.channel not in channels:
        return []
    spec = channels[helper.channel]
    if not spec.deletes:
        return []
    # No limit: since the helper was added (nothing was sent to them before).
    since = helper.created_at if spec.delete_within is None else now - spec.delete_within
    return await tx.outbox.sent_to(patient_id, helper_recipient(helper.id), since)


def cleanup(patient_id: str, helper: Helper, message_id: str, now: datetime) -> OutboxMessage:
    """Delete one message from the chat of a helper who was removed."""
    message = OutboxMessage(
        patient_id=patient_id,
        recipient=DIRECT,
        kind=OutboxKind.CLEANUP.value,
        payload=Payload.delete(int(message_id)).to_dict(),
        dedupe_key=f"cleanup:{helper.id}:{message_id}",
        not_before=now,
        priority=int(OutboxKind.CLEANUP.priority),
    )
    if helper.channel is None or helper.address is None:
        return message
    return replace(message, to=Address(helper.channel, helper.address, helper.chat))


async def current(tx: Repositories, patient_id: str) -> list[Helper]:
    """The patient's helpers not removed: invited, accepted or active (at most 3)."""
    return [
        h for h in await tx.helpers.for_patient(patient_id) if h.state is not HelperState.REMOVED
    ]


async def helper_command(ctx: TurnContext) -> list[Reply]:
    """`/helper`: the patient's helpers, and what can be changed."""
    async with ctx.store.transaction() as tx:
        shown = await menu(tx, ctx.patient, ctx.now)
    return await ctx.begin(shown)


async def helper_flow(ctx: TurnContext) -> list[Reply]:
    """An answer in the `/helper` flow; a change is applied with the conversation, in one
    transaction."""
    turn = flow.handle(ctx.asked, ctx.event, ctx.now)
    if turn.outcome is None:
        return await ctx.begin(turn)
    async with ctx.store.transaction() as tx:
        said, shown = await apply(
            tx, ctx.patient, turn.outcome, ctx.now, ctx.channel, ctx.app.channels
        )
        await ctx.save(tx, None if shown is None else shown.conversation)
    ctx.app.engine.poke()
    return [*said, *(shown.replies if shown is not None else [])]
