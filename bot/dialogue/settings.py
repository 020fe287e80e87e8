"""Settings and pause: `/settings` (each change applied in one transaction, the reminders
re-planned when it moves them), `/pause` and `/resume`."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.dialogue import regimen, weight
from bot.dialogue.messages import Reply
from bot.dialogue.turn import TurnContext
from bot.flows import pause
from bot.flows import settings as flow
from bot.i18n import translator
from scheduler.preferences import Preferences
from storage.records import WeightSource
from treatment.enrolment import Pause, TimeChange, ZoneChange


async def settings_command(ctx: TurnContext) -> list[Reply]:
    plan = ctx.enrolled.enrolment
    return await ctx.begin(
        flow.begin(
            ctx.now,
            ctx.patient.language,
            len(plan.times),
            plan.regimen_id,
            discreet_only=ctx.channel.discreet_only,
            deletes=ctx.channel.deletes,
        )
    )


async def settings_flow(ctx: TurnContext) -> list[Reply]:
    turn = flow.handle(ctx.asked, ctx.event, ctx.now)
    if turn.outcome is None:
        return await ctx.begin(turn)
    if isinstance(turn.outcome, flow.ChangeRegimen):
        return await regimen.regimen_command(ctx)
    return await apply_setting(ctx, turn.outcome)


async def apply_setting(ctx: TurnContext, change: flow.Change) -> list[Reply]:
    """Apply one change from `/settings`.

    1. Work out the new profile, preferences and plan; time and zone changes apply from
       tomorrow (today's doses stay as the patient expects them).
    2. Store them and re-plan the reminders if the change moves them, with the conversation,
       in one transaction.
    3. Say so. A weight is `bot.dialogue.weight.take_weight`'s: it goes into the history, and
       a change that may change the dose asks what the clinician said.
    """
    patient, enrolment, now = ctx.patient, ctx.enrolled, ctx.now
    profile = patient
    plan = enrolment.enrolment
    prefs = Preferences.of(patient)
    tomorrow = now.astimezone(ZoneInfo(patient.time_zone)).date() + timedelta(days=1)
    replan = True  # unless the change leaves the reminders as they are
    match change:
        case flow.SetLanguage(locale):
            profile, replan = replace(patient, language=locale), False
        case flow.SetDiscreet(on, cover_word):
            profile, replan = replace(patient, discreet=on), False
            prefs = replace(prefs, cover_word=cover_word)
        case flow.SetNudges(nudges):
            prefs = replace(prefs, nudges=nudges)
        case flow.SetQuietHours(span):
            prefs = replace(prefs, quiet_hours=span)
        case flow.SetDeleteAfter(minutes):
            prefs = replace(prefs, delete_after_minutes=minutes)
        case flow.SetMoodEvery(days):
            prefs, replan = replace(prefs, mood_every_days=days), False
        case flow.SetRefill(warn_days, to_helper):
            told = prefs.refill_to_helper if to_helper is None else to_helper
            prefs = replace(
                prefs, refill_warn_days=warn_days, refill_to_helper=told, stock_warned=frozenset()
            )
            replan = False
        case flow.SetZone(zone):
            plan = plan.with_zone_change(ZoneChange(tomorrow, zone))
            profile = replace(patient, time_zone=zone)
        case flow.SetTimes(times):
            plan = plan.with_time_change(TimeChange(tomorrow, times))
        case flow.SetProducts(product_set):
            plan = replace(plan, product_set=product_set)
        case flow.SetWeight(kg):
            # Into the history; the count waits for the clinician where it would change.
            return await weight.take_weight(ctx, kg, WeightSource.SETTINGS)
    profile = prefs.saved_into(profile)
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
    if isinstance(change, flow.SetZone | flow.SetTimes):
        said = [Reply(t._("Saved. This applies from tomorrow."))]
    return said


async def pause_command(ctx: TurnContext) -> list[Reply]:
    if ctx.enrolled.enrolment.open_pause() is not None:
        return [Reply(ctx.t._("Reminders are already paused. Send /resume to start them again."))]
    return await ctx.begin(pause.begin(ctx.now, ctx.patient.language))


async def pause_flow(ctx: TurnContext) -> list[Reply]:
    turn = pause.handle(ctx.asked, ctx.event, ctx.now)
    if turn.outcome is None:
        return await ctx.begin(turn)
    patient, enrolment, now = ctx.patient, ctx.enrolled, ctx.now
    today = now.astimezone(ZoneInfo(patient.time_zone)).date()
    plan = enrolment.enrolment.with_pause(Pause(today))
    paused = replace(Preferences.of(patient), pause_reason=turn.outcome)
    async with ctx.store.transaction() as tx:
        await tx.enrolments.replace(patient.id, enrolment.id, plan)
        await tx.patients.update(paused.saved_into(patient))
        await ctx.app.engine.enrolled(tx, patient.id, now)
        await ctx.save(tx)
    return [pause.paused_reply(patient.language, turn.outcome, discreet=patient.discreet)]


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
