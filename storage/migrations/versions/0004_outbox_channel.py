"""Outbox rows say which channel they go out on, and carry their address, sealed.

- ``outbox.channel``: the channel's name (plaintext, like ``channel_identities.channel``), so
  each channel's dispatcher lane claims its own rows;
- ``outbox.destination``: where on that channel, sealed under the patient's key like every
  address.

Both are nullable so existing rows need no rewrite: a row without them is routed from its
recipient's account when it is claimed, as before this revision.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 08:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("destination", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("destination")
        batch_op.drop_column("channel")
