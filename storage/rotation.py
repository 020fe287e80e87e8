"""Master key rotation, key usage, and the check that everything still decrypts.

Rotation re-wraps data keys only: cells stay encrypted under their patient's data key, so
rotating touches one small row per patient, not every cell. Progress lives in the rows
themselves (each ``data_keys.key_id``), so an interrupted rotation resumes by running again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from storage import crypto
from storage.crypto import AuthenticationFailed
from storage.errors import IntegrityError
from storage.keyring import Keyring
from storage.models import SEALED_MODELS, AuditRow, DataKeyRow, StoreKeyRow
from storage.sealed import BLANK, SealedRow, sealed_fields
from storage.store import Store

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
_VERIFY_BATCH = 500


@dataclass(frozen=True)
class KeyUsage:
    """Which master key ids wrap which keys. Counts and ids only."""

    configured: tuple[str, ...]
    newest: str
    data_keys: dict[str, int]
    store_keys: dict[str, int]

    @property
    def in_use(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.data_keys) | set(self.store_keys)))

    @property
    def missing(self) -> tuple[str, ...]:
        """Used by the database but not configured: those rows cannot be read."""
        return tuple(key_id for key_id in self.in_use if key_id not in self.configured)

    @property
    def unused(self) -> tuple[str, ...]:
        """Configured but wrapping nothing: safe to remove once no backup needs them."""
        return tuple(key_id for key_id in self.configured if key_id not in self.in_use)


async def key_usage(connection: AsyncConnection, keyring: Keyring) -> KeyUsage:
    async def counts(model: type[DataKeyRow] | type[StoreKeyRow]) -> dict[str, int]:
        rows = await connection.execute(
            select(model.key_id, func.count()).group_by(model.key_id).order_by(model.key_id)
        )
        return {key_id: int(count) for key_id, count in rows.all()}

    return KeyUsage(
        configured=keyring.ids,
        newest=keyring.newest.id,
        data_keys=await counts(DataKeyRow),
        store_keys=await counts(StoreKeyRow),
    )


@dataclass(frozen=True)
class RotationReport:
    newest: str
    rewrapped: int
    store_keys_rewrapped: int


async def rotate(
    store: Store, *, batch_size: int, progress: Progress | None = None
) -> RotationReport:
    """Re-wrap every data key (and the blind index key) under the newest master key.

    1. Count the data keys not yet under the newest key (the total for progress).
    2. Re-wrap the store keys in one transaction.
    3. Repeat until none is left: in one transaction take a batch of data keys under older keys
       (``SKIP LOCKED`` on PostgreSQL, so two rotations share the work), unwrap each under its
       recorded key, wrap it under the newest, and update it only if its ``key_id`` is still
       the old one. Commit, report progress. A kill loses at most the open batch.
    4. Record the rotation in the audit log (key id and count only).
    """
    context = store.context
    newest = context.keyring.newest
    async with context.transaction() as session:
        total = int(
            await session.scalar(
                select(func.count()).select_from(DataKeyRow).where(DataKeyRow.key_id != newest.id)
            )
            or 0
        )
        store_rows = list(
            await session.scalars(select(StoreKeyRow).where(StoreKeyRow.key_id != newest.id))
        )
        for row in store_rows:
            old = context.keyring.get(row.key_id)
            try:
                key = crypto.unwrap_key(
                    old.secret, row.wrapped, crypto.store_key_aad(row.name, old.id)
                )
            except AuthenticationFailed:
                raise IntegrityError("store_keys", "wrapped", row.name) from None
            row.wrapped = crypto.wrap_key(
                newest.secret, key, crypto.store_key_aad(row.name, newest.id)
            )
            row.key_id = newest.id
    done = 0
    if progress:
        progress(done, total)
    while True:
        async with context.transaction() as session:
            query = (
                select(DataKeyRow.patient_id, DataKeyRow.key_id, DataKeyRow.wrapped)
                .where(DataKeyRow.key_id != newest.id)
                .order_by(DataKeyRow.patient_id)
                .limit(batch_size)
            )
            if context.dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            batch = (await session.execute(query)).all()
            for patient_id, key_id, wrapped in batch:
                key = context.unwrap_data_key(patient_id, key_id, wrapped)
                rewrapped = crypto.wrap_key(
                    newest.secret, key, crypto.data_key_aad(patient_id, newest.id)
                )
                await session.execute(
                    update(DataKeyRow)
                    .where(DataKeyRow.patient_id == patient_id, DataKeyRow.key_id == key_id)
                    .values(key_id=newest.id, wrapped=rewrapped)
                )
        if not batch:
            break
        done += len(batch)
        if progress:
            progress(min(done, total), total)
    async with context.transaction() as session:
        session.add(
            AuditRow(at=context.clock(), event="keys_rotated", key_id=newest.id, count=done)
        )
    return RotationReport(newest=newest.id, rewrapped=done, store_keys_rewrapped=len(store_rows))


@dataclass
class VerifyReport:
    data_keys: int = 0
    cells: int = 0
    failures: list[IntegrityError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


async def verify(store: Store, progress: Progress | None = None) -> VerifyReport:
    """Decrypt every data key and every sealed cell; collect the failures instead of stopping.

    1. Walk ``data_keys`` in batches; unwrap each under the master key its row names.
    2. For each table with sealed fields, walk its rows in id order (keyset pagination), load
       the data keys of the batch, and open every sealed field.
    3. Each failure is logged and audited (table, column, row id only).
    Progress counts rows: data keys first, then every sealed row.
    """
    context = store.context
    report = VerifyReport()
    async with context.transaction() as session:
        total = int(await session.scalar(select(func.count()).select_from(DataKeyRow)) or 0)
        for model in SEALED_MODELS:
            total += int(await session.scalar(select(func.count()).select_from(model)) or 0)
    seen = 0
    last = ""
    while True:
        async with context.transaction() as session:
            batch = (
                await session.execute(
                    select(DataKeyRow.patient_id, DataKeyRow.key_id, DataKeyRow.wrapped)
                    .where(DataKeyRow.patient_id > last)
                    .order_by(DataKeyRow.patient_id)
                    .limit(_VERIFY_BATCH)
                )
            ).all()
        for patient_id, key_id, wrapped in batch:
            try:
                context.unwrap_data_key(patient_id, key_id, wrapped)
                report.data_keys += 1
            except IntegrityError as failure:
                report.failures.append(failure)
                await context.audit_integrity_failure(failure)
        if not batch:
            break
        last = batch[-1][0]
        seen += len(batch)
        if progress:
            progress(seen, total)
    for model in SEALED_MODELS:
        seen = await _verify_model(store, model, report, seen, total, progress)
    return report


async def _verify_model(
    store: Store,
    model: type[SealedRow],
    report: VerifyReport,
    seen: int,
    total: int,
    progress: Progress | None,
) -> int:
    context = store.context
    fields = sealed_fields(model)
    last = ""
    while True:
        failures: list[IntegrityError] = []
        async with context.transaction() as session:
            rows: list[Any] = list(
                await session.scalars(
                    select(model).where(model.id > last).order_by(model.id).limit(_VERIFY_BATCH)
                )
            )
            owners = {row.data_key_owner() for row in rows}
            readable = await _load_readable_keys(store, session, owners)
            for row in rows:
                if row.data_key_owner() not in readable:
                    continue
                for sealed in fields:
                    stored = getattr(row, sealed.storage)
                    if stored is None or (sealed.blank and stored == BLANK):
                        continue  # an optional cell left empty (an open slot's outcome)
                    try:
                        getattr(row, sealed.column)
                        report.cells += 1
                    except IntegrityError as cell_failure:
                        failures.append(cell_failure)
        for found in failures:
            report.failures.append(found)
            await context.audit_integrity_failure(found)
        if not rows:
            return seen
        last = rows[-1].id
        seen += len(rows)
        if progress:
            progress(seen, total)


async def _load_readable_keys(
    store: Store, session: AsyncSession, patient_ids: set[str]
) -> set[str]:
    """Load the data keys of a batch; on a bad one, load one by one and leave it out.

    A data key that does not unwrap was already reported by the data key walk.
    """
    try:
        await store.context.load_keys(session, patient_ids)
        return patient_ids
    except IntegrityError:
        readable = set()
        for patient_id in patient_ids:
            try:
                await store.context.load_keys(session, [patient_id])
                readable.add(patient_id)
            except IntegrityError:
                continue
        return readable
