"""Helper incidents: alerts passed from helper to helper until one of them answers.

The escalation timer is a generic timer (`storage.repositories.timers`, ``escalate:<id>``),
so its delay, which differs by kind of incident, is not written beside the incident. Every
change is conditional on the row's ``version``: two workers escalating, or a helper pressing a
button while the engine escalates, cannot both win.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import NotFound
from storage.models import HelperIncidentRow
from storage.records import Incident, IncidentState
from storage.repositories.base import Repository
from storage.repositories.timers import TimerRepository, timer_key
from storage.sealed import new_id

ESCALATE = "escalate"


def escalation_key(incident_id: str) -> str:
    return timer_key(ESCALATE, incident_id)


def to_incident(row: HelperIncidentRow, next_at: datetime | None) -> Incident:
    return Incident(
        id=row.id,
        patient_id=row.patient_id,
        dedupe_key=row.dedupe_key,
        state=IncidentState(row.state),
        created_at=row.created_at,
        next_at=next_at,
        version=row.version,
        detail=row.detail,
    )


class IncidentRepository(Repository):
    def _timers(self, session: AsyncSession) -> TimerRepository:
        return TimerRepository(self._context, session)

    async def _records(
        self, session: AsyncSession, rows: list[HelperIncidentRow]
    ) -> list[Incident]:
        due = await self._timers(session).due_at([escalation_key(row.id) for row in rows])
        return [to_incident(row, due.get(escalation_key(row.id))) for row in rows]

    async def open(
        self,
        patient_id: str,
        dedupe_key: str,
        detail: Mapping[str, Any],
        *,
        next_at: datetime | None,
    ) -> Incident | None:
        """A new open incident; None if one with `dedupe_key` exists (one per happening).

        The key names what happened (``red_flag:<report id>``), so the column holds only its
        keyed hash (the blind index): a database reader cannot tell a red flag from a missed
        dose by trying the random ids they can see."""
        dedupe_key = self._context.blind_index.lookup("incident", dedupe_key).hex()
        async with self._transaction() as session:
            await self._load_keys(session, [patient_id])
            exists = await session.scalar(
                select(HelperIncidentRow.id).where(HelperIncidentRow.dedupe_key == dedupe_key)
            )
            if exists is not None:
                return None
            now = self._now()
            row = HelperIncidentRow(
                id=new_id(),
                patient_id=patient_id,
                dedupe_key=dedupe_key,
                state=IncidentState.OPEN.value,
                created_on=now.date(),
                created_at=now,
                version=1,
                detail=dict(detail),
            )
            try:
                async with session.begin_nested():
                    session.add(row)
                    await session.flush()
            except IntegrityError:
                return None  # another worker opened the same incident just now
            await self._set_timer(session, row.id, patient_id, next_at)
            return to_incident(row, next_at)

    async def _set_timer(
        self, session: AsyncSession, incident_id: str, patient_id: str, at: datetime | None
    ) -> None:
        task = {"do": ESCALATE, "incident": incident_id}
        await self._timers(session).schedule(patient_id, escalation_key(incident_id), at, task)

    async def get(self, patient_id: str, incident_id: str) -> Incident:
        async with self._transaction() as session:
            await self._load_keys(session, [patient_id])
            row = await session.get(HelperIncidentRow, incident_id)
            if row is None or row.patient_id != patient_id:
                raise NotFound("helper_incidents", incident_id)
            return (await self._records(session, [row]))[0]

    async def find(self, incident_id: str) -> Incident | None:
        """An incident by id, whoever it belongs to: callers check the owner."""
        async with self._transaction() as session:
            row = await session.get(HelperIncidentRow, incident_id)
            if row is None:
                return None
            await self._load_keys(session, [row.patient_id])
            return (await self._records(session, [row]))[0]

    async def change(
        self,
        incident: Incident,
        *,
        state: IncidentState,
        next_at: datetime | None,
        detail: Mapping[str, Any],
    ) -> bool:
        """Apply a change if nobody changed the incident since it was read (its version)."""
        async with self._transaction() as session:
            await self._load_keys(session, [incident.patient_id])
            row = await session.get(HelperIncidentRow, incident.id)
            if row is None or row.version != incident.version:
                return False
            result = await session.execute(
                update(HelperIncidentRow)
                .where(
                    HelperIncidentRow.id == incident.id,
                    HelperIncidentRow.version == incident.version,
                )
                .values(version=incident.version + 1, state=state.value)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return False
            await session.refresh(row)
            row.detail = dict(detail)
            await session.flush()
            await self._set_timer(session, incident.id, incident.patient_id, next_at)
            return True

    async def for_patient(self, patient_id: str) -> list[Incident]:
        async with self._transaction() as session:
            await self._load_keys(session, [patient_id])
            rows = await session.scalars(
                select(HelperIncidentRow).where(HelperIncidentRow.patient_id == patient_id)
            )
            return sorted(
                await self._records(session, list(rows)), key=lambda i: (i.created_at, i.id)
            )
