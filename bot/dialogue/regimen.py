"""`/regimen`: a clinician's change of regimen, or a longer phase, recorded with the history kept.

The switch applies from the next dose (`treatment.switching.effective_day`): slots already
reminded or answered stay in the old regimen, pending ones from the switch on are re-planned
by the engine in the same transaction as the change, so nothing due in between is lost or
doubled. Helpers hear of it only when the patient said so, without the medicines' names.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.compose import shown_name
from bot.dialogue import helper_regimen as entries
from bot.dialogue.conversation import Conversation
from bot.dialogue.messages import Reply
from bot.dialogue.turn import TurnContext
from bot.flows import regimen as flow
from bot.flows.onboarding.setup import CUSTOM
from bot.i18n import translator
from scheduler.alerts import HelperPrefs, helper_alert_row
from scheduler.doses import treatment_events
from scheduler.outbox import Payload
from storage.records import EnrolmentRecord, HelperState, Patient, SlotState
from storage.store import Repositories
from treatment.adherence import classify_plan
from treatment.catalogue import load_catalogue
from treatment.custom import build_custom
from treatment.enrolment import Enrolment
from treatment.errors import TreatmentError
from treatment.events import ClassifiedSlot
from treatment.events import SlotState as Counted
from treatment.segments import segments
from treatment.switching import effective_day, extended_phase, segment_counts, switched

NOT_COUNTED = frozenset({Counted.MISSED, Counted.NO_REPLY, Counted.SKIPPED_ON_ADVICE})


async def classified(ctx: TurnContext, enrolment: EnrolmentRecord) -> list[ClassifiedSlot]:
    """The whole plan with each slot's state as of now (as `/progress` counts it)."""
    since = datetime.combine(enrolment.enrolment.start, time.min, tzinfo=UTC) - timedelta(days=1)
    slots = await ctx.store.doses.slots_between(ctx.patient.id, since, ctx.now + timedelta(days=1))
    events = await ctx.store.doses.events(ctx.patient.id)
    return classify_plan(enrolment.enrolment, treatment_events(slots, events), ctx.now)


async def _effective(ctx: TurnContext) -> date:
    """The local date the change applies from: today unless one of today's doses started."""
    zone = ZoneInfo(ctx.patient.time_zone)
    near = await ctx.store.doses.slots_between(
        ctx.patient.id, ctx.now - timedelta(days=1), ctx.now + timedelta(days=1)
    )
    started = {s.due_at.astimezone(zone).date() for s in near if s.state is not SlotState.PENDING}
    return effective_day(ctx.enrolled.enrolment, ctx.now.astimezone(zone).date(), started)


def _position(
    plan: Enrolment, slots: list[ClassifiedSlot], effective: date
) -> tuple[int, str, int]:
    """The phase in force just before `effective` in the last segment: its number, name, and
    the doses counted in it (taken, or still to come before the switch)."""
    last = segments(plan)[-1]
    mine = [
        item
        for item in slots
        if item.slot.position.segment == last.number and item.slot.local_date < effective
    ]
    number = mine[-1].slot.position.phase_number if mine else 0
    counted = sum(
        1
        for item in mine
        if item.slot.position.phase_number == number and item.state not in NOT_COUNTED
    )
    return number, last.regimen.phases[number].name, counted


def _times_on(plan: Enrolment, day: date) -> tuple[time, ...]:
    """The dose times in force on `day`, so a switch keeps times changed in /settings."""
    last = segments(plan)[-1]
    change = plan.time_change_on(day)
    return change.times if change is not None and change.effective >= last.start else last.times


async def regimen_command(ctx: TurnContext) -> list[Reply]:
    plan = ctx.enrolled.enrolment
    effective = await _effective(ctx)
    _, phase, _ = _position(plan, await classified(ctx, ctx.enrolled), effective)
    helpers = await ctx.store.helpers.for_patient(ctx.patient.id)
    active = any(h.state is HelperState.ACTIVE for h in helpers)
    return await ctx.begin(
        flow.begin(
            ctx.now,
            ctx.patient.language,
            current=segments(plan)[-1].regimen.id,
            doses_per_day=len(_times_on(plan, effective)),
            effective=effective,
            phase=phase,
            helpers=active and ctx.patient.consent.helper_alerts,
            zone=ctx.patient.time_zone,
            discreet_only=ctx.channel.discreet_only,
        )
    )


async def regimen_flow(ctx: TurnContext) -> list[Reply]:
    """One answer in `/regimen`; the confirmed change is applied by `_apply`."""
    turn = flow.handle(ctx.asked, ctx.event, ctx.now)
    helper = ctx.asked.data.get("entered_by")
    if turn.outcome is None:
        if turn.conversation is None and helper:  # the patient cancelled a helper's entry
            await _close_entry(ctx, str(helper), saved=False)
        return await ctx.begin(turn)
    return await _apply(ctx, turn.outcome, None if helper is None else str(helper))


async def entry_pick(ctx: TurnContext) -> list[Reply]:
    """The patient's answer to a regimen a helper entered (`bot.dialogue.helper_regimen`).

    1. The helper must be one of the patient's own, active, still allowed, with an entry
       waiting (a replayed or forged button finds none).
    2. No: the entry is dropped and the helper told. Yes: the switch, by the same path as
       `/regimen` (asking the dose times first when the number a day changes).
    """
    t, pick = ctx.t, ctx.picked
    helper = next(
        (
            h
            for h in await ctx.store.helpers.for_patient(ctx.patient.id)
            if h.id == pick.arg and h.state is HelperState.ACTIVE and HelperPrefs.of(h).regimen
        ),
        None,
    )
    stored = None
    if helper is not None:
        stored = await ctx.store.conversations.get(ctx.patient.id, entries.party(helper.id))
    entry = (
        None if stored is None or not stored.state else Conversation.from_dict(dict(stored.state))
    )
    if (
        helper is None
        or entry is None
        or entry.flow != entries.FLOW
        or entry.step != entries.WAITING
        or entry.expired(ctx.now)
    ):
        return [Reply(t._("This plan is no longer waiting for your answer. Nothing changed."))]
    if pick.verb == entries.REJECT:
        await _close_entry(ctx, helper.id, saved=False)
        return [Reply(t._("Nothing changed; reminders continue as before."))]
    plan = ctx.enrolled.enrolment
    effective = await _effective(ctx)
    turn = flow.entered(
        ctx.now,
        ctx.patient.language,
        current=segments(plan)[-1].regimen.id,
        doses_per_day=len(_times_on(plan, effective)),
        effective=effective,
        zone=ctx.patient.time_zone,
        discreet_only=ctx.channel.discreet_only,
        words=dict(entry.data[CUSTOM]),
        helper=helper.id,
    )
    if turn.outcome is None:
        return await ctx.begin(turn)
    return await _apply(ctx, turn.outcome, helper.id)


async def _close_entry(ctx: TurnContext, helper_id: str, *, saved: bool) -> None:
    async with ctx.store.transaction() as tx:
        await _tell_entrant(tx, ctx.patient, helper_id, saved, ctx.now)


async def _tell_entrant(
    tx: Repositories, patient: Patient, helper_id: str, saved: bool, now: datetime
) -> None:
    """Drop the helper's entry and tell them what the patient answered."""
    await tx.conversations.clear(patient.id, entries.party(helper_id))
    helper = next((h for h in await tx.helpers.for_patient(patient.id) if h.id == helper_id), None)
    if helper is None or helper.state is not HelperState.ACTIVE:
        return
    prefs = HelperPrefs.of(helper)
    t = translator(prefs.language or patient.language)
    name = shown_name(prefs, patient)
    text = (
        t._("{alias} confirmed the plan you entered; reminders follow it.", alias=name)
        if saved
        else t._("{alias} did not confirm the plan you entered. Nothing changed.", alias=name)
    )
    key = f"regimenfor:{helper_id}:{'saved' if saved else 'declined'}:{now.isoformat()}"
    await tx.outbox.enqueue(
        helper_alert_row(patient.id, helper_id, key, Payload.message(text), now)
    )


async def _apply(ctx: TurnContext, change: flow.Change, entered_by: str | None) -> list[Reply]:
    """Apply a confirmed change (from `/regimen`, or a helper's entry the patient confirmed).

    1. Work out the date again (a reminder may have gone out while the patient answered) and
       the enrolment with the switch.
    2. Store it, re-plan the reminders, queue the helpers' notes and close the conversation,
       in one transaction; then say from when it applies.
    """
    record, t = ctx.enrolled, ctx.t
    plan = record.enrolment
    effective = await _effective(ctx)
    try:
        match change:
            case flow.SwitchRegimen(regimen_id=regimen_id, times=times, custom=words):
                regimen = (
                    load_catalogue().get(regimen_id)
                    if words is None
                    else build_custom(words, "switch", effective)
                )
                kept = times or _times_on(plan, effective)
                new_plan = switched(plan, regimen, effective, kept)
            case flow.ExtendPhase(weeks=weeks):
                number, _, counted = _position(plan, await classified(ctx, record), effective)
                regimen = extended_phase(segments(plan)[-1].regimen, number, counted, weeks)
                new_plan = switched(plan, regimen, effective, _times_on(plan, effective))
    except TreatmentError:
        if entered_by is not None:
            await _close_entry(ctx, entered_by, saved=False)
        await ctx.close()
        return [
            Reply(
                t._(
                    "I could not record this change, so nothing changed. Please check it with "
                    "your clinician and try /regimen again."
                )
            )
        ]
    async with ctx.store.transaction() as tx:
        await tx.enrolments.replace(ctx.patient.id, record.id, new_plan)
        await ctx.app.engine.enrolled(tx, ctx.patient.id, ctx.now)
        if change.tell_helpers:
            await _tell_helpers(tx, ctx.patient, effective, ctx.now)
        if entered_by is not None:
            await _tell_entrant(tx, ctx.patient, entered_by, True, ctx.now)
        await ctx.save(tx)
    ctx.app.engine.poke()
    return [
        Reply(
            t._(
                "Saved. From {date}, your reminders follow the new plan and doses are counted "
                "by its rules. /progress shows both parts of your treatment.",
                date=t.date(effective),
            ),
            sensitive=True,
        )
    ]


async def _tell_helpers(tx: Repositories, patient: Patient, effective: date, now: datetime) -> int:
    """A short note to each active helper, if the patient allows helper alerts at all."""
    if not patient.consent.helper_alerts:
        return 0
    queued = 0
    for helper in await tx.helpers.for_patient(patient.id):
        if helper.state is not HelperState.ACTIVE:
            continue
        prefs = HelperPrefs.of(helper)
        t = translator(prefs.language or patient.language)
        name, day = shown_name(prefs, patient), t.date(effective)
        discreet = t._(
            "{alias} has a new plan from {date}; reminders follow it.", alias=name, date=day
        )
        full = t._(
            "{alias}'s clinician changed their TB treatment. From {date}, reminders follow the "
            "new plan.",
            alias=name,
            date=day,
        )
        # The brief form is what a discreet-only channel (SMS) sends.
        payload = Payload.message(discreet if patient.discreet else full).with_brief(discreet)
        key = f"regimen:{helper.id}:{effective.isoformat()}:{now.isoformat()}"
        row = helper_alert_row(patient.id, helper.id, key, payload, now)
        queued += await tx.outbox.enqueue(row) is not None
    return queued


async def history(ctx: TurnContext, enrolment: EnrolmentRecord) -> list[str]:
    """The lines that show each regimen followed (none while it never changed)."""
    if not enrolment.enrolment.switches:
        return []
    counts = segment_counts(enrolment.enrolment, await classified(ctx, enrolment))
    today = ctx.now.astimezone(ZoneInfo(ctx.patient.time_zone)).date()
    return flow.history_lines(ctx.t, counts, today)
