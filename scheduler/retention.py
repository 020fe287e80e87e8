"""The retention rule: a patient's data is erased a set time after their treatment ends, or
after a long silence, whichever comes first, and never without telling them first.

The operator sets the periods (`RetentionPolicy`, from ``TBBOT_RETENTION_*``); the privacy
text states them (`bot.flows.retention`). Counted in UTC days:

- the silence rule: `after_silence` after the last day the patient wrote;
- the end rule: `after_treatment` after the day the treatment ended (its last dose, once every
  dose is counted), or after the last day the patient asked to keep their data, if later.

`decide` is the rule itself, over plain facts and a day; `Retention` runs it for the patients
whose time has come (``patients.retention_at``, an indexed instant), a batch at a time:

1. No notice outstanding: once the erase day is at most `notice` away, the patient is told the
   day (at least `notice` from now) with a button to keep their data; otherwise the rule looks
   again when that time comes (or after `RELOOK`, so a treatment that ends sooner than planned
   is seen).
2. Notice outstanding: if the erase day has moved past the announced one (they wrote again,
   or pressed "Keep my data"), the notice is over; otherwise, on the announced day, the
   patient is forgotten (`scheduler.forgetting`: what their helpers were sent goes too) and
   told so in a last message.

Several workers may run it at once: the notice's dedupe key sends it once, and a patient
already forgotten by another worker is skipped.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Protocol

from scheduler.channels import ChannelRegistry
from scheduler.clock import Clock
from scheduler.doses import treatment_events
from scheduler.forgetting import forget_patient, nap
from scheduler.outbox import Kind as OutboxKind
from scheduler.outbox import Payload
from storage.errors import NotFound
from storage.records import PATIENT, OutboxMessage, Patient
from storage.repositories.retention import RetentionState
from storage.store import Store
from treatment.adherence import summarise

log = logging.getLogger(__name__)

DEFAULT_AFTER_TREATMENT_DAYS = 365
DEFAULT_AFTER_SILENCE_DAYS = 180
DEFAULT_NOTICE_DAYS = 14
RELOOK = timedelta(days=30)


@dataclass(frozen=True)
class RetentionPolicy:
    """The operator's periods; None switches a rule off."""

    after_treatment: timedelta | None = timedelta(days=DEFAULT_AFTER_TREATMENT_DAYS)
    after_silence: timedelta | None = timedelta(days=DEFAULT_AFTER_SILENCE_DAYS)
    notice: timedelta = timedelta(days=DEFAULT_NOTICE_DAYS)

    def __post_init__(self) -> None:
        if self.notice < timedelta(days=1):
            raise ValueError("the notice before erasing must be at least one day")
        for period in (self.after_treatment, self.after_silence):
            if period is not None and period <= self.notice:
                raise ValueError("each retention period must be longer than the notice")

    @classmethod
    def in_days(cls, after_treatment: int, after_silence: int, notice: int) -> RetentionPolicy:
        """From the settings: 0 days switches a rule off."""
        return cls(
            after_treatment=timedelta(days=after_treatment) if after_treatment else None,
            after_silence=timedelta(days=after_silence) if after_silence else None,
            notice=timedelta(days=notice),
        )

    @property
    def active(self) -> bool:
        return self.after_treatment is not None or self.after_silence is not None


@dataclass(frozen=True)
class Facts:
    """What the rule reads of one patient: the stored state, and their treatment's end
    (`ended_on`, once every dose is counted) or, while it goes on, the earliest day it can
    end (`ends_by`; None when a pause makes it unknown)."""

    state: RetentionState
    ended_on: date | None = None
    ends_by: date | None = None


class Action(StrEnum):
    WAIT = "wait"
    NOTIFY = "notify"
    ERASE = "erase"


@dataclass(frozen=True)
class Decision:
    action: Action
    state: RetentionState
    next_look: date
    """When the rule looks again (for a notice: the announced day; for an erase: today)."""


def erase_day(policy: RetentionPolicy, facts: Facts) -> date | None:
    """The first day the rules allow erasing, as far as is known today (None: no rule
    applies yet)."""
    state = facts.state
    days = []
    if policy.after_silence is not None:
        days.append((state.seen_on or state.created_on) + policy.after_silence)
    if policy.after_treatment is not None and facts.ended_on is not None:
        anchor = max(facts.ended_on, state.kept_on or facts.ended_on)
        days.append(anchor + policy.after_treatment)
    return min(days, default=None)


def decide(policy: RetentionPolicy, facts: Facts, today: date) -> Decision:
    """Steps 1 and 2 of the module docstring, for one patient on `today`."""
    state = facts.state
    erase = erase_day(policy, facts)
    if state.notice_on is not None and state.erase_on is not None:
        if erase is None or erase > state.erase_on:
            quiet = replace(state, notice_on=None, erase_on=None)
            return decide(policy, replace(facts, state=quiet), today)
        if today >= state.erase_on:
            return Decision(Action.ERASE, state, today)
        return Decision(Action.WAIT, state, state.erase_on)
    if erase is not None and today >= erase - policy.notice:
        on = max(erase, today + policy.notice)
        return Decision(Action.NOTIFY, replace(state, notice_on=today, erase_on=on), on)
    looks = [today + RELOOK]
    if erase is not None:
        looks.append(erase - policy.notice)
    if policy.after_treatment is not None and facts.ended_on is None and facts.ends_by:
        anchor = max(facts.ends_by, state.kept_on or facts.ends_by)
        looks.append(anchor + policy.after_treatment - policy.notice)
    return Decision(Action.WAIT, state, max(today + timedelta(days=1), min(looks)))


def start_of(day: date) -> datetime:
    """The instant a day of the rule begins (UTC midnight)."""
    return datetime.combine(day, time.min, tzinfo=UTC)


class RetentionTexts(Protocol):
    """What the patient is told, in their language (`bot.flows.retention`)."""

    def notice(self, patient: Patient, erase_at: datetime) -> Payload: ...

    def erased(self, patient: Patient) -> Payload: ...


class Retention:
    """Runs the rule (see the module docstring) through the injected clock."""

    def __init__(
        self,
        store: Store,
        channels: ChannelRegistry,
        clock: Clock,
        texts: RetentionTexts,
        policy: RetentionPolicy,
        *,
        batch_size: int = 100,
        every: timedelta = timedelta(hours=1),
    ) -> None:
        self.store = store
        self.channels = channels
        self.clock = clock
        self.texts = texts
        self.policy = policy
        self.batch_size = batch_size
        self.every = every

    async def run_once(self) -> int:
        """Every patient whose time has come, in batches; how many were looked at.

        1. Claim a batch (`RetentionRepository.claim`): its patients' next look moves to the
           start of tomorrow, so other workers running the rule skip them.
        2. Look at each (`_look`), which saves the real next look. A patient whose look
           fails is logged and left until tomorrow; the rest of the batch goes on.
        3. Until a batch comes back short.
        """
        if not self.policy.active:
            return 0
        seen = 0
        while True:
            now = self.clock.now()
            due = await self.store.retention.claim(
                now, self.batch_size, start_of(now.date() + timedelta(days=1))
            )
            for patient_id in due:
                try:
                    await self._look(patient_id, now)
                except NotFound:
                    continue  # forgotten meanwhile (by them, or another worker)
                except Exception as exc:
                    log.error("retention look failed: %s", type(exc).__name__)
            seen += len(due)
            if len(due) < self.batch_size:
                return seen

    async def run_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception as exc:
                log.error("retention round failed: %s", type(exc).__name__)
            await nap(self.clock, self.every.total_seconds(), stop)

    async def _look(self, patient_id: str, now: datetime) -> None:
        facts, patient = await self._facts(patient_id, now)
        decision = decide(self.policy, facts, now.date())
        if decision.action is Action.ERASE:
            await forget_patient(
                self.store, self.channels, patient_id, farewell=self.texts.erased(patient)
            )
            log.info("patient erased by the retention rule")
            return
        async with self.store.transaction() as tx:
            await tx.retention.save(decision.state, start_of(decision.next_look))
            if decision.action is Action.NOTIFY:
                payload = self.texts.notice(patient, start_of(decision.next_look))
                await tx.outbox.enqueue(
                    OutboxMessage(
                        patient_id=patient_id,
                        recipient=PATIENT,
                        kind=OutboxKind.NOTICE.value,
                        payload=payload.to_dict(),
                        dedupe_key=f"retention:{patient_id}:{decision.state.notice_on}",
                        not_before=now,
                        priority=int(OutboxKind.NOTICE.priority),
                    )
                )

    async def _facts(self, patient_id: str, now: datetime) -> tuple[Facts, Patient]:
        state = await self.store.retention.get(patient_id)
        patient = await self.store.patients.get(patient_id)
        enrolments = await self.store.enrolments.active(patient_id)
        if not enrolments:
            return Facts(state), patient
        plan = enrolments[-1].enrolment
        events = await self.store.doses.events(patient_id)
        slots = await self.store.doses.slots_by_id(patient_id, {e.slot_id for e in events})
        summary = summarise(plan, treatment_events(slots, events), now)
        if summary.complete:
            return Facts(state, ended_on=summary.projected_completion), patient
        return Facts(state, ends_by=summary.projected_completion), patient


async def keep(store: Store, patient_id: str, now: datetime) -> bool:
    """The patient asks to keep their data: any notice is over, and the end rule counts from
    today. Whether a notice was outstanding."""
    state = await store.retention.get(patient_id)
    kept = replace(state, notice_on=None, erase_on=None, kept_on=now.date())
    await store.retention.save(kept, now)  # the rule looks again at its next run
    return state.notice_on is not None
