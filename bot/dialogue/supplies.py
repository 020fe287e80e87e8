"""Supplies: `/stock` (counts and purchases), the recount and refill notes after a dose, and
the counting behind them: which products a plan uses, how fast, and how long a count lasts.

How long a count lasts and when to buy more are the domain's (`treatment.stock.Balance`);
this module only reads the plan and the stored counts for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from bot.dialogue.alerts import queue_refill_notes
from bot.dialogue.messages import Reply
from bot.dialogue.turn import TurnContext
from bot.flows import stock
from bot.flows.reminder import Wording
from scheduler.doses import DoseSnapshot
from scheduler.preferences import Preferences
from storage.records import DoseSlot, EnrolmentRecord, Patient
from treatment.enrolment import Enrolment
from treatment.plan import DoseSlot as PlannedSlot
from treatment.plan import iter_slots, slots_between
from treatment.stock import MAX_TABLETS, Balance, Movement, tablets_by_product


def plan_supplies(plan: Enrolment, now: datetime) -> tuple[list[str], dict[str, float]]:
    """The products the plan uses now, in order, and the tablets of each used per day
    (averaged over the coming week, so weekly regimens count right too).

    "Now" is the coming week: a product of a phase still to come, or of one that is over, is
    not offered for counting. While nothing is due this week (a pause), the next dose's
    products are."""
    week: dict[str, float] = {}
    for planned in slots_between(plan, now, now + timedelta(days=7)):
        for product, tablets in planned_tablets(planned).items():
            week[product] = week.get(product, 0.0) + tablets
    if week:
        return list(week), {product: tablets / 7 for product, tablets in week.items()}
    upcoming = next((s for s in iter_slots(plan) if s.utc >= now), None)
    products = [] if upcoming is None else list(planned_tablets(upcoming))
    return products, {}


def planned_tablets(slot: PlannedSlot) -> dict[str, float]:
    """The tablets a planned dose uses, per product in the hand."""
    return tablets_by_product((p.name, p.tablets) for p in slot.products)


def tablets_of(slot: DoseSlot) -> dict[str, float]:
    """The tablets a stored slot's dose uses, per product."""
    return DoseSnapshot.of(slot).tablets()


def _balances(counts: Mapping[str, int]) -> dict[str, Balance]:
    # The stored counts are what the patient counted, less the doses since: never short.
    return {
        product: Balance(product, count, needs_recount=False) for product, count in counts.items()
    }


def days_left(counts: Mapping[str, int], per_day: Mapping[str, float]) -> dict[str, int | None]:
    """Whole days each count lasts at the current use; None for a product not used now."""
    return {
        product: balance.days_left(per_day.get(product, 0.0))
        for product, balance in _balances(counts).items()
    }


def running_low(
    counts: Mapping[str, int], per_day: Mapping[str, float], warn_days: int, among: Iterable[str]
) -> dict[str, int]:
    """The products among `among` whose count lasts `warn_days` or fewer at the current use,
    with the days each lasts (a product not used now never runs low)."""
    balances = _balances(counts)
    low: dict[str, int] = {}
    for product in sorted(among):
        balance = balances.get(product)
        use = per_day.get(product, 0.0)
        days = None if balance is None else balance.days_left(use)
        if balance is not None and days is not None and balance.refill_due(use, warn_days):
            low[product] = days
    return low


async def stock_command(ctx: TurnContext) -> list[Reply]:
    """`/stock`: what the patient has, and a count or a purchase to record."""
    products, per_day = plan_supplies(ctx.enrolled.enrolment, ctx.now)
    stored = await ctx.store.pill_stock.get(ctx.patient.id)
    counts = dict(stored.counts) if stored else {}
    left = days_left(counts, per_day)
    turn = stock.begin(
        ctx.now, ctx.patient.language, products, counts, left, Wording.of(ctx.patient)
    )
    return await ctx.begin(turn)


async def stock_flow(ctx: TurnContext) -> list[Reply]:
    turn = stock.handle(ctx.asked, ctx.event, ctx.now)
    if turn.outcome is None:
        return await ctx.begin(turn)
    return await restock(ctx, turn.outcome)


async def restock(ctx: TurnContext, change: stock.Change) -> list[Reply]:
    """Store a count or a purchase (never beyond `MAX_TABLETS`), forget the refill warnings
    given so far, and warn at once if the count is already low."""
    t, patient, enrolment = ctx.t, ctx.patient, ctx.enrolled
    async with ctx.store.transaction() as tx:
        stored = await tx.pill_stock.get(patient.id)
        counts = dict(stored.counts) if stored else {}
        total = counts.get(change.product, 0) + change.count if change.bought else change.count
        if total > MAX_TABLETS:
            await ctx.save(tx)
            return [
                Reply(
                    t._(
                        "That would make more than {max} tablets. Please check the number "
                        "and try again with /stock.",
                        max=MAX_TABLETS,
                    )
                )
            ]
        counts[change.product] = total
        movement = Movement.BOUGHT if change.bought else Movement.RECOUNT
        await tx.pill_stock.set(patient.id, counts, movement, touched={change.product})
        restocked = replace(Preferences.of(patient), stock_warned=frozenset()).saved_into(patient)
        await tx.patients.update(restocked)
        await ctx.save(tx)
    products, per_day = plan_supplies(enrolment.enrolment, ctx.now)
    wording = Wording.of(patient)
    lines = stock.status_lines(t, counts, days_left(counts, per_day), wording, products)
    saved = Reply("\n".join([t._("Saved. Your tablets:"), *lines]), sensitive=True)
    # A count already at or below the warning level is said now, not after the next dose.
    return [saved, *await refill_due(ctx, restocked, enrolment, {change.product})]


async def stock_notes(
    ctx: TurnContext, enrolment: EnrolmentRecord, slot: DoseSlot, short: set[str]
) -> list[Reply]:
    """After a dose: ask for a recount if it used tablets we did not know of; remind to
    buy more when a product will last `refill_warn_days` or less (once until restocked)."""
    if short:
        products, _ = plan_supplies(enrolment.enrolment, ctx.now)
        wording = Wording.of(ctx.patient)
        return [stock.ran_out_reply(ctx.t, wording, sorted(short), products)]
    return await refill_due(ctx, ctx.patient, enrolment, set(tablets_of(slot)))


async def refill_due(
    ctx: TurnContext, patient: Patient, enrolment: EnrolmentRecord, among: set[str]
) -> list[Reply]:
    """Remind to buy more when a product among `among` lasts `refill_warn_days` or less,
    once until it is restocked (and tell the helper if the patient asked for that)."""
    stored = await ctx.store.pill_stock.get(patient.id)
    if stored is None:
        return []
    products, per_day = plan_supplies(enrolment.enrolment, ctx.now)
    prefs = Preferences.of(patient)
    low = running_low(stored.counts, per_day, prefs.refill_warn_days, among - prefs.stock_warned)
    if not low:
        return []
    async with ctx.store.transaction() as tx:
        fresh = await tx.patients.get(patient.id)
        current = Preferences.of(fresh)
        warned = replace(current, stock_warned=current.stock_warned | prefs.stock_warned | set(low))
        await tx.patients.update(warned.saved_into(fresh))
        if prefs.refill_to_helper:
            await queue_refill_notes(tx, patient, ctx.now)
    wording = Wording.of(patient)
    return [
        stock.refill_reply(ctx.t, wording, product, days, products) for product, days in low.items()
    ]
