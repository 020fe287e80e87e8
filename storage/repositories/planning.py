"""Planning many patients at once: what the reminder engine reads and writes per chunk.

The engine plans a chunk of patients (hundreds) with a fixed number of statements, whatever
the chunk's size: `inputs` reads everything the plans need in at most six queries, the
engine plans in Python, and `apply` writes every change in three. Rows are read and written
with Core statements, not ORM objects, and only the sealed cells planning needs are opened:
a patient's preferences, the plans of active enrolments, the doses of slots still to come,
and the outcome of each answered slot's latest event (the slot's dose only when that answer
was not "taken"). Cells are sealed and opened by the same `SealedField` methods as the
ORM's, so a row written here is read back by the other repositories unchanged.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update

from storage.expanding import one_of
from storage.models import Base, DoseEventRow, DoseSlotRow, EnrolmentRow, PatientRow
from storage.records import DoseOutcome, DoseSlot, EnrolmentRecord, SlotPhase
from storage.repositories.base import Repository
from storage.repositories.doses import SLOT_COLUMNS, slot_of
from storage.repositories.enrolments import made_at
from storage.sealed import new_id
from storage.session import SessionCrypto, session_crypto
from treatment.enrolment import Enrolment

_IN_CHUNK = 500
"""Ids per IN list: far below SQLite's and asyncpg's limits on bound parameters."""

_SLOTS = DoseSlotRow.__tablename__
_PATIENTS = PatientRow.__tablename__
_ENROLMENTS = EnrolmentRow.__tablename__
_EVENTS = DoseEventRow.__tablename__
_PLANNED = SlotPhase.PLANNED.value


@dataclass(frozen=True)
class PlanningInput:
    """What planning one patient needs, as read at the start of the chunk."""

    patient_id: str
    preferences: Mapping[str, Any]
    enrolments: tuple[EnrolmentRecord, ...]
    """The active enrolments, oldest first."""
    future: tuple[DoseSlot, ...]
    """Every slot due at or after the planning instant, of any of the patient's enrolments
    (an ended enrolment's pending slots are for the planner to remove), earliest first."""
    not_taken: Mapping[str, frozenset[str]]
    """Per active enrolment, the plan keys of its slots whose latest answer was one of the
    outcomes asked for."""


@dataclass(frozen=True)
class SlotPlan:
    """A dose slot to materialise: pending, first checked at its due instant."""

    patient_id: str
    enrolment_id: str
    due_at: datetime
    window_ends_at: datetime
    dose: Mapping[str, Any]


class PlanningRepository(Repository):
    async def inputs(
        self, patient_ids: Collection[str], since: datetime, outcomes: Collection[DoseOutcome]
    ) -> list[PlanningInput]:
        """The planning inputs of the patients among ``patient_ids`` that exist, in at most
        six queries per 500 patients.

        1. The patients' preferences, and their data keys (one query for those not cached).
        2. Their enrolments: plaintext columns of all, the sealed plan of active ones only.
        3. The slots of those enrolments due at or after ``since`` (the unique (enrolment,
           due instant) index makes each a range scan), with their doses.
        4. Their events' plaintext columns and sealed outcome, oldest first; the latest
           event of each slot of an active enrolment is the slot's answer, and only that
           one's outcome is opened.
        5. The doses of the slots whose answer is in ``outcomes``, for their plan keys.
        """
        ids = list(dict.fromkeys(patient_ids))
        found: list[PlanningInput] = []
        for start in range(0, len(ids), _IN_CHUNK):
            found.extend(await self._inputs(ids[start : start + _IN_CHUNK], since, outcomes))
        return found

    async def _inputs(
        self, ids: list[str], since: datetime, outcomes: Collection[DoseOutcome]
    ) -> list[PlanningInput]:
        async with self._transaction() as session:
            patients = (
                await session.execute(
                    select(PatientRow.id, PatientRow._preferences).where(one_of(PatientRow.id, ids))
                )
            ).all()
            if not patients:
                return []
            present = [patient_id for patient_id, _ in patients]
            await self._load_keys(session, present)
            crypto = session_crypto(session.sync_session)
            preferences = {
                patient_id: _open_preferences(crypto, patient_id, sealed)
                for patient_id, sealed in patients
            }
            enrolments: dict[str, list[EnrolmentRecord]] = {pid: [] for pid in present}
            every_enrolment: list[str] = []
            for row in await session.execute(
                select(
                    EnrolmentRow.id,
                    EnrolmentRow.patient_id,
                    EnrolmentRow.active,
                    EnrolmentRow.created_at,
                    EnrolmentRow.updated_at,
                    EnrolmentRow.planned_until,
                    EnrolmentRow._plan,
                    EnrolmentRow._created_exact,
                )
                .where(one_of(EnrolmentRow.patient_id, present))
                .order_by(EnrolmentRow.created_at, EnrolmentRow.id)
            ):
                every_enrolment.append(row.id)
                if not row.active:
                    continue  # only its future slots matter, and they need no plan
                plan = EnrolmentRow.plan.open_value(
                    crypto, _ENROLMENTS, row.patient_id, row.id, row._plan
                )
                enrolments[row.patient_id].append(
                    EnrolmentRecord(
                        id=row.id,
                        patient_id=row.patient_id,
                        active=True,
                        enrolment=Enrolment.from_dict(plan),
                        created_at=made_at(
                            crypto, row.patient_id, row.id, row._created_exact, row.created_at
                        ),
                        updated_at=row.updated_at,
                        planned_until=row.planned_until,
                    )
                )
            active = {record.id for records in enrolments.values() for record in records}
            future: dict[str, list[DoseSlot]] = {pid: [] for pid in present}
            if every_enrolment:
                for slot in await self._slots(
                    session,
                    crypto,
                    one_of(DoseSlotRow.enrolment_id, every_enrolment),
                    DoseSlotRow.due_at >= since,
                ):
                    future[slot.patient_id].append(slot)
            not_taken = await self._not_taken(session, crypto, present, active, outcomes)
            return [
                PlanningInput(
                    patient_id=patient_id,
                    preferences=preferences[patient_id],
                    enrolments=tuple(enrolments[patient_id]),
                    future=tuple(future[patient_id]),
                    not_taken=not_taken.get(patient_id, {}),
                )
                for patient_id in present
            ]

    async def _slots(self, session: Any, crypto: SessionCrypto, *where: Any) -> list[DoseSlot]:
        rows = await session.execute(
            select(*SLOT_COLUMNS).where(*where).order_by(DoseSlotRow.due_at, DoseSlotRow.id)
        )
        return [slot_of(crypto, row) for row in rows]

    async def _not_taken(
        self,
        session: Any,
        crypto: SessionCrypto,
        patient_ids: list[str],
        active: set[str],
        outcomes: Collection[DoseOutcome],
    ) -> dict[str, dict[str, frozenset[str]]]:
        """Steps 4 and 5 of `inputs`: patient → active enrolment → keys."""
        if not active:
            return {}
        latest: dict[str, tuple[str, str, bytes]] = {}
        for event_id, patient_id, slot_id, sealed, enrolment_id in await session.execute(
            select(
                DoseEventRow.id,
                DoseEventRow.patient_id,
                DoseEventRow.slot_id,
                DoseEventRow._outcome,
                DoseSlotRow.enrolment_id,
            )
            .join(DoseSlotRow, DoseSlotRow.id == DoseEventRow.slot_id)
            .where(one_of(DoseEventRow.patient_id, patient_ids))
            .order_by(DoseEventRow.recorded_at, DoseEventRow.id)
        ):
            if enrolment_id in active:
                latest[slot_id] = (event_id, patient_id, sealed)
        wanted = {value.value for value in outcomes}
        slot_ids = [
            slot_id
            for slot_id, (event_id, patient_id, sealed) in latest.items()
            if DoseEventRow.outcome.open_value(crypto, _EVENTS, patient_id, event_id, sealed)
            in wanted
        ]
        keys: dict[str, dict[str, set[str]]] = {}
        for start in range(0, len(slot_ids), _IN_CHUNK):
            chunk = slot_ids[start : start + _IN_CHUNK]
            for slot in await self._slots(session, crypto, one_of(DoseSlotRow.id, chunk)):
                key = slot.dose.get("key")
                if isinstance(key, str):
                    by_enrolment = keys.setdefault(slot.patient_id, {})
                    by_enrolment.setdefault(slot.enrolment_id, set()).add(key)
        return {
            patient_id: {enrolment: frozenset(found) for enrolment, found in by.items()}
            for patient_id, by in keys.items()
        }

    async def apply(
        self,
        remove: Sequence[DoseSlot],
        add: Sequence[SlotPlan],
        planned: Mapping[str, datetime],
    ) -> int:
        """Write a chunk's plans: three statements, whatever the number of patients.

        1. Delete the slots of ``remove`` that are still pending and not claimed (nothing
           was sent about them, no event names them), one DELETE ... RETURNING.
        2. A slot of ``remove`` that stayed (a worker claimed it meanwhile) keeps its due
           instant: the addition for the same enrolment and instant is dropped.
        3. Insert the rest of ``add``, sealed, in one multi-row INSERT.
        4. Note each enrolment of ``planned`` planned up to its instant (one UPDATE per
           distinct instant: normally one).
        Returns the number of slots added.
        """
        async with self._transaction() as session:
            slots = Base.metadata.tables[_SLOTS]
            deleted: set[str] = set()
            wanted = [slot.id for slot in remove]
            for start in range(0, len(wanted), _IN_CHUNK):
                result = await session.execute(
                    delete(slots)
                    .where(
                        one_of(slots.c.id, wanted[start : start + _IN_CHUNK]),
                        slots.c.state == SlotPhase.PLANNED.value,
                        slots.c.lease_owner.is_(None),
                    )
                    .returning(slots.c.id)
                )
                deleted.update(result.scalars())
            held = {(s.enrolment_id, s.due_at) for s in remove if s.id not in deleted}
            rows = [plan for plan in add if (plan.enrolment_id, plan.due_at) not in held]
            if rows:
                await self._load_keys(session, {plan.patient_id for plan in rows})
                crypto = session_crypto(session.sync_session)
                await session.execute(insert(slots), [_slot_row(crypto, plan) for plan in rows])
            by_instant: dict[datetime, list[str]] = {}
            for enrolment_id, until in planned.items():
                by_instant.setdefault(until, []).append(enrolment_id)
            enrolments = Base.metadata.tables[_ENROLMENTS]
            for until, enrolment_ids in by_instant.items():
                for start in range(0, len(enrolment_ids), _IN_CHUNK):
                    await session.execute(
                        update(enrolments)
                        .where(one_of(enrolments.c.id, enrolment_ids[start : start + _IN_CHUNK]))
                        .values(planned_until=until)
                    )
            return len(rows)


def _open_preferences(
    crypto: SessionCrypto, patient_id: str, sealed: bytes | None
) -> dict[str, Any]:
    """Rows written before revision 0002 have no preferences: none chosen."""
    if sealed is None:
        return {}
    return PatientRow.preferences.open_value(crypto, _PATIENTS, patient_id, patient_id, sealed)


def _slot_row(crypto: SessionCrypto, plan: SlotPlan) -> dict[str, Any]:
    slot_id = new_id()
    return {
        "id": slot_id,
        "patient_id": plan.patient_id,
        "enrolment_id": plan.enrolment_id,
        "due_at": plan.due_at,
        "window_ends_at": plan.window_ends_at,
        "state": _PLANNED,
        "next_check_at": plan.due_at,
        "lease_owner": None,
        "lease_until": None,
        "version": 0,
        "dose": DoseSlotRow.dose.seal_value(
            crypto, _SLOTS, plan.patient_id, slot_id, dict(plan.dose)
        ),
    }
