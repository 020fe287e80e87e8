"""Patients, Telegram accounts and enrolments written in bulk, for the benchmarks and the
several-workers scenario: what `PatientRepository.create`, `IdentityRepository.link` and
`EnrolmentRepository.add` write one at a time, written `chunk` patients to a transaction.

1. Each patient gets a fresh data key (`StoreContext.new_data_key`: wrapped by the newest
   master key, pinned in the transaction, put in the shared cache).
2. Its cells are sealed by the models' own `SealedField`s (`seal_value`: the same key, bytes
   and associated data as a flush would give them) and the account's blind index is computed
   as `link` computes it.
3. One Core INSERT per table per chunk, parents first: no ORM objects, identity map or flush,
   which is where the one-at-a-time path spends its time at 200,000 patients.

`tests/scheduler/test_bulk_enrol.py` reads rows written here back through the repositories.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert

from storage.blind_index import normalise
from storage.context import StoreContext
from storage.models import Base, ChannelIdentityRow, DataKeyRow, EnrolmentRow, PatientRow
from storage.records import Consent
from storage.repositories.base import day_start
from storage.sealed import SealedField, new_id
from storage.session import SessionCrypto, session_crypto

CHUNK = 2000

_PATIENTS = Base.metadata.tables[PatientRow.__tablename__]
_KEYS = Base.metadata.tables[DataKeyRow.__tablename__]
_IDENTITIES = Base.metadata.tables[ChannelIdentityRow.__tablename__]
_ENROLMENTS = Base.metadata.tables[EnrolmentRow.__tablename__]


@dataclass(frozen=True)
class NewPatient:
    """One patient to write: a Telegram account, and an enrolment if `plan` is given
    (``Enrolment.to_dict()``; patients of one plan can share the dictionary)."""

    alias: str
    time_zone: str
    telegram: str
    chat: str | None = None
    plan: Mapping[str, Any] | None = None
    language: str = "en"


def _sealer(crypto: SessionCrypto, table: str, owner: str, row_id: str) -> Any:
    def seal(field: SealedField[Any], value: Any) -> bytes:
        return field.seal_value(crypto, table, owner, row_id, value)

    return seal


async def add_patients(
    context: StoreContext,
    patients: Sequence[NewPatient],
    now: datetime,
    *,
    retention_at: datetime | None = None,
    chunk: int = CHUNK,
    progress: Callable[[int], None] = lambda _: None,
) -> list[str]:
    """Write `patients` (see the module's steps), created at `now`; their ids, in order.

    `retention_at` is when the retention rule first looks at them: `now` by default, as
    `PatientRepository.create` sets it. `progress` is called with the count written so far
    after each chunk."""
    ids: list[str] = []
    consent = Consent().to_dict()
    for start in range(0, len(patients), chunk):
        async with context.transaction() as session:
            crypto = session_crypto(session.sync_session)
            keys: list[dict[str, Any]] = []
            people: list[dict[str, Any]] = []
            accounts: list[dict[str, Any]] = []
            enrolments: list[dict[str, Any]] = []
            for new in patients[start : start + chunk]:
                pid = new_id()
                key = context.new_data_key(session, pid)
                keys.append({"patient_id": pid, "key_id": key.key_id, "wrapped": key.wrapped})
                people.append(_patient_cells(crypto, pid, new, consent, now, retention_at))
                accounts.append(_account_cells(context, crypto, pid, new, now))
                if new.plan is not None:
                    enrolments.append(_enrolment_cells(crypto, pid, new.plan, now))
                ids.append(pid)
            await session.execute(insert(_PATIENTS), people)
            await session.execute(insert(_KEYS), keys)
            await session.execute(insert(_IDENTITIES), accounts)
            if enrolments:
                await session.execute(insert(_ENROLMENTS), enrolments)
        progress(len(ids))
    return ids


async def add_enrolments(
    context: StoreContext,
    patient_ids: Sequence[str],
    plan: Mapping[str, Any],
    now: datetime,
    *,
    chunk: int = CHUNK,
) -> None:
    """One active enrolment on `plan` for each of `patient_ids` (existing patients), as
    `EnrolmentRepository.add` writes it, `chunk` to a transaction."""
    for start in range(0, len(patient_ids), chunk):
        ids = patient_ids[start : start + chunk]
        async with context.transaction() as session:
            await context.load_keys(session, ids)
            crypto = session_crypto(session.sync_session)
            rows = [_enrolment_cells(crypto, pid, plan, now) for pid in ids]
            await session.execute(insert(_ENROLMENTS), rows)


def _patient_cells(
    crypto: SessionCrypto,
    pid: str,
    new: NewPatient,
    consent: dict[str, Any],
    now: datetime,
    retention_at: datetime | None,
) -> dict[str, Any]:
    seal = _sealer(crypto, _PATIENTS.name, pid, pid)
    return {
        "id": pid,
        "created_at": day_start(now),
        "seen_on": now.date(),
        "retention_at": day_start(now) if retention_at is None else retention_at,
        "alias": seal(PatientRow.alias, new.alias),
        "language": seal(PatientRow.language, new.language),
        "time_zone": seal(PatientRow.time_zone, new.time_zone),
        "discreet": seal(PatientRow.discreet, False),
        "consent": seal(PatientRow.consent, consent),
        "preferences": seal(PatientRow.preferences, {}),
        "retention": None,
    }


def _account_cells(
    context: StoreContext, crypto: SessionCrypto, pid: str, new: NewPatient, now: datetime
) -> dict[str, Any]:
    row_id = new_id()
    address = normalise("telegram", new.telegram)
    seal = _sealer(crypto, _IDENTITIES.name, pid, row_id)
    return {
        "id": row_id,
        "patient_id": pid,
        "channel": "telegram",
        "lookup": context.blind_index.lookup("telegram", address),
        "created_at": day_start(now),  # the patient's only account: first of the day
        "address": seal(ChannelIdentityRow.address, address),
        "chat": seal(ChannelIdentityRow.chat, new.chat),
    }


def _enrolment_cells(
    crypto: SessionCrypto, pid: str, plan: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    row_id = new_id()
    return {
        "id": row_id,
        "patient_id": pid,
        "active": True,
        "created_at": day_start(now),  # the patient's only enrolment: first of the day
        "updated_at": day_start(now),
        "planned_until": None,
        "plan": EnrolmentRow.plan.seal_value(crypto, _ENROLMENTS.name, pid, row_id, dict(plan)),
        "created_exact": EnrolmentRow.created_exact.seal_value(
            crypto, _ENROLMENTS.name, pid, row_id, now
        ),
    }
