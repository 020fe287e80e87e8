"""The store: open it (check keys, migrate), use its repositories, forget a patient, close it.

Typical use::

    keyring = load_keyring(master_key, key_file)
    store = await Store.open(database_url, keyring)
    patient = await store.patients.create(alias="Mina", language="ko", time_zone="Asia/Seoul")
    async with store.transaction() as tx:          # several changes, one transaction
        event = await tx.doses.record(patient.id, slot_id, DoseOutcome.TAKEN, ReportedVia.BUTTON)
        await tx.outbox.enqueue(message)
    await store.forget(patient.id)
    await store.close()
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import delete, func, insert, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from storage import crypto
from storage.blind_index import BlindIndex
from storage.context import StoreContext
from storage.crypto import AuthenticationFailed, DataKeyCache
from storage.db import DEFAULT_BUSY_TIMEOUT_MS, create_engine, database_errors, sqlite_path
from storage.errors import KeyConfigError, NotFound, StoreError
from storage.forgotten import ForgottenList
from storage.keyring import Keyring
from storage.migrate import current_revision, head_revision, lock_for_migration, upgrade
from storage.models import (
    AuditRow,
    Base,
    ChannelIdentityRow,
    CodeAttemptRow,
    DataKeyRow,
    PatientRow,
    StoreKeyRow,
)
from storage.records import ForgetReport
from storage.repositories import (
    AuditRepository,
    CleanupRepository,
    ConversationRepository,
    DoseRepository,
    DoseTimerRepository,
    EnrolmentRepository,
    HelperRepository,
    IdentityRepository,
    IncidentRepository,
    MeasurementRepository,
    MetricsRepository,
    MoodRepository,
    OutboxRepository,
    PaceRepository,
    PatientRepository,
    PillStockRepository,
    PlanningRepository,
    RetentionRepository,
    SideEffectRepository,
    SmsRepository,
    TelegramUpdateRepository,
    TimerRepository,
)
from storage.repositories.appointments import AppointmentRepository
from storage.repositories.cleanups import CLEANUP_KEY, last_word, leftovers, seal_row
from storage.repositories.history import HistoryRepository
from storage.session import StoreSession

logger = logging.getLogger(__name__)

BLIND_INDEX_KEY = "blind_index"
DEFAULT_KEY_CACHE_SIZE = 10_000
_FORGOTTEN_CHUNK = 500


def utc_now() -> datetime:
    return datetime.now(UTC)


def _patient_tables() -> list[str]:
    """Every table holding a patient's rows, children before parents (safe delete order)."""
    owned = [
        table.name
        for table in reversed(Base.metadata.sorted_tables)
        if "patient_id" in table.columns and table.name != PatientRow.__tablename__
    ]
    return [*owned, PatientRow.__tablename__]


class Repositories:
    """The repositories, all bound to one transaction or each owning its own."""

    def __init__(self, context: StoreContext, session: AsyncSession | None = None) -> None:
        self.patients = PatientRepository(context, session)
        self.identities = IdentityRepository(context, session)
        self.enrolments = EnrolmentRepository(context, session)
        self.doses = DoseRepository(context, session)
        self.dose_timers = DoseTimerRepository(context, session)
        self.side_effects = SideEffectRepository(context, session)
        self.mood = MoodRepository(context, session)
        self.pill_stock = PillStockRepository(context, session)
        self.measurements = MeasurementRepository(context, session)
        self.planning = PlanningRepository(context, session)
        self.helpers = HelperRepository(context, session)
        self.incidents = IncidentRepository(context, session)
        self.timers = TimerRepository(context, session)
        self.history = HistoryRepository(context, session)
        self.metrics = MetricsRepository(context, session)
        self.conversations = ConversationRepository(context, session)
        self.outbox = OutboxRepository(context, session)
        self.audit = AuditRepository(context, session)
        self.sms = SmsRepository(context, session)
        self.appointments = AppointmentRepository(context, session)
        self.cleanups = CleanupRepository(context, session)
        self.retention = RetentionRepository(context, session)
        self.telegram_updates = TelegramUpdateRepository(context, session)
        self.pace = PaceRepository(context, session)
        self._tx_session = session

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """Inside `Store.transaction()`: a nested transaction, rolled back alone if the block
        raises, so one bad item of a batch does not undo the others."""
        if self._tx_session is None:
            raise StoreError("a savepoint needs a transaction: use store.transaction()")
        async with self._tx_session.begin_nested():
            yield


class Store(Repositories):
    """An open store. Each repository call is its own transaction; see `transaction`."""

    def __init__(self, context: StoreContext, forgotten: ForgottenList | None = None) -> None:
        super().__init__(context)
        self.context = context
        self.forgotten = forgotten

    @classmethod
    async def open(
        cls,
        database_url: str,
        keyring: Keyring,
        *,
        migrate: bool = True,
        clock: Callable[[], datetime] = utc_now,
        key_cache_size: int = DEFAULT_KEY_CACHE_SIZE,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        forgotten: ForgottenList | None = None,
    ) -> Store:
        """Open the database, refusing to run with keys that do not fit it.

        In one transaction (serialised across processes):

        1. If the schema exists, check the keys before writing anything: every master key id
           the data uses is configured, and one data key per id and the blind index key unwrap.
           A wrong or missing key raises `KeyConfigError` and the transaction is rolled back.
        2. Migrate to the newest revision (or, with ``migrate=False``, refuse an old schema).
        3. Create the blind index key on first start, wrapped by the newest master key.
        4. Write once (a no-op update), so that a read-only database (file, folder, mount, or
           a PostgreSQL standby or read-only default) is refused now, with
           `DatabaseReadOnly`, not at the first dose a patient reports.

        Then, with a `forgotten` list, forget again every listed patient the database holds
        (a restored backup brings them back).
        """
        engine = create_engine(database_url, busy_timeout_ms=busy_timeout_ms)
        try:
            with database_errors(sqlite_path(database_url)):
                async with engine.begin() as connection:
                    await lock_for_migration(connection)
                    await verify_keys(connection, keyring)
                    if migrate:
                        await upgrade(connection, keyring=keyring)
                    elif await current_revision(connection) != head_revision():
                        raise StoreError(
                            "the database schema is not up to date; run `tbbot migrate` first"
                        )
                    blind_key = await _store_key(connection, keyring, BLIND_INDEX_KEY)
                    cleanup_key = await _store_key(connection, keyring, CLEANUP_KEY)
                    await _probe_write(connection)
        except BaseException:
            await engine.dispose()
            raise
        context = StoreContext(
            engine=engine,
            sessions=async_sessionmaker(
                engine, expire_on_commit=False, sync_session_class=StoreSession
            ),
            keyring=keyring,
            data_keys=DataKeyCache(key_cache_size),
            blind_index=BlindIndex(blind_key),
            clock=clock,
            cleanup_cipher=AESGCM(cleanup_key),
        )
        store = cls(context, forgotten)
        try:
            again = await store.reapply_forgotten()
        except BaseException:
            await store.close()
            raise
        if again:
            logger.warning("%d forgotten patients were in the database again: forgotten", again)
        return store

    @property
    def engine(self) -> AsyncEngine:
        return self.context.engine

    @property
    def keyring(self) -> Keyring:
        return self.context.keyring

    async def close(self) -> None:
        self.context.data_keys.clear()
        await self.context.engine.dispose()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Repositories]:
        """Repositories sharing one transaction: all their changes commit together or none."""
        async with self.context.transaction() as session:
            yield Repositories(self.context, session)

    async def forget(
        self,
        patient_id: str,
        *,
        chat_deletes: Mapping[str, timedelta | None] | None = None,
        farewell: Mapping[str, Any] | None = None,
    ) -> ForgetReport:
        """Delete a patient for good: the data key and every row, in one transaction.

        0. With a forgotten list, append the id to it first (durably), so that restoring a
           backup made before now cannot bring the patient back; if it cannot be written,
           nothing is forgotten.
        1. With `chat_deletes` (each channel that deletes messages, and for how long after
           sending; `scheduler.forgetting` builds it from the channel registry), move what
           must still be deleted from chats to ``chat_cleanups``, which belongs to no patient
           (`storage.repositories.cleanups.leftovers`); with `farewell` (a payload), that
           last message to the patient's own account goes there too.
        2. Delete the patient's rows from every table with a ``patient_id`` column (children
           first), then the data key, then the patient row. SQLite overwrites the freed pages
           with zeros (``secure_delete``).
        3. Add an audit row with the number of rows deleted and no id.
        4. After the commit, drop the cached data key, and on SQLite checkpoint the WAL so the
           old pages leave the log file as well.

        Copies made before the forget (backups, and on PostgreSQL dead row versions until
        vacuum) still hold the wrapped data key, readable with the master key of that time;
        docs/storage.md says how retiring a master key closes that gap.
        """
        if self.forgotten is not None:
            await asyncio.to_thread(self.forgotten.add, patient_id)
        return await self._erase(patient_id, chat_deletes or {}, farewell)

    async def _erase(
        self,
        patient_id: str,
        chat_deletes: Mapping[str, timedelta | None],
        farewell: Mapping[str, Any] | None = None,
    ) -> ForgetReport:
        """Steps 1 to 4 of `forget`."""
        deleted: dict[str, int] = {}
        async with self.context.transaction() as session:
            if await session.get(PatientRow, patient_id) is None:
                raise NotFound("patients", patient_id)
            if chat_deletes or farewell:
                now = self.context.clock()
                await self.context.load_keys(session, [patient_id])
                left = await leftovers(session, patient_id, chat_deletes, now)
                if farewell is not None:
                    left += await last_word(session, patient_id, farewell, now)
                session.add_all([seal_row(self.context, item) for item in left])
            # Tries at helper codes are kept by account, not by patient: those of the
            # patient's own accounts go too (they share the identities' blind index values).
            accounts = select(ChannelIdentityRow.lookup).where(
                ChannelIdentityRow.patient_id == patient_id
            )
            tries = await session.execute(
                delete(CodeAttemptRow).where(CodeAttemptRow.lookup.in_(accounts))
            )
            deleted[CodeAttemptRow.__tablename__] = int(getattr(tries, "rowcount", 0))
            for table_name in _patient_tables():
                table = Base.metadata.tables[table_name]
                column = (
                    table.c.id if table_name == PatientRow.__tablename__ else table.c.patient_id
                )
                result = await session.execute(delete(table).where(column == patient_id))
                deleted[table_name] = int(getattr(result, "rowcount", 0))
            session.add(
                AuditRow(
                    at=self.context.clock(), event="patient_forgotten", count=sum(deleted.values())
                )
            )
        self.context.data_keys.drop(patient_id)
        if self.context.dialect == "sqlite":
            await self._checkpoint()
        return ForgetReport({name: count for name, count in deleted.items() if count})

    async def reapply_forgotten(self) -> int:
        """Forget every patient on the forgotten list that the database holds; how many."""
        if self.forgotten is None:
            return 0
        listed = await asyncio.to_thread(self.forgotten.ids)
        found: list[str] = []
        async with self.context.transaction() as session:
            for start in range(0, len(listed), _FORGOTTEN_CHUNK):
                chunk = listed[start : start + _FORGOTTEN_CHUNK]
                found += await session.scalars(
                    select(PatientRow.id).where(PatientRow.id.in_(chunk))
                )
        again = 0
        for patient_id in found:
            try:
                await self._erase(patient_id, {})
            except NotFound:
                continue  # another worker starting at the same time was first
            again += 1
        return again

    async def _checkpoint(self) -> None:
        """Fold the WAL into the database file and truncate it; skipped if readers are busy."""
        try:
            with database_errors():
                async with self.context.engine.connect() as connection:
                    # On the driver connection: the checkpoint must run outside a transaction,
                    # and SQLAlchemy would begin one (BEGIN IMMEDIATE) first.
                    raw = await connection.get_raw_connection()
                    driver: Any = raw.driver_connection
                    cursor = await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    await cursor.close()
        except StoreError as exc:
            logger.warning("WAL checkpoint after forget postponed: %s", exc)


async def _probe_write(connection: AsyncConnection) -> None:
    """Step 4 of `Store.open`: a write that changes nothing."""
    await connection.execute(text("UPDATE alembic_version SET version_num = version_num"))


async def has_schema(connection: AsyncConnection) -> bool:
    return await connection.run_sync(
        lambda sync: inspect(sync).has_table(StoreKeyRow.__tablename__)
    )


async def verify_keys(connection: AsyncConnection, keyring: Keyring) -> None:
    """Refuse keys that cannot open this database; reads only. See `Store.open`."""
    if not await has_schema(connection):
        return
    row = (
        await connection.execute(
            select(StoreKeyRow.key_id, StoreKeyRow.wrapped).where(
                StoreKeyRow.name == BLIND_INDEX_KEY
            )
        )
    ).one_or_none()
    if row is not None:
        _unwrap_store_key(keyring, row.key_id, row.wrapped)
    samples = await connection.execute(
        select(DataKeyRow.key_id, func.min(DataKeyRow.patient_id)).group_by(DataKeyRow.key_id)
    )
    for key_id, patient_id in samples.all():
        wrapped = await connection.scalar(
            select(DataKeyRow.wrapped).where(DataKeyRow.patient_id == patient_id)
        )
        master = keyring.get(key_id)
        try:
            crypto.unwrap_key(
                master.secret, wrapped or b"", crypto.data_key_aad(patient_id, key_id)
            )
        except AuthenticationFailed:
            raise _wrong_key(key_id) from None


def _wrong_key(key_id: str) -> KeyConfigError:
    return KeyConfigError(
        f"the configured master key {key_id!r} does not open this database: it has the id the "
        "data was written with but different bytes. Nothing was written. Check "
        "TBBOT_MASTER_KEY_FILE (or TBBOT_MASTER_KEY) points at this database's key file"
    )


def _unwrap_store_key(
    keyring: Keyring, key_id: str, wrapped: bytes, name: str = BLIND_INDEX_KEY
) -> bytes:
    master = keyring.get(key_id)
    try:
        return crypto.unwrap_key(master.secret, wrapped, crypto.store_key_aad(name, key_id))
    except AuthenticationFailed:
        raise _wrong_key(key_id) from None


async def _store_key(connection: AsyncConnection, keyring: Keyring, name: str) -> bytes:
    """The store key `name` (the blind index key, the chat clean-up key), made and wrapped by
    the newest master key on first start."""
    row = (
        await connection.execute(
            select(StoreKeyRow.key_id, StoreKeyRow.wrapped).where(StoreKeyRow.name == name)
        )
    ).one_or_none()
    if row is not None:
        return _unwrap_store_key(keyring, row.key_id, row.wrapped, name)
    key = crypto.new_key()
    master = keyring.newest
    await connection.execute(
        insert(StoreKeyRow).values(
            name=name,
            key_id=master.id,
            wrapped=crypto.wrap_key(master.secret, key, crypto.store_key_aad(name, master.id)),
        )
    )
    return key
