"""Patients: alias, language, time zone, discreet mode, consent. Creating one makes its data key."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import fields
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import NotFound
from storage.expanding import one_of
from storage.models import PatientRow
from storage.records import Consent, Patient
from storage.repositories.base import Repository, day_start
from storage.sealed import SealedField, new_id
from storage.session import SessionCrypto, session_crypto


def to_patient(row: PatientRow) -> Patient:
    return Patient(
        id=row.id,
        alias=row.alias,
        language=row.language,
        time_zone=row.time_zone,
        discreet=row.discreet,
        consent=Consent.from_dict(row.consent),
        created_at=row.created_at,
        preferences=_preferences(row),
        seen_on=row.seen_on,
    )


def _preferences(row: PatientRow) -> dict[str, Any]:
    """Rows written before revision 0002 have no preferences column value: no preferences."""
    try:
        return row.preferences
    except AttributeError:  # never set: NULL in the column and nothing pending
        return {}


_TABLE = PatientRow.__tablename__
_COLUMNS = (
    PatientRow.id,
    PatientRow.created_at,
    PatientRow.seen_on,
    PatientRow._alias,
    PatientRow._language,
    PatientRow._time_zone,
    PatientRow._discreet,
    PatientRow._consent,
    PatientRow._preferences,
)


class _OpenedOnRead(Patient):
    """A patient read by `PatientRepository.get_many`: each sealed cell is opened when it is
    first read, so a reader that uses two of the six pays for two (the engine's composer reads
    the language, the discreet flag and the preferences; its test double none).

    The cells and the session's crypto context are kept until each is opened. That context
    is emptied when its transaction ends (`storage.context`), so a cell first read after the
    transaction raises `StoreError` rather than keeping the patient's key alive in a record.
    Made only by `of_row`; ``Patient(...)`` and `dataclasses.replace` make plain patients.
    """

    __hash__ = Patient.__hash__

    @classmethod
    def of_row(cls, crypto: SessionCrypto, row: Any) -> Patient:
        patient = object.__new__(cls)
        put = object.__setattr__
        # Unpacked, not read by name: a result row's attribute costs a failed lookup first.
        put(patient, "id", row[0])
        put(patient, "created_at", row[1])
        put(patient, "seen_on", row[2])
        put(patient, "_crypto", crypto)
        put(patient, "_cells", dict(zip(_SEALED, row[3:], strict=True)))
        return patient

    def __getattr__(self, name: str) -> Any:
        # Only called for attributes not yet in the instance: the unopened sealed cells.
        cells: dict[str, bytes | None] | None = self.__dict__.get("_cells")
        if cells is None or name not in cells:
            raise AttributeError(name)
        value = _opened(self.__dict__["_crypto"], self.id, name, cells.pop(name))
        object.__setattr__(self, name, value)
        if not cells:
            object.__delattr__(self, "_cells")
            object.__delattr__(self, "_crypto")
        return value

    def __eq__(self, other: object) -> bool:
        # Equal to the plain patient with the same fields (the dataclass's own equality
        # wants the same class).
        if not isinstance(other, Patient):
            return NotImplemented
        return all(getattr(self, f.name) == getattr(other, f.name) for f in fields(Patient))


_SEALED = ("alias", "language", "time_zone", "discreet", "consent", "preferences")


def _opened(crypto: SessionCrypto, pid: str, name: str, sealed: bytes | None) -> Any:
    """One of `_SEALED` as `to_patient` reads it, opened by the same field."""
    if name == "preferences" and sealed is None:  # see `_preferences`
        return {}
    field: SealedField[Any] = getattr(PatientRow, name)
    value = field.open_value(crypto, _TABLE, pid, pid, cast(bytes, sealed))
    return Consent.from_dict(value) if name == "consent" else value


class PatientRepository(Repository):
    async def create(
        self,
        *,
        alias: str,
        language: str,
        time_zone: str,
        discreet: bool = False,
        consent: Consent | None = None,
        preferences: Mapping[str, Any] | None = None,
    ) -> Patient:
        """A new patient with a fresh random data key wrapped by the newest master key."""
        async with self._transaction() as session:
            patient_id = new_id()
            key_row = self._context.new_data_key(session, patient_id)
            now = self._now()
            row = PatientRow(
                id=patient_id,
                # The day only: nothing needs the time. Due at once for the retention
                # rule's first look, which sets its real time.
                created_at=day_start(now),
                seen_on=now.date(),
                retention_at=day_start(now),
                alias=alias,
                language=language,
                time_zone=time_zone,
                discreet=discreet,
                consent=(consent or Consent()).to_dict(),
                preferences=dict(preferences or {}),
            )
            # Without relationship() the unit of work does not order these two INSERTs.
            session.add(row)
            await session.flush()
            session.add(key_row)
            await session.flush()
            return to_patient(row)

    async def get(self, patient_id: str) -> Patient:
        async with self._transaction() as session:
            return to_patient(await self._row(session, patient_id))

    async def update(self, patient: Patient) -> Patient:
        """Store the profile fields of ``patient`` (id and created_at are not changeable)."""
        async with self._transaction() as session:
            row = await self._row(session, patient.id)
            row.alias = patient.alias
            row.language = patient.language
            row.time_zone = patient.time_zone
            row.discreet = patient.discreet
            row.consent = patient.consent.to_dict()
            row.preferences = dict(patient.preferences)
            await session.flush()
            return to_patient(row)

    async def get_many(self, patient_ids: Collection[str]) -> dict[str, Patient]:
        """Several patients by id, in one query per 500 (the engine composes a batch of
        reminders); ids that do not exist are left out.

        Columns, not ORM objects: a burst reads thousands of patients and changes none, and
        an ORM row costs more in identity-map bookkeeping than its six cells cost to open.
        Each cell is opened when first read (`_OpenedOnRead`), in this transaction: read the
        patients before it ends.
        """
        async with self._transaction() as session:
            ids = list(set(patient_ids))
            found: dict[str, Patient] = {}
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                rows = (
                    await session.execute(select(*_COLUMNS).where(one_of(PatientRow.id, chunk)))
                ).all()
                await self._load_keys(session, [row[0] for row in rows])
                crypto = session_crypto(session.sync_session)
                found.update((row[0], _OpenedOnRead.of_row(crypto, row)) for row in rows)
            return found

    async def exists(self, patient_id: str) -> bool:
        async with self._transaction() as session:
            found = await session.scalar(select(PatientRow.id).where(PatientRow.id == patient_id))
            return found is not None

    async def count(self) -> int:
        async with self._transaction() as session:
            return int(await session.scalar(select(func.count()).select_from(PatientRow)) or 0)

    async def _row(self, session: AsyncSession, patient_id: str) -> PatientRow:
        await self._load_keys(session, [patient_id])
        row = await session.get(PatientRow, patient_id)
        if row is None:
            raise NotFound("patients", patient_id)
        return row
