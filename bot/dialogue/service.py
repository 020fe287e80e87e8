"""The dialogue: one inbound event in, replies out, everything in between stored first.

Steps of `Dialogue.handle`:
1. Group chats get one polite sentence and nothing else is touched.
2. The sender is found through the blind index. A stranger can only `/start`; anything else,
   including a button from before `/forget`, gets "send /start".
3. A repeated delivery of the same update is dropped (its id is kept in the conversation).
4. Commands and dose buttons are handled directly; other picks and text go to the open
   conversation flow, if any.
5. Whatever a reply tells the patient is committed before the reply is returned, in one
   transaction with the conversation state, so a crash cannot tell them something untrue.

Button payloads are client input: every dose button is checked against the presser's own
slots (another patient's slot is "not found"), the slot's state (a second press of Taken
records nothing) and the time limits (no future doses, nothing older than three days).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from itertools import takewhile
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.dialogue import helpers as helper_desk
from bot.dialogue.alerts import alert_helpers, queue_refill_notes, who_was_told
from bot.dialogue.choices import CANCEL, OPT, Choice, Picked
from bot.dialogue.conversation import Conversation
from bot.dialogue.helpers import HelperDesk
from bot.dialogue.messages import Inbound, Kind, Reply
from bot.dialogue.outcomes import dose_label, settle_reminders
from bot.dialogue.records import RecordsDesk
from bot.dialogue.supplies import days_left, plan_supplies, running_low, tablets_of
from bot.flows import (
    forget,
    helpers,
    info,
    mood,
    onboarding,
    pause,
    report,
    settings,
    stock,
    symptom,
)
from bot.flows.milestones import milestone_replies
from bot.flows.progress import progress_reply
from bot.flows.reminder import SKIP, SNOOZE, SNOOZE_MINUTES, SYMPTOM, TAKEN, Wording
from bot.i18n import Translator, negotiate, translator
from scheduler.alerts import AlertKind
from scheduler.channels import ChannelRegistry
from scheduler.clock import Clock
from scheduler.compose import Composer
from scheduler.doses import SET_UP_NOTE, dose_json, treatment_events
from scheduler.outbox import Kind as OutboxKind
from scheduler.outbox import Payload
from storage.errors import NotFound, StaleWrite
from storage.records import (
    DoseOutcome,
    DoseSlot,
    EnrolmentRecord,
    NewDoseSlot,
    OutboxMessage,
    Patient,
    ReportedVia,
    SlotState,
    reminder_key,
)
from storage.store import Repositories, Store
from treatment.adherence import AdherenceSummary, summarise
from treatment.backfill import Earlier, EarlierDoses, not_taken
from treatment.enrolment import Enrolment, Pause, TimeChange, ZoneChange
from treatment.errors import TreatmentError
from treatment.mood import mood_rules
from treatment.plan import iter_slots, slots_between
from treatment.stock import (
    MAX_TABLETS,
    REFILL_WARNING_DAYS,
    use_tablets,
)

logger = logging.getLogger(__name__)

PARTY = "patient"
LATE = "late"
CHECKIN = "checkin"
VERBS = frozenset({OPT, CANCEL, TAKEN, SNOOZE, SKIP, SYMPTOM, LATE, CHECKIN})
OFFER_AGAIN_AFTER = timedelta(days=1)
LATE_DAYS = 3
OPEN_STATES = (SlotState.PENDING, SlotState.REMINDED)


def _is_start(event: Inbound) -> bool:
    return event.kind is Kind.COMMAND and event.command == "start"


class EnginePort(Protocol):
    """What the dialogue needs from the reminder engine."""

    async def enrolled(self, tx: Repositories, patient_id: str, now: datetime) -> None: ...

    async def snooze(
        self, tx: Repositories, patient_id: str, slot_id: str, until: datetime, now: datetime
    ) -> bool: ...

    def poke(self) -> None: ...


@dataclass
class _Turn:
    """What one event did: replies, and the conversation to store (None clears it)."""

    replies: list[Reply]
    conversation: Conversation | None


class Dialogue:
    verbs = VERBS | helper_desk.VERBS

    def __init__(
        self,
        store: Store,
        engine: EnginePort,
        clock: Clock,
        *,
        channels: ChannelRegistry,
        composer: Composer,
    ) -> None:
        self.store = store
        self.engine = engine
        self.clock = clock
        self.channels = channels
        self.composer = composer
        self.desk = HelperDesk(store, composer, clock, channels=channels, poke=engine.poke)
        self.records = RecordsDesk(store, channels)

    async def handle(self, event: Inbound) -> list[Reply]:
        now = self.clock.now()
        if not event.private:
            return [info.not_in_groups(translator(negotiate(event.language)))]
        if self.desk.claims(event):
            try:
                return await self.desk.handle(event)
            except StaleWrite:
                return [info.busy(translator(negotiate(event.language)))]
        identity = await self.store.identities.find(event.channel, event.user)
        if identity is None:
            if not _is_start(event) and await self.desk.roles(event):
                return [helper_desk.helper_help(translator(negotiate(event.language)))]
            return await self._stranger(event, now)
        patient = await self.store.patients.get(identity.patient_id)
        stored = await self.store.conversations.get(patient.id, PARTY)
        conversation = None
        version = None if stored is None else stored.version
        if stored is not None and stored.state:
            conversation = Conversation.from_dict(dict(stored.state))
            if conversation.expired(now):
                conversation = None
            elif event.update_ref and conversation.data.get("update") == event.update_ref:
                return []
        try:
            return await self._route(event, patient, conversation, version, now)
        except StaleWrite:
            return [info.busy(translator(patient.language))]

    async def sent(self, event: Inbound, reply: Reply, message_id: int) -> None:
        """In discreet mode, queue the deletion of a message with health details, where the
        channel can delete messages.

        The deletion is an outbox row, so it happens even if this process restarts before the
        delay is over.
        """
        if not reply.sensitive or not self.channels[event.channel].deletes:
            return
        identity = await self.store.identities.find(event.channel, event.user)
        if identity is None:
            return
        patient = await self.store.patients.get(identity.patient_id)
        minutes = int(patient.preferences.get("delete_after_minutes") or 0)
        if not patient.discreet or minutes <= 0:
            return
        await self.store.outbox.enqueue(
            OutboxMessage(
                patient_id=patient.id,
                recipient=PARTY,
                kind=OutboxKind.CLEANUP.value,
                payload=Payload.delete(message_id).to_dict(),
                dedupe_key=f"cleanup:{identity.id}:{message_id}",
                not_before=self.clock.now() + timedelta(minutes=minutes),
                priority=int(OutboxKind.CLEANUP.priority),
            )
        )

    # --- strangers ----------------------------------------------------------------------------

    async def _stranger(self, event: Inbound, now: datetime) -> list[Reply]:
        language = negotiate(event.language)
        if not (event.kind is Kind.COMMAND and event.command == "start"):
            return [info.start_first(translator(language))]
        turn = onboarding.begin(now, event.language)
        async with self.store.transaction() as tx:
            patient = await tx.patients.create(
                alias="", language=language, time_zone="UTC", discreet=True
            )
            await tx.identities.link(patient.id, event.channel, event.user, event.chat)
            await self._save(tx, patient.id, turn.conversation, None, event)
        return turn.replies

    # --- routing ------------------------------------------------------------------------------

    async def _route(
        self,
        event: Inbound,
        patient: Patient,
        conversation: Conversation | None,
        version: int | None,
        now: datetime,
    ) -> list[Reply]:
        t = translator(patient.language)
        enrolment = await self._enrolment(patient.id)
        if event.kind is Kind.UNSUPPORTED:
            return [info.unsupported(t)]
        if event.kind is Kind.COMMAND:
            return await self._command(event, patient, enrolment, conversation, version, now)
        pick = event.pick
        if event.kind is Kind.PICK and pick is not None and pick.verb == CHECKIN:
            if pick.arg == "now":
                return await self._begin(
                    mood.begin(now, patient.language, patient.time_zone, discreet=patient.discreet),
                    patient,
                    version,
                    event,
                )
            return [Reply(t._("All right. I'm here whenever you want to talk."), edit=True)]
        if (
            event.kind is Kind.PICK
            and pick is not None
            and pick.verb in (TAKEN, SNOOZE, SKIP, LATE, SYMPTOM)
        ):
            if enrolment is None:
                return [info.not_enrolled(t)]
            return await self._dose_button(event, pick, patient, enrolment, version, now)
        if conversation is None:
            if event.kind is Kind.PICK:
                return [info.expired_question(t)]
            if enrolment is None:
                return [info.not_enrolled(t)]
            return [info.not_understood(t)]
        return await self._continue(event, patient, enrolment, conversation, version, now)

    async def _enrolment(self, patient_id: str) -> EnrolmentRecord | None:
        active = await self.store.enrolments.active(patient_id)
        return active[-1] if active else None

    async def _command(
        self,
        event: Inbound,
        patient: Patient,
        enrolment: EnrolmentRecord | None,
        conversation: Conversation | None,
        version: int | None,
        now: datetime,
    ) -> list[Reply]:
        t = translator(patient.language)
        name = event.command
        if name == "help":
            if await self.desk.roles(event):  # also someone's helper: their commands too
                return [info.help_reply(t), helper_desk.helper_help(t)]
            return [info.help_reply(t)]
        if name == "privacy":
            return [info.privacy_reply(t)]
        if name == "cancel":
            await self._store_turn(patient.id, _Turn([], None), version, event)
            return [Reply(t._("Stopped. Nothing else changed."))]
        if name == "forget":
            return await self._begin(forget.begin(now, patient.language), patient, version, event)
        if name == "start":
            if enrolment is not None:
                return [
                    Reply(t._("You are already set up, {alias}.", alias=patient.alias)),
                    info.help_reply(t),
                ]
            return await self._begin(
                onboarding.begin(now, event.language or patient.language), patient, version, event
            )
        if enrolment is None:
            return [info.not_enrolled(t)] if name in info.COMMANDS else [info.unknown_command(t)]
        if name == "helper":
            async with self.store.transaction() as tx:
                menu = await self.desk.menu(tx, patient, now)
            return await self._begin(menu, patient, version, event)
        if name == "taken":
            return await self._taken_latest(event, patient, version, now)
        if name == "late":
            return await self._late_list(patient, t, now)
        if name == "symptom":
            return await self._begin(
                self._symptom_begin(patient, enrolment, now), patient, version, event
            )
        if name == "progress":
            return [
                await self._progress(patient, enrolment, now),
                await self.records.calendar(event, patient, enrolment, now),
            ]
        if name == "report":
            return await self._begin(
                await self.records.report_begin(patient, now), patient, version, event
            )
        if name == "export":
            return await self.records.export(event, patient, enrolment, now)
        if name == "stock":
            products, per_day = plan_supplies(enrolment.enrolment, now)
            stored = await self.store.pill_stock.get(patient.id)
            counts = dict(stored.counts) if stored else {}
            return await self._begin(
                stock.begin(
                    now,
                    patient.language,
                    products,
                    counts,
                    days_left(counts, per_day),
                    Wording.of(patient),
                ),
                patient,
                version,
                event,
            )
        if name == "mood":
            return await self._begin(
                mood.begin(now, patient.language, patient.time_zone, discreet=patient.discreet),
                patient,
                version,
                event,
            )
        if name == "settings":
            doses = len(enrolment.enrolment.times)
            return await self._begin(
                settings.begin(now, patient.language, doses), patient, version, event
            )
        if name == "pause":
            if enrolment.enrolment.open_pause() is not None:
                return [
                    Reply(t._("Reminders are already paused. Send /resume to start them again."))
                ]
            return await self._begin(pause.begin(now, patient.language), patient, version, event)
        if name == "resume":
            return await self._resume(patient, enrolment, version, event, now)
        return [info.unknown_command(t)]

    async def _begin(
        self, turn: Any, patient: Patient, version: int | None, event: Inbound
    ) -> list[Reply]:
        """Store a flow's next state (starting or continuing it) and return its replies."""
        await self._store_turn(patient.id, _Turn(turn.replies, turn.conversation), version, event)
        return list(turn.replies)

    # --- conversations ------------------------------------------------------------------------

    async def _continue(
        self,
        event: Inbound,
        patient: Patient,
        enrolment: EnrolmentRecord | None,
        conversation: Conversation,
        version: int | None,
        now: datetime,
    ) -> list[Reply]:
        flow = conversation.flow
        if flow == onboarding.FLOW:
            done = onboarding.handle(conversation, event, now)
            if done.setup is not None:
                return await self._enrol(patient, done.setup, done.replies, version, event, now)
            if done.conversation is None and enrolment is None:
                # Cancelled or declined before confirming: nothing of theirs may remain.
                await self.store.forget(patient.id)
                return done.replies
            return await self._begin(done, patient, version, event)
        if flow == symptom.FLOW:
            turn = symptom.handle(conversation, event, now)
            if turn.report is not None:
                return await self._report(patient, turn.report, turn.replies, version, event, now)
            return await self._begin(turn, patient, version, event)
        if flow == mood.FLOW:
            mood_turn = mood.handle(conversation, event, now)
            if mood_turn.result is not None:
                return await self._screened(
                    patient, mood_turn.result, mood_turn.replies, version, event, now
                )
            return await self._begin(mood_turn, patient, version, event)
        if enrolment is None:
            await self._store_turn(patient.id, _Turn([], None), version, event)
            return [info.not_enrolled(translator(patient.language))]
        if flow == helpers.FLOW:
            helper_turn = helpers.handle(conversation, event, now)
            if helper_turn.change is not None:
                return await self._helper_change(patient, helper_turn.change, version, event, now)
            return await self._begin(helper_turn, patient, version, event)
        if flow == settings.FLOW:
            set_turn = settings.handle(conversation, event, now)
            if set_turn.change is not None:
                return await self._apply_setting(
                    patient, enrolment, set_turn.change, version, event, now
                )
            return await self._begin(set_turn, patient, version, event)
        if flow == pause.FLOW:
            pause_turn = pause.handle(conversation, event, now)
            if pause_turn.reason is not None:
                return await self._pause(patient, enrolment, pause_turn.reason, version, event, now)
            return await self._begin(pause_turn, patient, version, event)
        if flow == stock.FLOW:
            stock_turn = stock.handle(conversation, event, now)
            if stock_turn.change is not None:
                return await self._restock(
                    patient, enrolment, stock_turn.change, version, event, now
                )
            return await self._begin(stock_turn, patient, version, event)
        if flow == report.FLOW:
            report_turn = report.handle(conversation, event, now)
            if report_turn.request is not None:
                return await self._clinician_report(
                    event, patient, enrolment, report_turn.request, version, now
                )
            return await self._begin(report_turn, patient, version, event)
        if flow == forget.FLOW:
            forget_turn = forget.handle(conversation, event, now)
            if forget_turn.erase:
                await self.store.forget(patient.id)
                logger.info("patient erased on request")
                return [forget.erased_reply(patient.language)]
            return await self._begin(forget_turn, patient, version, event)
        await self._store_turn(patient.id, _Turn([], None), version, event)
        return [info.expired_question(translator(patient.language))]

    async def _store_turn(
        self, patient_id: str, turn: _Turn, version: int | None, event: Inbound
    ) -> None:
        async with self.store.transaction() as tx:
            await self._save(tx, patient_id, turn.conversation, version, event)

    async def _save(
        self,
        tx: Repositories,
        patient_id: str,
        conversation: Conversation | None,
        version: int | None,
        event: Inbound,
    ) -> None:
        """Store the conversation (an empty state when none is open), remembering the update
        id so a second delivery of the same update is recognised."""
        state: dict[str, Any] = {}
        if conversation is not None:
            state = conversation.to_dict()
            state["data"] = {**state["data"], "update": event.update_ref}
        elif event.update_ref:
            state = Conversation("idle", "idle", {"update": event.update_ref}).to_dict()
        await tx.conversations.save(patient_id, state, party=PARTY, expected_version=version)

    # --- outcomes of flows --------------------------------------------------------------------

    async def _enrol(
        self,
        patient: Patient,
        setup: onboarding.Setup,
        replies: list[Reply],
        version: int | None,
        event: Inbound,
        now: datetime,
    ) -> list[Reply]:
        today = now.astimezone(ZoneInfo(setup.zone)).date()
        try:
            plan = onboarding.to_enrolment(setup, today)
        except TreatmentError as exc:
            logger.warning("onboarding refused by the treatment engine: %s", exc.code)
            t = translator(setup.language)
            return [
                Reply(t._("Something in the plan did not fit. Please send /start and try again."))
            ]
        profile = replace(
            patient,
            alias=setup.alias,
            language=setup.language,
            time_zone=setup.zone,
            discreet=setup.discreet,
            preferences={**patient.preferences, "cover_word": setup.cover_word},
        )
        async with self.store.transaction() as tx:
            await tx.patients.update(profile)
            record = await tx.enrolments.add(patient.id, plan)
            await self._count_earlier_doses(tx, patient.id, record.id, plan, now, setup.earlier)
            await self.engine.enrolled(tx, patient.id, now)
            await self._save(tx, patient.id, None, version, event)
        self.engine.poke()
        return replies

    async def _count_earlier_doses(
        self,
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
            [
                NewDoseSlot(due_at=s.utc, window_ends_at=s.utc, dose=dose_json(s, []))
                for s in earlier
            ],
        )
        for planned, slot in zip(earlier, stored, strict=True):
            outcome = DoseOutcome.MISSED if planned.key in missed else DoseOutcome.TAKEN
            await tx.doses.record(
                patient_id, slot.id, outcome, ReportedVia.TEXT, reported_at=now, note=SET_UP_NOTE
            )

    def _symptom_begin(
        self, patient: Patient, enrolment: EnrolmentRecord, now: datetime
    ) -> symptom.Turn:
        upcoming = next(
            slots_between(enrolment.enrolment, now - timedelta(days=2), now + timedelta(days=7)),
            None,
        )
        drugs = (
            [d.name for d in upcoming.drugs]
            if upcoming is not None
            else [d.name for phase in enrolment.enrolment.regimen().phases for d in phase.drugs]
        )
        told = bool(patient.preferences.get("contraception_told"))
        return symptom.begin(now, patient.language, drugs, contraception_told=told)

    async def _report(
        self,
        patient: Patient,
        report: symptom.Report,
        replies: list[Reply],
        version: int | None,
        event: Inbound,
        now: datetime,
    ) -> list[Reply]:
        triage = report.triage
        follow_up = (
            None if triage.recheck_days is None else now + timedelta(days=triage.recheck_days)
        )
        async with self.store.transaction() as tx:
            stored = await tx.side_effects.add(
                patient.id,
                symptoms=[s for s, _ in report.symptoms],
                level=triage.level.name.lower(),
                free_text=report.free_text,
                follow_up_at=follow_up,
            )
            if "contraception" in triage.advice:
                await tx.patients.update(
                    replace(
                        patient, preferences={**patient.preferences, "contraception_told": True}
                    )
                )
            told = None
            if triage.alert_helper:
                symptoms = {"symptoms": [s for s, _ in report.symptoms]}
                incident = await alert_helpers(
                    tx, self.composer, patient, AlertKind.RED_FLAG, stored.id, now, symptoms
                )
                told = await who_was_told(tx, patient, incident)
            await self._save(tx, patient.id, None, version, event)
        return [*replies, *([told] if told else [])]

    async def _screened(
        self,
        patient: Patient,
        result: mood.Result,
        replies: list[Reply],
        version: int | None,
        event: Inbound,
        now: datetime,
    ) -> list[Reply]:
        async with self.store.transaction() as tx:
            screening = await tx.mood.add(
                patient.id,
                instrument=result.instrument,
                answers=list(result.answers),
                score=result.score,
            )
            told = None
            if result.crisis:
                incident = await alert_helpers(
                    tx, self.composer, patient, AlertKind.CRISIS, screening.id, now
                )
                told = await who_was_told(tx, patient, incident)
            await self._save(tx, patient.id, None, version, event)
        return [*replies, *([told] if told else [])]

    async def _helper_change(
        self,
        patient: Patient,
        change: helpers.Change,
        version: int | None,
        event: Inbound,
        now: datetime,
    ) -> list[Reply]:
        async with self.store.transaction() as tx:
            replies, menu = await self.desk.apply(
                tx, patient, change, now, self.channels[event.channel]
            )
            await self._save(
                tx, patient.id, None if menu is None else menu.conversation, version, event
            )
        self.engine.poke()
        return [*replies, *(menu.replies if menu is not None else [])]

    async def _apply_setting(
        self,
        patient: Patient,
        enrolment: EnrolmentRecord,
        change: settings.Change,
        version: int | None,
        event: Inbound,
        now: datetime,
    ) -> list[Reply]:
        value = change.value
        profile = patient
        plan = enrolment.enrolment
        tomorrow = now.astimezone(ZoneInfo(patient.time_zone)).date() + timedelta(days=1)
        prefs = dict(patient.preferences)
        replan = False
        notes: list[str] = []
        if change.setting == "language":
            profile = replace(patient, language=value)
        elif change.setting == "discreet":
            profile = replace(patient, discreet=value["discreet"])
            prefs["cover_word"] = value["cover_word"]
        elif change.setting in ("nudges", "quiet_hours", "delete_after_minutes"):
            prefs[change.setting] = value
            replan = True
        elif change.setting == "mood_every_days":
            prefs[change.setting] = value
        elif change.setting == "refill":
            prefs.update(value)
            prefs.pop("stock_warned", None)
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
            if old is not None and abs(old - value) >= 5:
                notes.append("weight")
        profile = replace(profile, preferences=prefs)
        async with self.store.transaction() as tx:
            await tx.patients.update(profile)
            if plan is not enrolment.enrolment:
                await tx.enrolments.replace(patient.id, enrolment.id, plan)
            if replan:
                await self.engine.enrolled(tx, patient.id, now)
            await self._save(tx, patient.id, None, version, event)
        self.engine.poke()
        t = translator(profile.language)
        replies = [Reply(t._("Saved."))]
        if change.setting in ("zone", "times"):
            replies = [Reply(t._("Saved. This applies from tomorrow."))]
        if notes:
            replies.append(
                Reply(
                    t._(
                        "Your weight has changed. Please ask a clinician whether your dose changes."
                    )
                )
            )
        return replies

    async def _pause(
        self,
        patient: Patient,
        enrolment: EnrolmentRecord,
        reason: str,
        version: int | None,
        event: Inbound,
        now: datetime,
    ) -> list[Reply]:
        today = now.astimezone(ZoneInfo(patient.time_zone)).date()
        plan = enrolment.enrolment.with_pause(Pause(today))
        prefs = {**patient.preferences, "pause_reason": reason}
        async with self.store.transaction() as tx:
            await tx.enrolments.replace(patient.id, enrolment.id, plan)
            await tx.patients.update(replace(patient, preferences=prefs))
            await self.engine.enrolled(tx, patient.id, now)
            await self._save(tx, patient.id, None, version, event)
        return [pause.paused_reply(patient.language, reason, discreet=patient.discreet)]

    async def _resume(
        self,
        patient: Patient,
        enrolment: EnrolmentRecord,
        version: int | None,
        event: Inbound,
        now: datetime,
    ) -> list[Reply]:
        t = translator(patient.language)
        if enrolment.enrolment.open_pause() is None:
            return [Reply(t._("Reminders are on; nothing is paused."))]
        today = now.astimezone(ZoneInfo(patient.time_zone)).date()
        plan = enrolment.enrolment.resumed(today)
        prefs = {k: v for k, v in patient.preferences.items() if k != "pause_reason"}
        async with self.store.transaction() as tx:
            await tx.enrolments.replace(patient.id, enrolment.id, plan)
            await tx.patients.update(replace(patient, preferences=prefs))
            await self.engine.enrolled(tx, patient.id, now)
            await self._save(tx, patient.id, None, version, event)
        self.engine.poke()
        return [pause.resumed_reply(patient.language)]

    async def _summary(
        self,
        patient_id: str,
        enrolment: EnrolmentRecord,
        now: datetime,
        *,
        without_event: str | None = None,
    ) -> AdherenceSummary:
        """Dose counting as of `now`; `without_event` leaves one recorded event out (to see
        what a dose just recorded changed)."""
        since = datetime.combine(enrolment.enrolment.start, time.min, tzinfo=UTC) - timedelta(
            days=1
        )
        slots = await self.store.doses.slots_between(patient_id, since, now + timedelta(days=1))
        events = [e for e in await self.store.doses.events(patient_id) if e.id != without_event]
        return summarise(enrolment.enrolment, treatment_events(slots, events), now)

    async def _clinician_report(
        self,
        event: Inbound,
        patient: Patient,
        enrolment: EnrolmentRecord,
        request: report.Request,
        version: int | None,
        now: datetime,
    ) -> list[Reply]:
        """The report as asked; a copy queued for a helper is committed with the end of the
        question, before the patient is told it is on its way."""
        replies, row = await self.records.report(event, patient, enrolment, request, now)
        async with self.store.transaction() as tx:
            if row is not None:
                await tx.outbox.enqueue(row)
            await self._save(tx, patient.id, None, version, event)
        self.engine.poke()
        return replies

    async def _progress(self, patient: Patient, enrolment: EnrolmentRecord, now: datetime) -> Reply:
        summary = await self._summary(patient.id, enrolment, now)
        screenings = await self.store.mood.for_patient(patient.id)
        moods = [
            (s.recorded_at.astimezone(ZoneInfo(patient.time_zone)).date(), s.instrument, s.score)
            for s in screenings[-3:]
        ]
        upcoming = await self._next_pending(patient, now)
        return progress_reply(
            translator(patient.language),
            summary,
            patient.time_zone,
            moods,
            next_dose=upcoming.dose if upcoming else None,
            wording=Wording.of(patient),
        )

    async def _next_pending(self, patient: Patient, now: datetime) -> DoseSlot | None:
        """The next dose still to come, as planned (its sealed dose names its products)."""
        upcoming = await self.store.doses.slots_between(patient.id, now, now + timedelta(days=8))
        return next((s for s in upcoming if s.state is SlotState.PENDING), None)

    async def _after_taken(
        self, patient: Patient, enrolment: EnrolmentRecord, event_id: str, now: datetime
    ) -> list[Reply]:
        """What a taken dose earns: a milestone message, if it crossed one."""
        t = translator(patient.language)
        before = await self._summary(patient.id, enrolment, now, without_event=event_id)
        after = await self._summary(patient.id, enrolment, now)
        plan = enrolment.enrolment
        week_end = plan.start + timedelta(days=7)
        first_week = sum(1 for _ in takewhile(lambda s: s.local_date < week_end, iter_slots(plan)))
        upcoming = await self._next_pending(patient, now)
        return milestone_replies(
            t,
            before,
            after,
            first_week_doses=first_week,
            next_dose=upcoming.dose if upcoming else None,
            wording=Wording.of(patient),
        )

    async def _checkin_offer(
        self, patient: Patient, enrolment: EnrolmentRecord, now: datetime
    ) -> Reply | None:
        """Offer the mood check-in when it is due: within the first week of tracking (from the
        second day, not on the day of set-up), then every `mood_every_days` (0: never), never
        more than once a day."""
        every = int(patient.preferences.get("mood_every_days", mood_rules().every_days))
        if every <= 0:
            return None
        offered = patient.preferences.get("mood_offered_at")
        if offered and now - datetime.fromisoformat(str(offered)) < OFFER_AGAIN_AFTER:
            return None
        screenings = await self.store.mood.for_patient(patient.id)
        if screenings:
            due = now - screenings[-1].recorded_at >= timedelta(days=every)
        else:
            due = now - enrolment.created_at >= timedelta(days=1)
        if not due:
            return None
        # Read again: notes written after this dose (a refill warning) are in the stored record.
        fresh = await self.store.patients.get(patient.id)
        prefs = {**fresh.preferences, "mood_offered_at": now.isoformat()}
        await self.store.patients.update(replace(fresh, preferences=prefs))
        t = translator(patient.language)
        return Reply(
            t._("How have you been feeling lately? I'd like to ask two short questions."),
            (
                (
                    Choice(t._("Yes, ask me"), CHECKIN, "now"),
                    Choice(t._("Not now"), CHECKIN, "later"),
                ),
            ),
        )

    # --- dose buttons and commands ------------------------------------------------------------

    async def _dose_button(
        self,
        event: Inbound,
        pick: Picked,
        patient: Patient,
        enrolment: EnrolmentRecord,
        version: int | None,
        now: datetime,
    ) -> list[Reply]:
        t = translator(patient.language)
        slot_id, _, minutes = pick.arg.partition(".")
        try:
            slot = await self.store.doses.slot(patient.id, slot_id)
        except NotFound:
            return [Reply(t._("That button is no longer valid."))]
        if pick.verb == SYMPTOM:
            return await self._begin(
                self._symptom_begin(patient, enrolment, now), patient, version, event
            )
        if pick.verb == SNOOZE:
            return await self._snooze(patient, slot, minutes, version, event, now)
        outcome = DoseOutcome.MISSED if pick.verb == SKIP else DoseOutcome.TAKEN
        via = ReportedVia.BUTTON
        return await self._record(
            patient, slot, outcome, via, version, event, now, edit=pick.verb != LATE
        )

    async def _record(
        self,
        patient: Patient,
        slot: DoseSlot,
        outcome: DoseOutcome,
        via: ReportedVia,
        version: int | None,
        event: Inbound,
        now: datetime,
        *,
        edit: bool,
    ) -> list[Reply]:
        """Record one dose, once.

        1. A dose that is not due yet, or due more than three days ago, is refused.
        2. A dose already recorded as taken stays so: a second press records nothing.
        3. The slot moves on only if nobody else moved it since it was read (a conditional
           update), so two presses at the same moment record one event.
        """
        t = translator(patient.language)
        label = dose_label(t, slot, patient.time_zone)
        if slot.due_at > now + timedelta(minutes=30):
            return [Reply(t._("That dose is not due yet."))]
        if slot.due_at < now - timedelta(days=LATE_DAYS):
            return [Reply(t._("That dose is more than 3 days old and can no longer be changed."))]
        if slot.state is SlotState.TAKEN:
            return [Reply(t._("{dose}: already recorded as taken ✓", dose=label), edit=edit)]
        async with self.store.transaction() as tx:
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
                counts, short = use_tablets(stocked.counts, tablets_of(slot))
                await tx.pill_stock.set(patient.id, counts)
            if outcome is not DoseOutcome.TAKEN or slot.state is SlotState.MISSED:
                # A missed dose, or one taken after its window closed, moves the phase
                # boundary; the pending slots must show the drugs of the phase they fall in.
                await self.engine.enrolled(tx, patient.id, now)
            if outcome is DoseOutcome.TAKEN:
                late = now > slot.window_ends_at
                outcome_line = (
                    t._("{dose}: taken late ✓", dose=label)
                    if late
                    else t._("{dose}: taken ✓", dose=label)
                )
                text = (
                    outcome_line
                    + "\n"
                    + (t._("Thank you for telling me.") if late else t._("Well done!"))
                )
            else:
                outcome_line = t._("{dose}: not taken", dose=label)
                text = (
                    outcome_line
                    + "\n"
                    + t._(
                        "Take your next dose at the usual time. Each missed dose adds a day at the "
                        "end, so treatment still works."
                    )
                )
            # The reminder and nudges of this dose still on screen lose their buttons.
            pressed = event.message_ref if edit else None
            await settle_reminders(tx, patient.id, slot.id, outcome_line, now, pressed=pressed)
            await self._save(tx, patient.id, None, version, event)
        self.engine.poke()
        replies = [Reply(text, edit=edit)]
        enrolment = await self._enrolment(patient.id)
        if enrolment is None:
            return replies
        if outcome is DoseOutcome.TAKEN:
            replies.extend(await self._after_taken(patient, enrolment, recorded.id, now))
            replies.extend(await self._stock_notes(patient, enrolment, slot, short, now))
        # The check-in is offered after "not today" too: low mood and missed doses go together,
        # and a patient who stops taking doses must not stop being asked how they are.
        offer = await self._checkin_offer(patient, enrolment, now)
        return [*replies, *([offer] if offer else [])]

    async def _restock(
        self,
        patient: Patient,
        enrolment: EnrolmentRecord,
        change: stock.Change,
        version: int | None,
        event: Inbound,
        now: datetime,
    ) -> list[Reply]:
        t = translator(patient.language)
        async with self.store.transaction() as tx:
            stored = await tx.pill_stock.get(patient.id)
            counts = dict(stored.counts) if stored else {}
            total = counts.get(change.product, 0) + change.count if change.bought else change.count
            if total > MAX_TABLETS:
                await self._save(tx, patient.id, None, version, event)
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
            await tx.pill_stock.set(patient.id, counts)
            prefs = dict(patient.preferences)
            prefs.pop("stock_warned", None)
            await tx.patients.update(replace(patient, preferences=prefs))
            await self._save(tx, patient.id, None, version, event)
        products, per_day = plan_supplies(enrolment.enrolment, now)
        wording = Wording.of(patient)
        lines = stock.status_lines(t, counts, days_left(counts, per_day), wording, products)
        saved = Reply("\n".join([t._("Saved. Your tablets:"), *lines]), sensitive=True)
        # A count already at or below the warning level is said now, not after the next dose.
        restocked = replace(patient, preferences=prefs)
        return [saved, *await self._refill_due(restocked, enrolment, {change.product}, now)]

    async def _stock_notes(
        self,
        patient: Patient,
        enrolment: EnrolmentRecord,
        slot: DoseSlot,
        short: set[str],
        now: datetime,
    ) -> list[Reply]:
        """After a dose: ask for a recount if it used tablets we did not know of; remind to
        buy more when a product will last `refill_warn_days` or less (once until restocked)."""
        if short:
            products, _ = plan_supplies(enrolment.enrolment, now)
            t = translator(patient.language)
            return [stock.ran_out_reply(t, Wording.of(patient), sorted(short), products)]
        return await self._refill_due(patient, enrolment, set(tablets_of(slot)), now)

    async def _refill_due(
        self, patient: Patient, enrolment: EnrolmentRecord, among: set[str], now: datetime
    ) -> list[Reply]:
        """Remind to buy more when a product among `among` lasts `refill_warn_days` or less,
        once until it is restocked (and tell the helper if the patient asked for that)."""
        stored = await self.store.pill_stock.get(patient.id)
        if stored is None:
            return []
        products, per_day = plan_supplies(enrolment.enrolment, now)
        warn = int(patient.preferences.get("refill_warn_days", REFILL_WARNING_DAYS))
        warned = set(patient.preferences.get("stock_warned") or [])
        low = running_low(stored.counts, per_day, warn, among - warned)
        if not low:
            return []
        prefs = {**patient.preferences, "stock_warned": sorted(warned | set(low))}
        async with self.store.transaction() as tx:
            fresh = await tx.patients.get(patient.id)
            await tx.patients.update(replace(fresh, preferences={**fresh.preferences, **prefs}))
            if patient.preferences.get("refill_to_helper"):
                await queue_refill_notes(tx, patient, now)
        t = translator(patient.language)
        wording = Wording.of(patient)
        return [
            stock.refill_reply(t, wording, product, days, products) for product, days in low.items()
        ]

    async def _snooze(
        self,
        patient: Patient,
        slot: DoseSlot,
        minutes: str,
        version: int | None,
        event: Inbound,
        now: datetime,
    ) -> list[Reply]:
        t = translator(patient.language)
        if (
            not minutes.isdigit()
            or int(minutes) not in SNOOZE_MINUTES
            or slot.state not in OPEN_STATES
        ):
            return [Reply(t._("That dose can no longer be snoozed."), edit=True)]
        until = now + timedelta(minutes=int(minutes))
        async with self.store.transaction() as tx:
            ok = await self.engine.snooze(tx, patient.id, slot.id, until, now)
            await self._save(tx, patient.id, None, version, event)
        if not ok:
            return [Reply(t._("That dose can no longer be snoozed."), edit=True)]
        self.engine.poke()
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

    async def _open_slots(self, patient: Patient, now: datetime) -> list[DoseSlot]:
        recent = await self.store.doses.slots_between(
            patient.id, now - timedelta(days=LATE_DAYS), now + timedelta(minutes=1)
        )
        return [
            s
            for s in recent
            if s.due_at <= now
            and s.state is not SlotState.TAKEN
            and s.state is not SlotState.CANCELLED
        ]

    async def _taken_latest(
        self, event: Inbound, patient: Patient, version: int | None, now: datetime
    ) -> list[Reply]:
        t = translator(patient.language)
        candidates = [
            s
            for s in await self._open_slots(patient, now)
            if s.state in OPEN_STATES and now <= s.window_ends_at
        ]
        if not candidates:
            return [Reply(t._("No dose is open right now. To record an earlier dose, send /late."))]
        return await self._record(
            patient,
            candidates[-1],
            DoseOutcome.TAKEN,
            ReportedVia.TEXT,
            version,
            event,
            now,
            edit=False,
        )

    async def _late_list(self, patient: Patient, t: Translator, now: datetime) -> list[Reply]:
        slots = await self._open_slots(patient, now)
        if not slots:
            return [Reply(t._("Every dose of the last 3 days is recorded as taken."))]
        zone = ZoneInfo(patient.time_zone)
        rows = tuple((Choice(t.moment(s.due_at.astimezone(zone)), LATE, s.id),) for s in slots[-8:])
        return [
            Reply(
                t._("Which dose did you take? Doses of the last 3 days not recorded as taken:"),
                rows,
            )
        ]
