"""Dose actions: the reminder's buttons (Taken, snooze, Not today, Side effect), `/taken`
and `/late`.

Button payloads are client input: every dose button is checked against the presser's own
slots (another patient's slot is "not found"), the slot's state (a second press of Taken
records nothing) and the time limits (no future doses, nothing older than three days).
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.dialogue import followups, reports, supplies, weight
from bot.dialogue.choices import Choice
from bot.dialogue.messages import Reply
from bot.dialogue.outcomes import dose_label, settle_reminders
from bot.dialogue.turn import TurnContext
from bot.flows.reminder import SKIP, SNOOZE, SNOOZE_MINUTES, SYMPTOM, TAKEN
from storage.errors import NotFound
from storage.records import DoseOutcome, DoseSlot, ReportedVia, SlotState, reminder_key
from treatment.stock import Movement, use_tablets

LATE = "late"
VERBS = frozenset({TAKEN, SNOOZE, SKIP, SYMPTOM, LATE})
LATE_DAYS = 3
OPEN_STATES = (SlotState.PENDING, SlotState.REMINDED)


async def dose_button(ctx: TurnContext) -> list[Reply]:
    """A button of a reminder, or of the `/late` list: the slot is the presser's own, or
    nothing happens."""
    pick = ctx.picked
    t = ctx.t
    slot_id, _, minutes = pick.arg.partition(".")
    try:
        slot = await ctx.store.doses.slot(ctx.patient.id, slot_id)
    except NotFound:
        return [Reply(t._("That button is no longer valid."))]
    if pick.verb == SYMPTOM:
        return await ctx.begin(reports.symptom_begin(ctx))
    if pick.verb == SNOOZE:
        return await snooze(ctx, slot, minutes)
    outcome = DoseOutcome.MISSED if pick.verb == SKIP else DoseOutcome.TAKEN
    return await record(ctx, slot, outcome, ReportedVia.BUTTON, edit=pick.verb != LATE)


async def taken_command(ctx: TurnContext) -> list[Reply]:
    """`/taken`: the latest dose whose window is open."""
    candidates = [
        s for s in await open_slots(ctx) if s.state in OPEN_STATES and ctx.now <= s.window_ends_at
    ]
    if not candidates:
        return [Reply(ctx.t._("No dose is open right now. To record an earlier dose, send /late."))]
    return await record(ctx, candidates[-1], DoseOutcome.TAKEN, ReportedVia.TEXT, edit=False)


async def late_command(ctx: TurnContext) -> list[Reply]:
    """`/late`: the doses of the last three days not recorded as taken, to pick one."""
    t = ctx.t
    slots = await open_slots(ctx)
    if not slots:
        return [Reply(t._("Every dose of the last 3 days is recorded as taken."))]
    zone = ZoneInfo(ctx.patient.time_zone)
    rows = tuple((Choice(t.moment(s.due_at.astimezone(zone)), LATE, s.id),) for s in slots[-8:])
    return [
        Reply(
            t._("Which dose did you take? Doses of the last 3 days not recorded as taken:"),
            rows,
        )
    ]


async def open_slots(ctx: TurnContext) -> list[DoseSlot]:
    now = ctx.now
    recent = await ctx.store.doses.slots_between(
        ctx.patient.id, now - timedelta(days=LATE_DAYS), now + timedelta(minutes=1)
    )
    return [
        s
        for s in recent
        if s.due_at <= now and s.state is not SlotState.TAKEN and s.state is not SlotState.CANCELLED
    ]


async def record(
    ctx: TurnContext, slot: DoseSlot, outcome: DoseOutcome, via: ReportedVia, *, edit: bool
) -> list[Reply]:
    """Record one dose, once.

    1. A dose that is not due yet, or due more than three days ago, is refused.
    2. A dose already recorded as taken stays so: a second press records nothing.
    3. The slot moves on only if nobody else moved it since it was read (a conditional
       update), so two presses at the same moment record one event.
    4. In the same transaction: the reminder still waiting for this dose is dropped, the
       tablets it used are counted off, the plan moves if a missed dose moved a phase, and
       the dose's other reminders on screen are edited to show the outcome (where the
       channel can edit).
    5. Then what the dose earns: a milestone, a supplies note, the monthly weight question
       or else the mood check-in offer.
    """
    t, patient, now = ctx.t, ctx.patient, ctx.now
    label = dose_label(t, slot, patient.time_zone)
    if slot.due_at > now + timedelta(minutes=30):
        return [Reply(t._("That dose is not due yet."))]
    if slot.due_at < now - timedelta(days=LATE_DAYS):
        return [Reply(t._("That dose is more than 3 days old and can no longer be changed."))]
    if slot.state is SlotState.TAKEN:
        return [Reply(t._("{dose}: already recorded as taken ✓", dose=label), edit=edit)]
    async with ctx.store.transaction() as tx:
        won = await tx.doses.set_slot_state(
            slot.id,
            expected_version=slot.version,
            state=SlotState(outcome.value),
            next_check_at=None,
        )
        if not won:
            return [Reply(t._("{dose}: already recorded ✓", dose=label), edit=edit)]
        recorded = await tx.doses.record(patient.id, slot.id, outcome, via, reported_at=now)
        # Answered in the seconds before its reminder was due: that reminder is not sent.
        await tx.outbox.cancel_waiting(patient.id, reminder_key(slot.id), now)
        short: set[str] = set()
        stocked = await tx.pill_stock.get(patient.id) if outcome is DoseOutcome.TAKEN else None
        if stocked is not None and stocked.counts:
            counts, short = use_tablets(stocked.counts, supplies.tablets_of(slot))
            await tx.pill_stock.set(patient.id, counts, Movement.USED, short=short)
        if outcome is not DoseOutcome.TAKEN or slot.state is SlotState.MISSED:
            # A missed dose, or one taken after its window closed, moves the phase
            # boundary; the pending slots must show the drugs of the phase they fall in.
            await ctx.app.engine.enrolled(tx, patient.id, now)
        outcome_line, text = _outcome_text(ctx, label, outcome, late=now > slot.window_ends_at)
        if ctx.channel.edits:
            # The reminder and nudges of this dose still on screen lose their buttons.
            pressed = ctx.event.message_ref if edit else None
            await settle_reminders(tx, patient.id, slot.id, outcome_line, now, pressed=pressed)
        await ctx.save(tx)
    ctx.app.engine.poke()
    said = [Reply(text, edit=edit)]
    enrolment = await ctx.active_enrolment()
    if enrolment is None:
        return said
    if outcome is DoseOutcome.TAKEN:
        said.extend(await followups.after_taken(ctx, enrolment, recorded.id))
        said.extend(await supplies.stock_notes(ctx, enrolment, slot, short))
    # The check-in is offered after "not today" too: low mood and missed doses go together,
    # and a patient who stops taking doses must not stop being asked how they are.
    # One question at a time. The weight comes first when due: it is due once a month, while
    # a check-in the patient keeps putting off is offered again every day.
    offer = await weight.weigh_in_offer(ctx, enrolment)
    if offer is None:
        offer = await followups.checkin_offer(ctx, enrolment)
    return [*said, *([offer] if offer else [])]


def _outcome_text(
    ctx: TurnContext, label: str, outcome: DoseOutcome, *, late: bool
) -> tuple[str, str]:
    """The line that says what became of the dose, and the whole reply around it."""
    t = ctx.t
    if outcome is DoseOutcome.TAKEN:
        line = (
            t._("{dose}: taken late ✓", dose=label) if late else t._("{dose}: taken ✓", dose=label)
        )
        return line, line + "\n" + (t._("Thank you for telling me.") if late else t._("Well done!"))
    line = t._("{dose}: not taken", dose=label)
    return line, line + "\n" + t._(
        "Take your next dose at the usual time. Each missed dose adds a day at the "
        "end, so treatment still works."
    )


async def snooze(ctx: TurnContext, slot: DoseSlot, minutes: str) -> list[Reply]:
    t, patient, now = ctx.t, ctx.patient, ctx.now
    if not minutes.isdigit() or int(minutes) not in SNOOZE_MINUTES or slot.state not in OPEN_STATES:
        return [Reply(t._("That dose can no longer be snoozed."), edit=True)]
    until = now + timedelta(minutes=int(minutes))
    async with ctx.store.transaction() as tx:
        ok = await ctx.app.engine.snooze(tx, patient.id, slot.id, until, now)
        await ctx.save(tx)
    if not ok:
        return [Reply(t._("That dose can no longer be snoozed."), edit=True)]
    ctx.app.engine.poke()
    local = until.astimezone(ZoneInfo(patient.time_zone))
    return [
        Reply(
            t._(
                "{dose}: I'll remind you again at {time}.",
                dose=dose_label(t, slot, patient.time_zone),
                time=t.time(local),
            ),
            edit=True,
        )
    ]
