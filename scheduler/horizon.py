"""Planning enrolments: dose slots materialised in the database up to a rolling horizon, for one
patient (the dialogue's `Engine.enrolled`) or for every enrolment whose horizon runs short (the
periodic horizon job). What one patient's plan changes is worked out by `scheduler.planning`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from scheduler.clock import Clock
from scheduler.config import EngineConfig
from scheduler.doses import NOT_TAKEN_OUTCOMES
from scheduler.metrics import Metrics
from scheduler.planning import PlanChange, plan_changes
from scheduler.preferences import Preferences
from storage.errors import NotFound
from storage.records import DoseSlot
from storage.repositories.planning import PlanningInput, SlotPlan
from storage.store import Repositories, Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Planner:
    """The engine's planning: `enrolled` in the caller's transaction, `extend_horizon` in its
    own."""

    store: Store
    clock: Clock
    config: EngineConfig
    metrics: Metrics

    async def enrolled(self, tx: Repositories, patient_id: str, now: datetime) -> None:
        """Materialise the patient's dose slots up to ``now + horizon``, in the caller's
        transaction. Idempotent; also the way to apply any change to the plan. Raises
        `NotFound` for a patient who does not exist.

        The same path as the horizon job's, with a chunk of one patient (see `_plan_chunk`).
        """
        found = await tx.planning.inputs([patient_id], now, NOT_TAKEN_OUTCOMES)
        if not found:
            raise NotFound("patients", patient_id)
        change = self._changes(found[0], now)
        await tx.planning.apply(change.remove, change.add, change.planned)

    def _changes(self, found: PlanningInput, now: datetime) -> PlanChange:
        settings = Preferences.from_dict(found.preferences).ladder(
            self.config.nudges, self.config.window
        )
        return plan_changes(found, now, now + self.config.horizon, settings)

    async def _plan_chunk(
        self, tx: Repositories, due: Mapping[str, Sequence[str]], now: datetime
    ) -> None:
        """Plan a chunk of patients in the caller's transaction: ``due`` maps each patient to
        the enrolments the horizon job found for them.

        1. Read the chunk's patients, keys, enrolments, future slots and answers in a few
           queries (`PlanningRepository.inputs`); patients forgotten meanwhile are not there.
        2. Plan each patient in Python (`plan_changes`). A patient whose plan raises is left
           out and noted planned until the next run, so it is tried again then, not in a
           loop now.
        3. Write every change in one savepoint: one DELETE, one INSERT, one UPDATE.
        4. Only if 1 or 3 fails (another worker planned one of these patients meanwhile, and
           the unique (enrolment, due instant) pair refused a slot; one bad row), roll the
           savepoint back and plan each patient alone in a savepoint of its own, reading
           again, so that one patient cannot stop everyone else's reminders.
        """
        retry_at = now + self.config.horizon - self.config.replan_margin
        retry_at += self.config.replan_every
        try:
            async with tx.savepoint():
                inputs = await tx.planning.inputs(list(due), now, NOT_TAKEN_OUTCOMES)
                remove: list[DoseSlot] = []
                add: list[SlotPlan] = []
                planned: dict[str, datetime] = {}
                for found in inputs:
                    try:
                        change = self._changes(found, now)
                    except Exception as exc:
                        log.error("planning failed for one patient: %s", type(exc).__name__)
                        planned.update(dict.fromkeys(due[found.patient_id], retry_at))
                        continue
                    remove.extend(change.remove)
                    add.extend(change.add)
                    planned.update(change.planned)
                await tx.planning.apply(remove, add, planned)
            return
        except Exception as exc:
            log.warning("planning a chunk failed (%s): one by one", type(exc).__name__)
        for patient_id, enrolment_ids in due.items():
            try:
                async with tx.savepoint():
                    await self.enrolled(tx, patient_id, now)
            except NotFound:
                continue  # forgotten meanwhile
            except Exception as exc:
                log.error("planning failed for one patient: %s", type(exc).__name__)
                async with tx.savepoint():
                    await tx.planning.apply([], [], dict.fromkeys(enrolment_ids, retry_at))

    async def extend_horizon(self, limit: int | None = None) -> int:
        """The periodic planning job: plan the enrolments whose horizon runs short.

        1. Ask the index for active enrolments planned only up to less than
           ``now + horizon - replan_margin`` (plaintext; nothing is decrypted to find them).
        2. Plan their patients, `plan_chunk` per transaction (see `_plan_chunk`), until none
           is left or `limit` patients were planned.
        Returns the number of patients planned (``== limit``: there may be more).
        """
        now = self.clock.now()
        before = now + self.config.horizon - self.config.replan_margin
        seen: set[str] = set()
        while True:
            due = await self.store.enrolments.due_for_planning(before, self.config.replan_batch)
            fresh: dict[str, list[str]] = {}
            for patient_id, enrolment_id in due:
                if patient_id not in seen:
                    fresh.setdefault(patient_id, []).append(enrolment_id)
            patients = list(fresh)
            if limit is not None:
                patients = patients[: max(0, limit - len(seen))]
            if not patients:
                return len(seen)
            seen.update(patients)
            # Many patients per transaction: one commit (one fsync) and a few statements per
            # chunk, not per patient.
            for first in range(0, len(patients), self.config.plan_chunk):
                chunk = patients[first : first + self.config.plan_chunk]
                with self.metrics.planning.time():
                    async with self.store.transaction() as tx:
                        await self._plan_chunk(tx, {pid: fresh[pid] for pid in chunk}, now)
                self.metrics.patients_planned.inc(len(chunk))
