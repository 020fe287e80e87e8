"""Dose events written and read per second, with and without encryption, on SQLite and PostgreSQL.

Both paths go through the same ORM, session and row shape; the only difference is sealing:
the encrypted rows are `storage.models.DoseEventRow` (four sealed fields under a patient's data
key), the plain rows a mirror table holding the same encoded bytes unencrypted. Writes are
batched (``BATCH`` rows per transaction) so the figure is the per-row cost, not the fsync of a
commit; ``record()`` shows the end-to-end cost of one dose report in its own transaction.

Run: ``.venv/bin/python -m bench storage``. PostgreSQL comes from ``TBBOT_TEST_POSTGRES_URL``
(default ``postgresql+asyncpg://postgres@127.0.0.1:5432/test``); a throwaway database is
created and dropped.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from sqlalchemy import LargeBinary, String, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.keyring import Keyring, MasterKey
from storage.models import DoseEventRow, UTCDateTime
from storage.records import DoseOutcome, NewDoseSlot, ReportedVia
from storage.repositories.doses import to_event
from storage.sealed import OPTIONAL_INSTANT, OPTIONAL_TEXT, TEXT, new_id
from storage.store import Store
from treatment.enrolment import enrol

ROWS = 5_000
BATCH = 500
REPEATS = 3
RECORDS = 300
POSTGRES_URL = os.environ.get(
    "TBBOT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


class PlainBase(DeclarativeBase):
    pass


class PlainDoseEvent(PlainBase):
    """The dose event row without sealing: same columns, plaintext bytes."""

    __tablename__ = "bench_plain_dose_events"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    patient_id: Mapped[str] = mapped_column(String(32), index=True)
    slot_id: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[bytes] = mapped_column(LargeBinary)
    reported_at: Mapped[bytes] = mapped_column(LargeBinary)
    via: Mapped[bytes] = mapped_column(LargeBinary)
    note: Mapped[bytes] = mapped_column(LargeBinary)


async def _best(run: Callable[[], Awaitable[None]]) -> float:
    """The fastest of ``REPEATS`` runs, in seconds."""
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        await run()
        times.append(time.perf_counter() - start)
    return min(times)


async def _measure(url: str) -> dict[str, float]:
    keyring = Keyring((MasterKey("bench", secrets.token_bytes(32)),))
    store = await Store.open(url, keyring)
    try:
        patient = await store.patients.create(alias="Bench", language="en", time_zone="UTC")
        plan = enrol(
            regimen="2HRZE/4HR", start=NOW.date(), times=["08:00"], zone="UTC", today=NOW.date()
        )
        record = await store.enrolments.add(patient.id, plan)
        slots = await store.doses.add_slots(
            patient.id,
            record.id,
            [
                NewDoseSlot(NOW + timedelta(days=d), NOW + timedelta(days=d, hours=6))
                for d in range(RECORDS)
            ],
        )
        async with store.engine.begin() as connection:
            await connection.run_sync(PlainBase.metadata.create_all)
        plain_sessions = async_sessionmaker(store.engine, expire_on_commit=False)
        context = store.context
        slot_id = slots[0].id

        async def write_sealed() -> None:
            for _ in range(ROWS // BATCH):
                async with context.transaction() as session:
                    await context.load_keys(session, [patient.id])
                    session.add_all(
                        DoseEventRow(
                            id=new_id(),
                            patient_id=patient.id,
                            slot_id=slot_id,
                            recorded_at=NOW,
                            outcome="taken",
                            via="button",
                            reported_at=NOW,
                            note=None,
                        )
                        for _ in range(BATCH)
                    )

        async def write_plain() -> None:
            for _ in range(ROWS // BATCH):
                async with plain_sessions() as session, session.begin():
                    session.add_all(
                        PlainDoseEvent(
                            id=new_id(),
                            patient_id=patient.id,
                            slot_id=slot_id,
                            recorded_at=NOW,
                            outcome=TEXT.encode("taken"),
                            via=TEXT.encode("button"),
                            reported_at=OPTIONAL_INSTANT.encode(NOW),
                            note=OPTIONAL_TEXT.encode(None),
                        )
                        for _ in range(BATCH)
                    )

        async def read_sealed() -> None:
            async with context.transaction() as session:
                await context.load_keys(session, [patient.id])
                rows = await session.scalars(
                    select(DoseEventRow).where(DoseEventRow.patient_id == patient.id)
                )
                events = [to_event(row) for row in rows]
            assert len(events) >= ROWS

        async def read_plain() -> None:
            session: AsyncSession
            async with plain_sessions() as session, session.begin():
                rows = await session.scalars(
                    select(PlainDoseEvent).where(PlainDoseEvent.patient_id == patient.id)
                )
                events = [
                    (
                        DoseOutcome(TEXT.decode(r.outcome)),
                        ReportedVia(TEXT.decode(r.via)),
                        OPTIONAL_INSTANT.decode(r.reported_at),
                        OPTIONAL_TEXT.decode(r.note),
                    )
                    for r in rows
                ]
            assert len(events) >= ROWS

        async def record_each() -> None:
            for slot in slots:
                await store.doses.record(patient.id, slot.id, DoseOutcome.TAKEN, ReportedVia.BUTTON)

        results = {
            "write_sealed": await _best(write_sealed),
            "write_plain": await _best(write_plain),
            "read_sealed": await _best(read_sealed),
            "read_plain": await _best(read_plain),
        }
        start = time.perf_counter()
        await record_each()
        results["record_each"] = time.perf_counter() - start
        # Reads saw every row written so far (REPEATS x ROWS): scale per row accordingly.
        results["rows_read"] = ROWS * REPEATS
        return results
    finally:
        await store.close()


def _report(engine: str, r: dict[str, float]) -> None:
    for kind in ("write", "read"):
        rows = ROWS if kind == "write" else r["rows_read"]
        sealed, plain = r[f"{kind}_sealed"] / rows, r[f"{kind}_plain"] / rows
        extra = (sealed - plain) * 1e6
        print(
            f"{engine:10} {kind:5}  encrypted {1 / sealed:9,.0f} rows/s  plain {1 / plain:9,.0f} "
            f"rows/s  encryption adds {extra:5.1f} µs/row ({(sealed / plain - 1) * 100:+.0f}%)"
        )
    print(
        f"{engine:10} record() one dose report per transaction: {RECORDS / r['record_each']:,.0f}/s"
    )


async def _postgres_database() -> tuple[str, str] | None:
    admin_dsn = make_url(POSTGRES_URL).set(drivername="postgresql").render_as_string(False)
    try:
        admin = await asyncpg.connect(admin_dsn, timeout=3)
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"postgresql skipped: {type(exc).__name__}")
        return None
    name = f"tbbot_bench_{secrets.token_hex(4)}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    return admin_dsn, name


async def _run() -> None:
    print(f"{ROWS} dose events per run in batches of {BATCH}; best of {REPEATS}")
    with tempfile.TemporaryDirectory() as folder:
        _report("sqlite", await _measure(f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}"))
    created = await _postgres_database()
    if created is None:
        return
    admin_dsn, name = created
    try:
        url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        _report("postgresql", await _measure(url))
    finally:
        admin = await asyncpg.connect(admin_dsn)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    asyncio.run(_run())
