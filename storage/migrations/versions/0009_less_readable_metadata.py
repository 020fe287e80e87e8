"""Less readable metadata: dose outcomes and message kinds sealed.

- ``dose_slots.state`` held the outcome (taken, missed, skipped) in plaintext. It now holds
  only the phase the scheduler needs (planned, open, closed); a closed slot's outcome is
  sealed in the new ``outcome`` column.
- ``outbox.kind`` told reminders from helper alerts; it is sealed (the dispatcher orders by
  ``priority``; metrics take the kind from the message in memory). So did the dedupe key
  (``incident:...``): the column holds its keyed hash, the key is sealed in ``dedupe``, and
  ``topic`` (a keyed hash too) groups a dose's reminders.
- Symptom follow-ups (``side_effect_reports.follow_up_at``, whose delay was the triage
  level's), helper escalations (``helper_incidents.next_at``) and weekly summaries
  (``helpers.summary_at``) move to one ``timers`` table: id (a keyed hash of what the timer
  is for), patient, due instant, lease; the task sealed.
- Side-effect reports, mood screenings and helper incidents show only the UTC day they were
  made (``recorded_on``, ``created_on``); the instant is sealed in the column that held it.
- ``pill_stock.updated_at`` (changed with every dose taken) and ``conversations.updated_at``
  (with every turn) keep only the day; a downgrade leaves them so (nothing read them exactly).
- A closed slot's ``next_check_at`` says when its exact instants are blurred
  (`storage.repositories.history`); a downgrade puts blurred instants back from the sealed dose.
- A message waiting in the outbox is "queued" and an open invitation "open", no longer
  "pending": no word of a dose's fate is left in the database for a scan to find.

Sealing rows written before needs the patients' data keys: `Store.open` passes the keyring;
`tbbot migrate` does when a key is configured, and otherwise refuses (before changing
anything) if there is something to seal. The downgrade opens the values again, with the key.

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-01 12:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from storage.migration_keys import Cells, cells
from storage.repositories.history import EXACT, blur_at
from storage.repositories.outbox.keys import stored_key, stored_topic
from storage.sealed import INSTANT, JSON_OBJECT, TEXT

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The slot states of revision 0007, and the phase each one now shows.
_PHASES = {"pending": "planned", "reminded": "open"}
_OUTCOMES = ("taken", "missed", "skipped", "cancelled")

# (table, revision 0007's state, this revision's)
_RENAMED = (("outbox", "pending", "queued"), ("helper_invites", "pending", "open"))

_slots = sa.table(
    "dose_slots",
    sa.column("id", sa.String),
    sa.column("patient_id", sa.String),
    sa.column("state", sa.String),
    sa.column("outcome", sa.LargeBinary),
)


def _outbox(kind: sa.types.TypeEngine[Any], column: str = "kind") -> sa.TableClause:
    return sa.table(
        "outbox",
        sa.column("id", sa.String),
        sa.column("patient_id", sa.String),
        sa.column(column, kind),
    )


# (table, the instant's column, the day's column)
_DAYS = (
    ("side_effect_reports", "recorded_at", "recorded_on"),
    ("mood_screenings", "recorded_at", "recorded_on"),
    ("helper_incidents", "created_at", "created_on"),
)
# (table, its timer column, the timer's task, the index on that column)
_TIMERS = (
    (
        "side_effect_reports",
        "follow_up_at",
        "recheck",
        "report",
        "ix_side_effect_reports_follow_up_at",
    ),
    ("helper_incidents", "next_at", "escalate", "incident", "ix_helper_incidents_state_next_at"),
    ("helpers", "summary_at", "summary", "helper", "ix_helpers_summary_at"),
)


def _instant(value: datetime) -> datetime:
    """An instant read by Core (naive UTC on SQLite) as an aware one."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _stored(value: datetime) -> datetime:
    """An instant as `storage.models.UTCDateTime` stores it on this engine."""
    value = value.astimezone(UTC)
    return value.replace(tzinfo=None) if op.get_bind().dialect.name == "sqlite" else value


_INSTANT = sa.DateTime(timezone=True)


def _rows(table: str, *columns: str | sa.ColumnClause[Any]) -> list[Any]:
    found = sa.table(table, *(sa.column(c) if isinstance(c, str) else c for c in columns))
    return list(op.get_bind().execute(sa.select(*found.c)).all())


def _timed(table: str, column: str) -> list[Any]:
    found = sa.table(table, sa.column("id"), sa.column("patient_id"), sa.column(column, _INSTANT))
    return list(
        op.get_bind().execute(sa.select(*found.c).where(found.c[column].is_not(None))).all()
    )


def _timed_rows() -> list[tuple[str, str, str, datetime, dict[str, str]]]:
    """Every timer of revision 0007: (patient, timer key, column, due, task)."""
    timers = []
    for table, column, task, subject, _ in _TIMERS:
        for row_id, patient_id, due in _timed(table, column):
            key = f"{task}:{row_id}"
            at = _instant(due)
            if task == "recheck":  # a follow-up keeps only its day (`SideEffectRepository.add`)
                at = at.replace(hour=0, minute=0, second=0, microsecond=0)
            timers.append((patient_id, key, table, at, {"do": task, subject: row_id}))
    return timers


def _create_timers() -> None:
    op.create_table(
        "timers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("patient_id", sa.String(length=32), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("task", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_timers_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timers")),
    )
    with op.batch_alter_table("timers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_timers_due_at"), ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_timers_patient_id"), ["patient_id"], unique=False)


def _timers_up(keys: Cells | None) -> None:
    """Step 3: the timers move to their table; their old columns go."""
    timed = _timed_rows()
    _create_timers()
    if keys is not None and timed:
        timers = sa.table(
            "timers",
            sa.column("id"),
            sa.column("patient_id"),
            sa.column("due_at", sa.DateTime(timezone=True)),
            sa.column("task", sa.LargeBinary),
        )
        blind = keys.blind_index()
        rows = []
        for patient_id, key, _, due, task in timed:
            timer_id = blind.lookup("timer", key).hex()[:32]
            sealed = keys.seal(JSON_OBJECT, patient_id, "timers", "task", timer_id, task)
            rows.append(
                {"id": timer_id, "patient_id": patient_id, "due_at": _stored(due), "task": sealed}
            )
        op.bulk_insert(timers, rows)
    for table, column, _, _, index in _TIMERS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(index)
            batch_op.drop_column(column)


def _timers_down(keys: Cells | None) -> None:
    for table, column, _, _, index in _TIMERS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(column, sa.DateTime(timezone=True), nullable=True))
            if table == "helper_incidents":
                batch_op.create_index(index, ["state", "next_at"], unique=False)
            else:
                batch_op.create_index(index, [column], unique=False)
    columns = {task: (table, column) for table, column, task, _, _ in _TIMERS}
    subjects = {task: subject for _, _, task, subject, _ in _TIMERS}
    for timer_id, patient_id, due, sealed in _rows(
        "timers",
        "id",
        "patient_id",
        sa.column("due_at", _INSTANT),
        sa.column("task", sa.LargeBinary()),
    ):
        if keys is None:
            break
        task = keys.open(JSON_OBJECT, patient_id, "timers", "task", timer_id, sealed)
        table, column = columns[task["do"]]
        target = sa.table(table, sa.column("id"), sa.column(column, sa.DateTime(timezone=True)))
        op.get_bind().execute(
            target.update()
            .where(target.c.id == task[subjects[task["do"]]])
            .values({column: _stored(_instant(due))})
        )
    op.drop_table("timers")


def _days_up(keys: Cells | None) -> None:
    """Step 4: the day stays readable, the instant is sealed in the column that held it."""
    for table, at, on in _DAYS:
        rows = _rows(table, "id", "patient_id", sa.column(at, _INSTANT))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(on, sa.Date(), nullable=True))
            batch_op.add_column(sa.Column(f"sealed_{at}", sa.LargeBinary(), nullable=True))
        if keys is not None and rows:
            target = sa.table(
                table,
                sa.column("id"),
                sa.column(on, sa.Date()),
                sa.column(f"sealed_{at}", sa.LargeBinary()),
            )
            op.get_bind().execute(
                target.update()
                .where(target.c.id == sa.bindparam("b_id"))
                .values({on: sa.bindparam("b_on"), f"sealed_{at}": sa.bindparam("b_at")}),
                [
                    {
                        "b_id": row_id,
                        "b_on": _instant(instant).date(),
                        "b_at": keys.seal(
                            INSTANT, patient_id, table, at, row_id, _instant(instant)
                        ),
                    }
                    for row_id, patient_id, instant in rows
                ],
            )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(at)
            batch_op.alter_column(on, existing_type=sa.Date(), nullable=False)
            batch_op.alter_column(
                f"sealed_{at}", new_column_name=at, existing_type=sa.LargeBinary(), nullable=False
            )


def _days_down(keys: Cells | None) -> None:
    for table, at, on in _DAYS:
        rows = _rows(table, "id", "patient_id", sa.column(at, sa.LargeBinary()))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(f"plain_{at}", sa.DateTime(timezone=True), nullable=True))
        if keys is not None and rows:
            target = sa.table(
                table, sa.column("id"), sa.column(f"plain_{at}", sa.DateTime(timezone=True))
            )
            op.get_bind().execute(
                target.update()
                .where(target.c.id == sa.bindparam("b_id"))
                .values({f"plain_{at}": sa.bindparam("b_at")}),
                [
                    {
                        "b_id": row_id,
                        "b_at": _stored(keys.open(INSTANT, patient_id, table, at, row_id, sealed)),
                    }
                    for row_id, patient_id, sealed in rows
                ],
            )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(at)
            batch_op.drop_column(on)
            batch_op.alter_column(
                f"plain_{at}",
                new_column_name=at,
                existing_type=sa.DateTime(timezone=True),
                nullable=False,
            )


def _outbox_up(keys: Cells | None) -> None:
    """Step 2: the kind sealed; the dedupe key hashed, sealed beside, and its topic hashed
    (`storage.repositories.outbox.keys`)."""
    rows = _rows("outbox", "id", "patient_id", "kind", "dedupe_key")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sealed_kind", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("topic", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("dedupe", sa.LargeBinary(), nullable=True))
    if keys is not None and rows:
        index = keys.blind_index()
        target = sa.table(
            "outbox",
            sa.column("id"),
            sa.column("sealed_kind", sa.LargeBinary()),
            sa.column("dedupe_key", sa.String()),
            sa.column("topic", sa.String()),
            sa.column("dedupe", sa.LargeBinary()),
        )
        op.get_bind().execute(
            target.update()
            .where(target.c.id == sa.bindparam("b_id"))
            .values(
                sealed_kind=sa.bindparam("b_kind"),
                dedupe_key=sa.bindparam("b_key"),
                topic=sa.bindparam("b_topic"),
                dedupe=sa.bindparam("b_dedupe"),
            ),
            [
                {
                    "b_id": row_id,
                    "b_kind": keys.seal(TEXT, patient_id, "outbox", "kind", row_id, kind),
                    "b_key": stored_key(index, dedupe_key),
                    "b_topic": stored_topic(index, dedupe_key),
                    "b_dedupe": keys.seal(TEXT, patient_id, "outbox", "dedupe", row_id, dedupe_key),
                }
                for row_id, patient_id, kind, dedupe_key in rows
            ],
        )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("kind")
        batch_op.alter_column(
            "sealed_kind", new_column_name="kind", existing_type=sa.LargeBinary(), nullable=False
        )
        batch_op.alter_column("topic", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("dedupe", existing_type=sa.LargeBinary(), nullable=False)


def _outbox_down(keys: Cells | None) -> None:
    rows = _rows(
        "outbox",
        "id",
        "patient_id",
        sa.column("kind", sa.LargeBinary()),
        sa.column("dedupe", sa.LargeBinary()),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("plain_kind", sa.String(length=32), nullable=True))
    if keys is not None and rows:
        target = sa.table(
            "outbox",
            sa.column("id"),
            sa.column("plain_kind", sa.String()),
            sa.column("dedupe_key", sa.String()),
        )
        op.get_bind().execute(
            target.update()
            .where(target.c.id == sa.bindparam("b_id"))
            .values(plain_kind=sa.bindparam("b_kind"), dedupe_key=sa.bindparam("b_key")),
            [
                {
                    "b_id": row_id,
                    "b_kind": keys.open(TEXT, patient_id, "outbox", "kind", row_id, kind),
                    "b_key": keys.open(TEXT, patient_id, "outbox", "dedupe", row_id, dedupe),
                }
                for row_id, patient_id, kind, dedupe in rows
            ],
        )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("kind")
        batch_op.drop_column("topic")
        batch_op.drop_column("dedupe")
        batch_op.alter_column(
            "plain_kind", new_column_name="kind", existing_type=sa.String(length=32), nullable=False
        )


def _closed_slots_up() -> None:
    rows = _rows("dose_slots", "id", "state", sa.column("due_at", _INSTANT))
    closed = [(row_id, due) for row_id, state, due in rows if state == "closed"]
    if not closed:
        return
    target = sa.table("dose_slots", sa.column("id"), sa.column("next_check_at", _INSTANT))
    op.get_bind().execute(
        target.update()
        .where(target.c.id == sa.bindparam("b_id"))
        .values(next_check_at=sa.bindparam("b_at")),
        [{"b_id": row_id, "b_at": _stored(blur_at(_instant(due)))} for row_id, due in closed],
    )


def _closed_slots_down(keys: Cells | None) -> None:
    """Blurred slots get their exact instants back (revision 0007 had no blurring)."""
    slots = sa.table(
        "dose_slots",
        sa.column("id"),
        sa.column("patient_id"),
        sa.column("state"),
        sa.column("due_at", _INSTANT),
        sa.column("window_ends_at", _INSTANT),
        sa.column("next_check_at", _INSTANT),
        sa.column("dose", sa.LargeBinary()),
    )
    bind = op.get_bind()
    blurred = bind.execute(
        sa.select(slots.c.id, slots.c.patient_id, slots.c.dose).where(
            slots.c.window_ends_at == slots.c.due_at
        )
    ).all()
    if keys is not None and blurred:
        keys.load({row.patient_id for row in blurred})
        moves = []
        for row_id, patient_id, sealed in blurred:
            dose = keys.open(JSON_OBJECT, patient_id, "dose_slots", "dose", row_id, sealed)
            exact = dose.pop(EXACT)
            moves.append(
                {
                    "b_id": row_id,
                    "b_due": _stored(datetime.fromisoformat(exact["due_at"])),
                    "b_window": _stored(datetime.fromisoformat(exact["window_ends_at"])),
                    "b_dose": keys.seal(
                        JSON_OBJECT, patient_id, "dose_slots", "dose", row_id, dose
                    ),
                }
            )
        bind.execute(
            slots.update()
            .where(slots.c.id == sa.bindparam("b_id"))
            .values(
                due_at=sa.bindparam("b_due"),
                window_ends_at=sa.bindparam("b_window"),
                dose=sa.bindparam("b_dose"),
            ),
            moves,
        )
    bind.execute(slots.update().where(slots.c.state == "closed").values(next_check_at=None))


def _to_the_day(table: str, column: str) -> None:
    rows = _rows(table, "id", sa.column(column, _INSTANT))
    if not rows:
        return
    target = sa.table(table, sa.column("id"), sa.column(column, _INSTANT))
    op.get_bind().execute(
        target.update()
        .where(target.c.id == sa.bindparam("b_id"))
        .values({column: sa.bindparam("b_at")}),
        [
            {
                "b_id": row_id,
                "b_at": _stored(_instant(at).replace(hour=0, minute=0, second=0, microsecond=0)),
            }
            for row_id, at in rows
        ],
    )


def _owners(*tables: str) -> set[str]:
    """The patients with rows in ``tables`` (whose data keys a conversion needs)."""
    found: set[str] = set()
    for table in tables:
        found.update(row.patient_id for row in _rows(table, "patient_id"))
    return found


def upgrade() -> None:
    bind = op.get_bind()
    closed = bind.execute(
        sa.select(_slots.c.id, _slots.c.patient_id, _slots.c.state).where(
            _slots.c.state.in_(_OUTCOMES)
        )
    ).all()
    outbox = _outbox(sa.String())
    kinds = bind.execute(sa.select(outbox.c.id, outbox.c.patient_id, outbox.c.kind)).all()
    owners = {row.patient_id for row in [*closed, *kinds]} | _owners(
        "side_effect_reports", "mood_screenings", "helper_incidents"
    )
    owners |= {patient_id for patient_id, *_ in _timed_rows()}
    keys: Cells | None = None
    if owners:
        keys = cells("seals dose outcomes, message kinds, timers and the instants of reports")
        keys.load(owners)

    with op.batch_alter_table("dose_slots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome", sa.LargeBinary(), nullable=True))
    for old, new in _PHASES.items():
        op.execute(_slots.update().where(_slots.c.state == old).values(state=new))
    if keys is not None and closed:
        bind.execute(
            _slots.update()
            .where(_slots.c.id == sa.bindparam("b_id"))
            .values(state="closed", outcome=sa.bindparam("b_outcome")),
            [
                {
                    "b_id": row.id,
                    "b_outcome": keys.seal(
                        TEXT, row.patient_id, "dose_slots", "outcome", row.id, row.state
                    ),
                }
                for row in closed
            ],
        )

    _closed_slots_up()
    _outbox_up(keys)
    _timers_up(keys)
    _days_up(keys)
    for table, old, new in _RENAMED:
        states = sa.table(table, sa.column("state", sa.String))
        op.execute(states.update().where(states.c.state == old).values(state=new))
    for table in ("pill_stock", "conversations"):
        _to_the_day(table, "updated_at")


def downgrade() -> None:
    bind = op.get_bind()
    closed = bind.execute(
        sa.select(_slots.c.id, _slots.c.patient_id, _slots.c.outcome).where(
            _slots.c.state == "closed"
        )
    ).all()
    outbox = _outbox(sa.LargeBinary())
    kinds = bind.execute(sa.select(outbox.c.id, outbox.c.patient_id, outbox.c.kind)).all()
    owners = {row.patient_id for row in [*closed, *kinds]} | _owners(
        "side_effect_reports", "mood_screenings", "helper_incidents", "timers"
    )
    keys: Cells | None = None
    if owners:
        keys = cells("opens dose outcomes, message kinds, timers and the instants of reports")
        keys.load(owners)
    for table, old, new in _RENAMED:
        states = sa.table(table, sa.column("state", sa.String))
        op.execute(states.update().where(states.c.state == new).values(state=old))
    _days_down(keys)
    _timers_down(keys)

    _outbox_down(keys)
    _closed_slots_down(keys)

    if keys is not None and closed:
        bind.execute(
            _slots.update()
            .where(_slots.c.id == sa.bindparam("b_id"))
            .values(state=sa.bindparam("b_state")),
            [
                {
                    "b_id": row.id,
                    "b_state": keys.open(
                        TEXT, row.patient_id, "dose_slots", "outcome", row.id, row.outcome
                    ),
                }
                for row in closed
            ],
        )
    for old, new in _PHASES.items():
        op.execute(_slots.update().where(_slots.c.state == new).values(state=old))
    with op.batch_alter_table("dose_slots", schema=None) as batch_op:
        batch_op.drop_column("outcome")
