"""Creation instants show the day, not the time.

``patients``, ``channel_identities``, ``enrolments`` and ``helpers`` kept in plaintext the
exact instant each row was made: when someone enrolled, linked an account, named a helper.
Their ``created_at`` now holds the UTC day start, plus one microsecond for each earlier row of
the same patient made that day (`storage.repositories.base.made_on`), so ordering by it keeps
the order the rows were made in; ``enrolments.updated_at`` keeps the day only. The mood
check-in and the weight question count from an enrolment's exact creation, which is sealed in
the new column ``enrolments.created_exact``.

Sealing the instants of enrolments written before needs the patients' data keys, as revision
0009 did: `Store.open` passes the keyring; `tbbot migrate` does when a key is configured, and
otherwise refuses, before changing anything, if there is an enrolment to seal. The downgrade
puts the enrolments' exact instants back from the sealed column (with the key) and leaves the
other columns at their days: nothing read them exactly.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 01:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import op

from storage.migration_keys import cells
from storage.sealed import INSTANT

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, the column naming the patient whose rows keep their order; None: a patient)
_BLURRED = (
    ("patients", None),
    ("channel_identities", "patient_id"),
    ("enrolments", "patient_id"),
    ("helpers", "patient_id"),
)
_INSTANT = sa.DateTime(timezone=True)
_EXACT = ("enrolments", "created_exact")
"""The sealed cell of an enrolment's exact creation: its table and column."""
_TICK = timedelta(microseconds=1)


def _aware(value: datetime) -> datetime:
    """An instant read by Core (naive UTC on SQLite) as an aware one."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _stored(value: datetime) -> datetime:
    """An instant as `storage.models.UTCDateTime` stores it on this engine."""
    return value.replace(tzinfo=None) if op.get_bind().dialect.name == "sqlite" else value


def _day(value: datetime) -> datetime:
    return value.replace(hour=0, minute=0, second=0, microsecond=0)


def _enrolments(*columns: sa.ColumnClause[Any]) -> sa.TableClause:
    return sa.table("enrolments", sa.column("id"), sa.column("patient_id"), *columns)


def _set(table: str, column: str, kind: Any, values: list[tuple[str, Any]]) -> None:
    """``UPDATE table SET column = value WHERE id = row id`` for each (row id, value)."""
    if not values:
        return
    target = sa.table(table, sa.column("id"), sa.column(column, kind))
    op.get_bind().execute(
        target.update()
        .where(target.c.id == sa.bindparam("b_id"))
        .values({column: sa.bindparam("b_value")}),
        [{"b_id": row_id, "b_value": value} for row_id, value in values],
    )


def _days(table: str, owner: str | None) -> list[tuple[str, datetime]]:
    """Each row's day and place among its patient's rows of that day, in the order made.

    1. Read every row's id, patient (if the table has one) and creation instant.
    2. Sort by instant, then id (the order the store read them in).
    3. Number the rows of each (patient, day) from 0: the day start plus that many
       microseconds. A patient row is the only one of its kind, so it gets the day start.
    """
    columns = [sa.column("id"), sa.column("created_at", _INSTANT)]
    if owner is not None:
        columns.append(sa.column(owner))
    target = sa.table(table, *columns)
    rows = sorted(
        op.get_bind().execute(sa.select(*target.c)).all(),
        key=lambda row: (_aware(row.created_at), row.id),
    )
    seen: dict[tuple[str, datetime], int] = {}
    days = []
    for row in rows:
        day = _day(_aware(row.created_at))
        place = 0
        if owner is not None:
            group = (getattr(row, owner), day)
            place = seen[group] = seen.get(group, -1) + 1
        days.append((row.id, _stored(day + place * _TICK)))
    return days


def upgrade() -> None:
    bind = op.get_bind()
    made = bind.execute(sa.select(*_enrolments(sa.column("created_at", _INSTANT)).c)).all()
    sealed: list[tuple[str, Any]] = []
    if made:
        keys = cells("seals the instants at which enrolments were made")
        keys.load({row.patient_id for row in made})
        sealed = [
            (row.id, keys.seal(INSTANT, row.patient_id, *_EXACT, row.id, _aware(row.created_at)))
            for row in made
        ]
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_exact", sa.LargeBinary(), nullable=True))
    _set("enrolments", "created_exact", sa.LargeBinary(), sealed)
    for table, owner in _BLURRED:
        _set(table, "created_at", _INSTANT, _days(table, owner))
    changed = _enrolments(sa.column("updated_at", _INSTANT))
    days = bind.execute(sa.select(changed.c.id, changed.c.updated_at)).all()
    _set(
        "enrolments",
        "updated_at",
        _INSTANT,
        [(row.id, _stored(_day(_aware(row.updated_at)))) for row in days],
    )


def downgrade() -> None:
    exact = _enrolments(sa.column("created_exact", sa.LargeBinary()))
    rows = (
        op.get_bind().execute(sa.select(*exact.c).where(exact.c.created_exact.is_not(None))).all()
    )
    if rows:
        keys = cells("opens the instants at which enrolments were made")
        keys.load({row.patient_id for row in rows})
        _set(
            "enrolments",
            "created_at",
            _INSTANT,
            [
                (
                    row.id,
                    _stored(keys.open(INSTANT, row.patient_id, *_EXACT, row.id, row.created_exact)),
                )
                for row in rows
            ],
        )
    # Not batch mode: on SQLite that copies `enrolments` into a new table and drops the old
    # one, and with foreign keys on, the drop deletes the enrolment's dose slots.
    op.execute("ALTER TABLE enrolments DROP COLUMN created_exact")
