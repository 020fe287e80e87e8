"""Coming and going: `/start` (a stranger becomes a patient, onboarding ends in an enrolment)
and `/forget` (everything about the patient becomes unreadable).

Onboarding that is cancelled or declined before it is confirmed leaves nothing behind: the
patient row made at `/start` is forgotten with it.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.dialogue.messages import Inbound, Kind, Reply
from bot.dialogue.turn import Services, TurnContext, save_conversation
from bot.flows import forget, info, onboarding, visits
from bot.flows.onboarding.setup import Setup, to_enrolment
from bot.i18n import negotiate, translator
from scheduler.channels import ChannelSpec
from scheduler.doses import SET_UP_NOTE, dose_json
from scheduler.forgetting import forget_patient
from scheduler.preferences import Preferences
from storage.records import DoseOutcome, NewDoseSlot, ReportedVia, WeightSource
from storage.store import Repositories
from treatment.backfill import Earlier, EarlierDoses, not_taken
from treatment.enrolment import Enrolment
from treatment.errors import TreatmentError
from treatment.plan import slots_between

logger = logging.getLogger(__name__)


async def stranger(app: Services, event: Inbound, now: datetime) -> list[Reply]:
    """Someone the bot does not know: only `/start` does anything (it makes their patient
    row, with the channel account that sent it, and asks the first question)."""
    language = negotiate(event.language)
    if not (event.kind is Kind.COMMAND and event.command == "start"):
        return [info.start_first(translator(language))]
    turn = begin_onboarding(app.channels[event.channel], event, now, event.language)
    async with app.store.transaction() as tx:
        patient = await tx.patients.create(
            alias="", language=language, time_zone="UTC", discreet=True
        )
        await tx.identities.link(patient.id, event.channel, event.user, event.chat)
        await save_conversation(tx, patient.id, turn.conversation, None, event)
    return turn.replies


async def start_command(ctx: TurnContext) -> list[Reply]:
    t = ctx.t
    if ctx.enrolment is not None:
        return [
            Reply(t._("You are already set up, {alias}.", alias=ctx.patient.alias)),
            info.help_reply(t),
        ]
    language = ctx.event.language or ctx.patient.language
    return await ctx.begin(begin_onboarding(ctx.channel, ctx.event, ctx.now, language))


def begin_onboarding(
    channel: ChannelSpec, event: Inbound, now: datetime, language: str | None
) -> onboarding.Turn:
    """Set-up as the channel needs it: discreet from the start where others read its
    messages, with the zones the person's address points to."""
    return onboarding.begin(
        now, language, discreet_only=channel.discreet_only, zones=channel.zones(event.user)
    )


async def onboarding_flow(ctx: TurnContext) -> list[Reply]:
    done = onboarding.handle(ctx.asked, ctx.event, ctx.now)
    if done.outcome is not None:
        return await enrol(ctx, done.outcome, done.replies)
    if done.conversation is None and ctx.enrolment is None:
        # Cancelled or declined before confirming: nothing of theirs may remain.
        await ctx.store.forget(ctx.patient.id)
        return done.replies
    return await ctx.begin(done)


async def enrol(ctx: TurnContext, setup: Setup, said: list[Reply]) -> list[Reply]:
    """The confirmed set-up becomes the profile and an enrolment, with the doses due before
    now recorded as the patient answered, and the reminders planned, in one transaction."""
    patient, now = ctx.patient, ctx.now
    today = now.astimezone(ZoneInfo(setup.zone)).date()
    try:
        plan = to_enrolment(setup, today)
    except TreatmentError as exc:
        logger.warning("onboarding refused by the treatment engine: %s", exc.code)
        t = translator(setup.language)
        return [Reply(t._("Something in the plan did not fit. Please send /start and try again."))]
    chosen = replace(Preferences.of(patient), cover_word=setup.cover_word)
    profile = replace(
        chosen.saved_into(patient),
        alias=setup.alias,
        language=setup.language,
        time_zone=setup.zone,
        discreet=setup.discreet,
    )
    async with ctx.store.transaction() as tx:
        await tx.patients.update(profile)
        record = await tx.enrolments.add(patient.id, plan)
        if plan.weight_kg is not None:
            await tx.measurements.add_weight(patient.id, plan.weight_kg, WeightSource.SETUP)
        await count_earlier_doses(tx, patient.id, record.id, plan, now, setup.earlier)
        await ctx.app.engine.enrolled(tx, patient.id, now)
        await ctx.save(tx)
    ctx.app.engine.poke()
    offer = visits.offer_after_setup(translator(setup.language), plan.regimen_id)
    if offer is None or not said:
        return said
    # In the "All set" message itself: one message more would bury it on a small screen.
    return [*said[:-1], replace(said[-1], text=f"{said[-1].text}\n\n{offer}")]


async def count_earlier_doses(
    tx: Repositories,
    patient_id: str,
    enrolment_id: str,
    plan: Enrolment,
    now: datetime,
    answer: EarlierDoses | None,
) -> None:
    """Record the doses due between the first dose and set-up as the patient answered.

    Only doses the patient confirmed are taken; the others are recorded as missed, so the
    dose count and the end date agree with what they said (`treatment.backfill`). Without
    an answer (nothing was due when asked, yet a dose fell due before they confirmed),
    nothing is assumed: such a dose is not counted as taken.
    """
    answer = answer or EarlierDoses(Earlier.UNSURE)
    missed = not_taken(plan, now, answer)
    since = datetime.combine(plan.start, time.min, tzinfo=UTC) - timedelta(days=1)
    earlier = list(slots_between(plan, since, now, not_taken=missed))
    if not earlier:
        return
    stored = await tx.doses.add_slots(
        patient_id,
        enrolment_id,
        [NewDoseSlot(due_at=s.utc, window_ends_at=s.utc, dose=dose_json(s, [])) for s in earlier],
    )
    for planned, slot in zip(earlier, stored, strict=True):
        outcome = DoseOutcome.MISSED if planned.key in missed else DoseOutcome.TAKEN
        await tx.doses.record(
            patient_id, slot.id, outcome, ReportedVia.TEXT, reported_at=now, note=SET_UP_NOTE
        )


async def forget_command(ctx: TurnContext) -> list[Reply]:
    return await ctx.begin(forget.begin(ctx.now, ctx.patient.language))


async def forget_flow(ctx: TurnContext) -> list[Reply]:
    turn = forget.handle(ctx.asked, ctx.event, ctx.now)
    if not turn.outcome:
        return await ctx.begin(turn)
    await forget_patient(ctx.store, ctx.app.channels, ctx.patient.id)
    logger.info("patient erased on request")
    return [forget.erased_reply(ctx.patient.language)]
