"""Less readable metadata: dose outcomes and message kinds sealed.

- ``dose_slots.state`` held the outcome (taken, missed, skipped) in plaintext. It now holds
  only the phase the scheduler needs (planned, open, closed); a closed slot's outcome is
  sealed in the new ``outcome`` column.
- ``outbox.kind`` told reminders from helper alerts; it is sealed (the dispatcher orders by
  ``priority``; metrics take the kind from the message in memory).

Sealing rows written before needs the patients' data keys: `Store.open` passes the keyring;
`tbbot migrate` does when a key is configured, and otherwise refuses (before changing
anything) if there is something to seal. The downgrade opens the values again, with the key.

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-01 12:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.migration_keys import Cells, cells
from storage.sealed import TEXT

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The slot states of revision 0007, and the phase each one now shows.
_PHASES = {"pending": "planned", "reminded": "open"}
_OUTCOMES = ("taken", "missed", "skipped", "cancelled")

_slots = sa.table(
    "dose_slots",
    sa.column("id", sa.String),
    sa.column("patient_id", sa.String),
    sa.column("state", sa.String),
    sa.column("outcome", sa.LargeBinary),
)


def _outbox(kind: sa.types.TypeEngine[object], column: str = "kind") -> sa.TableClause:
    return sa.table(
        "outbox", sa.column("id", sa.String), sa.column("patient_id", sa.String), sa.column(column, kind)
    )


def upgrade() -> None:
    bind = op.get_bind()
    closed = bind.execute(
        sa.select(_slots.c.id, _slots.c.patient_id, _slots.c.state).where(
            _slots.c.state.in_(_OUTCOMES)
        )
    ).all()
    outbox = _outbox(sa.String())
    kinds = bind.execute(sa.select(outbox.c.id, outbox.c.patient_id, outbox.c.kind)).all()
    keys: Cells | None = None
    if closed or kinds:
        keys = cells("seals the outcomes of answered doses and the kinds of queued messages")
        keys.load({row.patient_id for row in [*closed, *kinds]})

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

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sealed_kind", sa.LargeBinary(), nullable=True))
    if keys is not None and kinds:
        sealed = _outbox(sa.LargeBinary(), "sealed_kind")
        bind.execute(
            sealed.update()
            .where(sealed.c.id == sa.bindparam("b_id"))
            .values(sealed_kind=sa.bindparam("b_kind")),
            [
                {
                    "b_id": row.id,
                    "b_kind": keys.seal(TEXT, row.patient_id, "outbox", "kind", row.id, row.kind),
                }
                for row in kinds
            ],
        )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("kind")
        batch_op.alter_column(
            "sealed_kind",
            new_column_name="kind",
            existing_type=sa.LargeBinary(),
            nullable=False,
        )


def downgrade() -> None:
    bind = op.get_bind()
    closed = bind.execute(
        sa.select(_slots.c.id, _slots.c.patient_id, _slots.c.outcome).where(
            _slots.c.state == "closed"
        )
    ).all()
    outbox = _outbox(sa.LargeBinary())
    kinds = bind.execute(sa.select(outbox.c.id, outbox.c.patient_id, outbox.c.kind)).all()
    keys: Cells | None = None
    if closed or kinds:
        keys = cells("opens the outcomes of answered doses and the kinds of queued messages")
        keys.load({row.patient_id for row in [*closed, *kinds]})

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("plain_kind", sa.String(length=32), nullable=True))
    if keys is not None and kinds:
        plain = _outbox(sa.String(), "plain_kind")
        bind.execute(
            plain.update()
            .where(plain.c.id == sa.bindparam("b_id"))
            .values(plain_kind=sa.bindparam("b_kind")),
            [
                {
                    "b_id": row.id,
                    "b_kind": keys.open(TEXT, row.patient_id, "outbox", "kind", row.id, row.kind),
                }
                for row in kinds
            ],
        )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("kind")
        batch_op.alter_column(
            "plain_kind", new_column_name="kind", existing_type=sa.String(length=32), nullable=False
        )

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
