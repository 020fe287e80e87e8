"""Weight: the monthly question, a weight from `/settings`, and the dose question it may raise.

Every weight the patient gives goes into the history. The weight that sets the tablet count
(the plan's) changes by itself only when it leaves every count as it is; a change into
another band, or of the notice threshold or more (`treatment.weight`), says "ask your
clinician" and the count changes only when the patient says their clinician changed the dose
and confirms the weight table's new count.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.dialogue.choices import Choice
from bot.dialogue.conversation import Conversation
from bot.dialogue.messages import Reply
from bot.dialogue.turn import TurnContext
from bot.flows import weighin
from bot.flows.reminder import Wording, product_lines
from scheduler.preferences import Preferences
from storage.records import EnrolmentRecord, WeightSource
from treatment.doses import weight_moves_tablets
from treatment.enrolment import Enrolment
from treatment.plan import iter_slots
from treatment.weight import load_weight_bands

WEIGH = "weigh"
VERBS = frozenset({WEIGH})


def _kg(value: float) -> str:
    return format(value, "g")


async def last_weight(ctx: TurnContext, plan: Enrolment) -> float | None:
    """The weight the patient last gave; the plan's for a patient with no history yet."""
    weights = await ctx.store.measurements.weights(ctx.patient.id)
    return weights[-1].kg if weights else plan.weight_kg


async def weigh_in_offer(ctx: TurnContext, enrolment: EnrolmentRecord) -> Reply | None:
    """Offer the weight question when it is due: `ask_every_days` (0: never) after the set-up
    or the last time a weight was asked for or given (`Preferences.weight_asked_at`, which
    `take_weight` moves too), so the history is not read after every dose."""
    every = load_weight_bands().ask_every_days
    if every <= 0:
        return None
    now, prefs = ctx.now, Preferences.of(ctx.patient)
    since = max(enrolment.created_at, prefs.weight_asked_at or enrolment.created_at)
    if now - since < timedelta(days=every):
        return None
    fresh = await ctx.store.patients.get(ctx.patient.id)
    asked = replace(Preferences.of(fresh), weight_asked_at=now)
    await ctx.store.patients.update(asked.saved_into(fresh))
    t = ctx.t
    return Reply(
        t._("Time for the monthly weight check. May I ask your weight?"),
        (
            (
                Choice(t._("Yes, ask me"), WEIGH, "now"),
                Choice(t._("Skip this time"), WEIGH, "skip"),
            ),
        ),
    )


async def weigh_pick(ctx: TurnContext) -> list[Reply]:
    """The answer to the offer: the question now, or next month."""
    if ctx.picked.arg == "now":
        return await begin(ctx, WeightSource.WEIGH_IN)
    return [Reply(ctx.t._("All right. I'll ask again next month."), edit=True)]


async def begin(ctx: TurnContext, source: WeightSource) -> list[Reply]:
    last = await last_weight(ctx, ctx.enrolled.enrolment)
    turn = weighin.begin(
        ctx.now, ctx.patient.language, last, discreet=ctx.patient.discreet, source=source
    )
    return await ctx.begin(turn)


async def weight_flow(ctx: TurnContext) -> list[Reply]:
    turn = weighin.handle(ctx.asked, ctx.event, ctx.now)
    match turn.outcome:
        case None:
            return await ctx.begin(turn)
        case weighin.Weighed(None):
            await ctx.close()
            return [Reply(ctx.t._("All right. I'll ask again next month."))]
        case weighin.Weighed(float() as kg):
            source = WeightSource(ctx.asked.data.get("source", WeightSource.WEIGH_IN))
            return await take_weight(ctx, kg, source, ctx.asked)
        case weighin.ClinicianSaid(said, kg):
            return await clinician_said(ctx, said, kg)
        case weighin.Confirmed(kg, same_as_table):
            return await confirmed(ctx, kg, same_as_table=same_as_table)
    return []


async def take_weight(
    ctx: TurnContext, kg: float, source: WeightSource, conversation: Conversation | None = None
) -> list[Reply]:
    """Store a weight the patient gave.

    1. Compare it with the last weight they gave (`WeightBands.change`).
    2. The plan's weight follows when that changes no tablet count, or when the plan had no
       weight (then this is the first count, as at set-up).
    3. Otherwise the plan keeps its weight and the patient is asked what their clinician said.
    4. The weight, the plan, the next question and the time of the weighing (so the monthly
       question comes a month after it) are stored in one transaction.
    """
    t, patient, now = ctx.t, ctx.patient, ctx.now
    enrolment = ctx.enrolled
    plan = enrolment.enrolment
    last = await last_weight(ctx, plan)
    change = None if last is None else load_weight_bands().change(last, kg, plan.band_table)
    moves = plan.weight_kg is not None and weight_moves_tablets(plan, kg)
    ask = plan.weight_kg is not None and (moves or (change is not None and change.ask_clinician))
    base = conversation or Conversation(
        weighin.FLOW, "kg", {"language": patient.language, "discreet": patient.discreet}, now
    )
    follow = weighin.ask_clinician(base, now, kg) if ask else None
    async with ctx.store.transaction() as tx:
        await tx.measurements.add_weight(patient.id, kg, source)
        fresh = await tx.patients.get(patient.id)
        weighed = replace(Preferences.of(fresh), weight_asked_at=now)
        await tx.patients.update(weighed.saved_into(fresh))
        if not ask and plan.weight_kg != kg:
            await tx.enrolments.replace(patient.id, enrolment.id, replace(plan, weight_kg=kg))
            await ctx.app.engine.enrolled(tx, patient.id, now)
        await ctx.save(tx, follow)
    ctx.app.engine.poke()
    if follow is None:
        return [Reply(t._("Saved: {kg} kg. Thank you.", kg=_kg(kg)), sensitive=True)]
    pills = Wording.of(patient).pills(t)
    if change is not None and change.before_kg != kg:
        notice = t._(
            "Your weight has changed from {before} kg to {after} kg.",
            before=_kg(change.before_kg),
            after=_kg(kg),
        )
    else:
        notice = t._("Saved: {kg} kg. Thank you.", kg=_kg(kg))
    ask_text = (
        t._(
            "Please ask your doctor whether the number of {pills} should change. Until you "
            "tell me, I keep it as it is.",
            pills=pills,
        )
        if patient.discreet
        else t._(
            "Please ask your clinician whether your dose should change. Until you tell me, "
            "I keep your tablet count as it is."
        )
    )
    return [Reply(f"{notice}\n{ask_text}", sensitive=True), weighin.question(follow)]


async def clinician_said(ctx: TurnContext, said: weighin.Said, kg: float) -> list[Reply]:
    t = ctx.t
    if said is weighin.Said.CHANGED:
        plan = replace(ctx.enrolled.enrolment, weight_kg=kg)
        upcoming = next((s for s in iter_slots(plan) if s.utc >= ctx.now), None)
        products = () if upcoming is None else upcoming.products
        lines = [f"• {line}" for line in product_lines(t, products, Wording.of(ctx.patient))]
        return await ctx.begin(weighin.ask_confirm(ctx.asked, ctx.now, kg, lines))
    await ctx.close()
    if said is weighin.Said.KEPT:
        return [Reply(t._("Saved: your tablet count stays as it is."))]
    return [
        Reply(
            t._(
                "All right: your tablet count stays as it is. When you have asked, send "
                "/settings, choose Weight and type your weight again."
            )
        )
    ]


async def confirmed(ctx: TurnContext, kg: float, *, same_as_table: bool) -> list[Reply]:
    """The new count after an explicit yes: the plan's weight becomes `kg` and the reminders
    from now on show its count; a no keeps the count."""
    t, patient, enrolment, now = ctx.t, ctx.patient, ctx.enrolled, ctx.now
    if not same_as_table:
        await ctx.close()
        return [
            Reply(
                t._(
                    "Then I keep the count as it is. I can only show the counts of the weight "
                    "table: follow what your clinician told you, and ask them to write it down."
                )
            )
        ]
    plan = replace(enrolment.enrolment, weight_kg=kg)
    async with ctx.store.transaction() as tx:
        await tx.enrolments.replace(patient.id, enrolment.id, plan)
        await ctx.app.engine.enrolled(tx, patient.id, now)
        await ctx.save(tx)
    ctx.app.engine.poke()
    return [Reply(t._("Saved. Your reminders show the new count from the next dose."))]
