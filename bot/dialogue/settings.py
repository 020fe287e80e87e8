"""Settings and pause: `/settings` (each change applied in one transaction, the reminders
re-planned when it moves them), `/pause` and `/resume`."""

from __future__ import annotations

from dataclasses import replace
from datetime import time, timedelta
from zoneinfo import ZoneInfo

from bot.dialogue.messages import Reply
from bot.dialogue.turn import TurnContext
from bot.flows import pause
from bot.flows import settings as flow
from bot.i18n import translator
from scheduler.preferences import Preferences
from treatment.enrolment import Pause, TimeChange, ZoneChange
from treatment.weight import load_weight_bands

# Settings the reminder engine plans with: changing one re-plans the coming doses.
_LADDER = frozenset({"nudges", "quiet_hours", "delete_after_minutes"})


async def settings_command(ctx: TurnContext) -> list[Reply]:
    doses = len(ctx.enrolled.enrolment.times)
    return await ctx.begin(flow.begin(ctx.now, ctx.patient.language, doses))


async def settings_flow(ctx: TurnContext) -> list[Reply]:
    turn = flow.handle(ctx.asked, ctx.event, ctx.now)
    if turn.change is None:
        return await ctx.begin(turn)
    return await apply_setting(ctx, turn.change)


async def apply_setting(ctx: TurnContext, change: flow.Change) -> list[Reply]:
    """Apply one change from `/settings`.

    1. Work out the new profile, preferences and plan; time and zone changes apply from
       tomorrow (today's doses stay as the patient expects them).
    2. Store them and re-plan the reminders if the change moves them, with the conversation,
       in one transaction.
    3. Say so; a weight change of the notice threshold or more (`treatment.weight`) also asks
       the patient to check the dose with a clinician.
    """
    patient, enrolment, now = ctx.patient, ctx.enrolled, ctx.now
    value = change.value
    profile = patient
    plan = enrolment.enrolment
    tomorrow = now.astimezone(ZoneInfo(patient.time_zone)).date() + timedelta(days=1)
    stored = Preferences.of(patient).to_dict()
    replan = change.setting in _LADDER
    weight_notice = False
    if change.setting == "language":
        profile = replace(patient, language=value)
    elif change.setting == "discreet":
        profile = replace(patient, discreet=value["discreet"])
        stored["cover_word"] = value["cover_word"]
    elif change.setting in (*_LADDER, "mood_every_days"):
        stored[change.setting] = value
    elif change.setting == "refill":
        stored.update(value)
        stored.pop("stock_warned", None)
    elif change.setting == "zone":
        plan = plan.with_zone_change(ZoneChange(tomorrow, value))
        profile = replace(patient, time_zone=value)
        replan = True
    elif change.setting == "times":
        plan = plan.with_time_change(
            TimeChange(tomorrow, tuple(time.fromisoformat(v) for v in value))
        )
        replan = True
    elif change.setting == "weight_kg":
        old = plan.weight_kg
        plan = replace(plan, weight_kg=value)
        replan = True
        weight_notice = (
            old is not None and load_weight_bands().weight_change_notice(old, value) is not None
        )
    profile = Preferences.from_dict(stored).saved_into(profile)
    async with ctx.store.transaction() as tx:
        await tx.patients.update(profile)
        if plan is not enrolment.enrolment:
            await tx.enrolments.replace(patient.id, enrolment.id, plan)
        if replan:
            await ctx.app.engine.enrolled(tx, patient.id, now)
        await ctx.save(tx)
    ctx.app.engine.poke()
    t = translator(profile.language)
    said = [Reply(t._("Saved."))]
    if change.setting in ("zone", "times"):
        said = [Reply(t._("Saved. This applies from tomorrow."))]
    if weight_notice:
        said.append(
            Reply(t._("Your weight has changed. Please ask a clinician whether your dose changes."))
        )
    return said


async def pause_command(ctx: TurnContext) -> list[Reply]:
    if ctx.enrolled.enrolment.open_pause() is not None:
        return [Reply(ctx.t._("Reminders are already paused. Send /resume to start them again."))]
    return await ctx.begin(pause.begin(ctx.now, ctx.patient.language))


async def pause_flow(ctx: TurnContext) -> list[Reply]:
    turn = pause.handle(ctx.asked, ctx.event, ctx.now)
    if turn.reason is None:
        return await ctx.begin(turn)
    patient, enrolment, now = ctx.patient, ctx.enrolled, ctx.now
    today = now.astimezone(ZoneInfo(patient.time_zone)).date()
    plan = enrolment.enrolment.with_pause(Pause(today))
    paused = replace(Preferences.of(patient), pause_reason=turn.reason)
    async with ctx.store.transaction() as tx:
        await tx.enrolments.replace(patient.id, enrolment.id, plan)
        await tx.patients.update(paused.saved_into(patient))
        await ctx.app.engine.enrolled(tx, patient.id, now)
        await ctx.save(tx)
    return [pause.paused_reply(patient.language, turn.reason, discreet=patient.discreet)]


async def resume_command(ctx: TurnContext) -> list[Reply]:
    patient, enrolment, now = ctx.patient, ctx.enrolled, ctx.now
    if enrolment.enrolment.open_pause() is None:
        return [Reply(ctx.t._("Reminders are on; nothing is paused."))]
    today = now.astimezone(ZoneInfo(patient.time_zone)).date()
    plan = enrolment.enrolment.resumed(today)
    resumed = replace(Preferences.of(patient), pause_reason=None)
    async with ctx.store.transaction() as tx:
        await tx.enrolments.replace(patient.id, enrolment.id, plan)
        await tx.patients.update(resumed.saved_into(patient))
        await ctx.app.engine.enrolled(tx, patient.id, now)
        await ctx.save(tx)
    ctx.app.engine.poke()
    return [pause.resumed_reply(patient.language)]
