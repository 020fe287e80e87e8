"""Numbers a helper asked the bot to text first: ``sms_first_contacts``.

A helper may ask the bot to invite a person by phone number (one SMS, nothing more unless
they reply). Each ask is kept, by blind index only (the number's and the asking account's),
to limit how many numbers a helper may ask for and to invite a number once; rows are
deleted after 30 days.

Revision ID: 0012
Revises: 0015
Create Date: 2026-12-01 12:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sms_first_contacts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("lookup", sa.LargeBinary(length=32), nullable=False),
        sa.Column("asker", sa.LargeBinary(length=32), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_first_contacts")),
    )
    with op.batch_alter_table("sms_first_contacts", schema=None) as batch_op:
        for column in ("lookup", "asker", "asked_at"):
            batch_op.create_index(
                batch_op.f(f"ix_sms_first_contacts_{column}"), [column], unique=False
            )


def downgrade() -> None:
    with op.batch_alter_table("sms_first_contacts", schema=None) as batch_op:
        for column in ("lookup", "asker", "asked_at"):
            batch_op.drop_index(batch_op.f(f"ix_sms_first_contacts_{column}"))
    op.drop_table("sms_first_contacts")
