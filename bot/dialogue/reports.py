"""What the patient reports about themselves: a side effect (`/symptom`, triaged) and their
mood (`/mood`, screened). A dangerous answer alerts their helpers in the same transaction
that stores it, and the patient hears who was told."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.dialogue.alerts import alert_helpers, who_was_told
from bot.dialogue.messages import Reply
from bot.dialogue.turn import TurnContext
from bot.flows import mood, symptom
from scheduler.alerts import AlertKind
from scheduler.preferences import Preferences
from treatment.plan import slots_between


def symptom_begin(ctx: TurnContext) -> symptom.Turn:
    """The side-effect questions, about the drugs of the dose nearest now."""
    plan, now = ctx.enrolled.enrolment, ctx.now
    upcoming = next(slots_between(plan, now - timedelta(days=2), now + timedelta(days=7)), None)
    drugs = (
        [d.name for d in upcoming.drugs]
        if upcoming is not None
        else [d.name for phase in plan.regimen().phases for d in phase.drugs]
    )
    told = Preferences.of(ctx.patient).contraception_told
    return symptom.begin(now, ctx.patient.language, drugs, contraception_told=told)


async def symptom_command(ctx: TurnContext) -> list[Reply]:
    return await ctx.begin(symptom_begin(ctx))


async def symptom_flow(ctx: TurnContext) -> list[Reply]:
    turn = symptom.handle(ctx.asked, ctx.event, ctx.now)
    if turn.report is None:
        return await ctx.begin(turn)
    return await _report(ctx, turn.report, turn.replies)


async def _report(ctx: TurnContext, report: symptom.Report, said: list[Reply]) -> list[Reply]:
    """Store the report with its triage level (and when to ask again), note that the
    contraception advice was given, and alert the helpers if triage says so."""
    patient, now = ctx.patient, ctx.now
    triage = report.triage
    follow_up = None if triage.recheck_days is None else now + timedelta(days=triage.recheck_days)
    async with ctx.store.transaction() as tx:
        stored = await tx.side_effects.add(
            patient.id,
            symptoms=[s for s, _ in report.symptoms],
            level=triage.level.name.lower(),
            free_text=report.free_text,
            follow_up_at=follow_up,
        )
        if "contraception" in triage.advice:
            told_once = replace(Preferences.of(patient), contraception_told=True)
            await tx.patients.update(told_once.saved_into(patient))
        told = None
        if triage.alert_helper:
            symptoms = {"symptoms": [s for s, _ in report.symptoms]}
            incident = await alert_helpers(
                tx, ctx.app.composer, patient, AlertKind.RED_FLAG, stored.id, now, symptoms
            )
            told = await who_was_told(tx, patient, incident)
        await ctx.save(tx)
    return [*said, *([told] if told else [])]


def mood_begin(ctx: TurnContext) -> mood.Turn:
    patient = ctx.patient
    return mood.begin(ctx.now, patient.language, patient.time_zone, discreet=patient.discreet)


async def mood_command(ctx: TurnContext) -> list[Reply]:
    return await ctx.begin(mood_begin(ctx))


async def mood_flow(ctx: TurnContext) -> list[Reply]:
    turn = mood.handle(ctx.asked, ctx.event, ctx.now)
    if turn.result is None:
        return await ctx.begin(turn)
    return await _screened(ctx, turn.result, turn.replies)


async def _screened(ctx: TurnContext, result: mood.Result, said: list[Reply]) -> list[Reply]:
    """Store the screening; a crisis answer alerts the helpers at once."""
    patient, now = ctx.patient, ctx.now
    async with ctx.store.transaction() as tx:
        screening = await tx.mood.add(
            patient.id,
            instrument=result.instrument,
            answers=list(result.answers),
            score=result.score,
        )
        told = None
        if result.crisis:
            incident = await alert_helpers(
                tx, ctx.app.composer, patient, AlertKind.CRISIS, screening.id, now
            )
            told = await who_was_told(tx, patient, incident)
        await ctx.save(tx)
    return [*said, *([told] if told else [])]
