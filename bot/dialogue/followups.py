"""What follows a dose: milestones it crossed, the mood check-in offer; and `/progress`,
which counts doses the way clinicians do."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from itertools import takewhile
from zoneinfo import ZoneInfo

from bot.dialogue import regimen, reports
from bot.dialogue.choices import Choice
from bot.dialogue.messages import Reply
from bot.dialogue.turn import TurnContext
from bot.flows.milestones import milestone_replies
from bot.flows.progress import progress_reply
from bot.flows.reminder import Wording
from scheduler.doses import treatment_events
from scheduler.preferences import Preferences
from storage.records import DoseSlot, EnrolmentRecord, SlotState
from treatment.adherence import AdherenceSummary, summarise
from treatment.mood import mood_rules
from treatment.plan import iter_slots

CHECKIN = "checkin"
VERBS = frozenset({CHECKIN})
OFFER_AGAIN_AFTER = timedelta(days=1)


async def summary(
    ctx: TurnContext, enrolment: EnrolmentRecord, *, without_event: str | None = None
) -> AdherenceSummary:
    """Dose counting as of now; `without_event` leaves one recorded event out (to see what a
    dose just recorded changed)."""
    patient_id, now = ctx.patient.id, ctx.now
    since = datetime.combine(enrolment.enrolment.start, time.min, tzinfo=UTC) - timedelta(days=1)
    slots = await ctx.store.doses.slots_between(patient_id, since, now + timedelta(days=1))
    events = [e for e in await ctx.store.doses.events(patient_id) if e.id != without_event]
    return summarise(enrolment.enrolment, treatment_events(slots, events), now)


async def next_pending(ctx: TurnContext) -> DoseSlot | None:
    """The next dose still to come, as planned (its sealed dose names its products)."""
    upcoming = await ctx.store.doses.slots_between(
        ctx.patient.id, ctx.now, ctx.now + timedelta(days=8)
    )
    return next((s for s in upcoming if s.state is SlotState.PENDING), None)


async def progress_command(ctx: TurnContext) -> list[Reply]:
    patient = ctx.patient
    counted = await summary(ctx, ctx.enrolled)
    screenings = await ctx.store.mood.for_patient(patient.id)
    moods = [
        (s.recorded_at.astimezone(ZoneInfo(patient.time_zone)).date(), s.instrument, s.score)
        for s in screenings[-3:]
    ]
    upcoming = await next_pending(ctx)
    history = await regimen.history(ctx, ctx.enrolled)
    return [
        progress_reply(
            ctx.t,
            counted,
            patient.time_zone,
            moods,
            next_dose=upcoming.dose if upcoming else None,
            wording=Wording.of(patient),
            history=history,
        )
    ]


async def after_taken(ctx: TurnContext, enrolment: EnrolmentRecord, event_id: str) -> list[Reply]:
    """What a taken dose earns: a milestone message, if it crossed one."""
    before = await summary(ctx, enrolment, without_event=event_id)
    after = await summary(ctx, enrolment)
    plan = enrolment.enrolment
    week_end = plan.start + timedelta(days=7)
    first_week = sum(1 for _ in takewhile(lambda s: s.local_date < week_end, iter_slots(plan)))
    upcoming = await next_pending(ctx)
    return milestone_replies(
        ctx.t,
        before,
        after,
        first_week_doses=first_week,
        next_dose=upcoming.dose if upcoming else None,
        wording=Wording.of(ctx.patient),
    )


async def checkin_offer(ctx: TurnContext, enrolment: EnrolmentRecord) -> Reply | None:
    """Offer the mood check-in when it is due: within the first week of tracking (from the
    second day, not on the day of set-up), then every `mood_every_days` (0: never), never
    more than once a day."""
    now = ctx.now
    prefs = Preferences.of(ctx.patient)
    every = prefs.mood_interval(mood_rules().every_days)
    if every <= 0:
        return None
    offered = prefs.mood_offered_at
    if offered is not None and now - offered < OFFER_AGAIN_AFTER:
        return None
    screenings = await ctx.store.mood.for_patient(ctx.patient.id)
    if screenings:
        due = now - screenings[-1].recorded_at >= timedelta(days=every)
    else:
        due = now - enrolment.created_at >= timedelta(days=1)
    if not due:
        return None
    # Read again: notes written after this dose (a refill warning) are in the stored record.
    fresh = await ctx.store.patients.get(ctx.patient.id)
    noted = replace(Preferences.of(fresh), mood_offered_at=now)
    await ctx.store.patients.update(noted.saved_into(fresh))
    t = ctx.t
    return Reply(
        t._("How have you been feeling lately? I'd like to ask two short questions."),
        (
            (
                Choice(t._("Yes, ask me"), CHECKIN, "now"),
                Choice(t._("Not now"), CHECKIN, "later"),
            ),
        ),
    )


async def checkin_pick(ctx: TurnContext) -> list[Reply]:
    """The answer to the offer: the two questions now, or a kind word."""
    pick = ctx.event.pick
    if pick is not None and pick.arg == "now":
        return await ctx.begin(reports.mood_begin(ctx))
    return [Reply(ctx.t._("All right. I'm here whenever you want to talk."), edit=True)]
