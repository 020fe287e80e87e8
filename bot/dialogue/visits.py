"""`/visits`: clinic visits and tests, stored sealed with their reminders' timer.

What a visit is and when is sealed under the patient's key (`storage.repositories.
appointments`); the engine sees only the instant of its next reminder (`scheduler.visits`).
"""

from __future__ import annotations

from bot.dialogue.messages import Reply
from bot.dialogue.turn import TurnContext
from bot.flows import visits as flow
from scheduler.visits import Visit, first_reminder
from treatment.segments import segments


def _regimens(ctx: TurnContext) -> list[str]:
    if ctx.enrolment is None:
        return []
    return [part.regimen.id for part in segments(ctx.enrolment.enrolment)]


async def visits_command(ctx: TurnContext) -> list[Reply]:
    zone, discreet = ctx.patient.time_zone, ctx.channel.discreet_only
    return await ctx.begin(
        flow.begin(ctx.now, ctx.patient.language, zone, _regimens(ctx), discreet=discreet)
    )


async def upcoming(ctx: TurnContext) -> list[tuple[str, Visit]]:
    """The patient's visits still to come, soonest first."""
    found = [
        (a.id, Visit.of(a.details))
        for a in await ctx.store.appointments.for_patient(ctx.patient.id)
    ]
    return sorted(
        ((ident, visit) for ident, visit in found if visit.at > ctx.now), key=lambda v: v[1].at
    )


async def visits_flow(ctx: TurnContext) -> list[Reply]:
    turn = flow.handle(ctx.asked, ctx.event, ctx.now)
    t = ctx.t
    match turn.outcome:
        case None:
            return await ctx.begin(turn)
        case flow.ShowVisits():
            discreet = ctx.channel.discreet_only
            entries = [
                (ident, flow.label(t, visit, discreet=discreet))
                for ident, visit in await upcoming(ctx)
            ]
            if not entries:
                await ctx.close()
                return [Reply(t._("No visits or tests noted. Send /visits to add one."))]
            return await ctx.begin(flow.listing(ctx.asked, entries, ctx.now))
        case flow.CancelVisit(appointment_id=appointment_id, label=label):
            async with ctx.store.transaction() as tx:
                gone = await tx.appointments.cancel(ctx.patient.id, appointment_id)
                await ctx.save(tx)
            if not gone:
                return [Reply(t._("That visit was already cancelled."))]
            return [Reply(t._("Cancelled: {visit}. No reminder will come for it.", visit=label))]
        case flow.AddVisit(kind=kind, local=local):
            visit = Visit(kind, local, ctx.patient.time_zone)
            async with ctx.store.transaction() as tx:
                await tx.appointments.add(
                    ctx.patient.id, visit.to_details(), first_reminder(visit, ctx.now)
                )
                await ctx.save(tx)
            ctx.app.engine.poke()
            return [
                Reply(
                    t._(
                        "Saved: {visit}. I will remind you the day before and on the morning.",
                        visit=flow.label(t, visit, discreet=ctx.channel.discreet_only),
                    ),
                    sensitive=True,
                )
            ]
    return []
