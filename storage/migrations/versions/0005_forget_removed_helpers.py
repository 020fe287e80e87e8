"""Removed helpers are forgotten: their rows go, as `HelperRepository.remove` now does at once.

Before this revision a removed or declined helper stayed as a row in state ``removed`` (their
name for the patient and their settings, sealed). Those rows, and their invitations (by the
foreign key's cascade), are deleted. Tries at invitation codes older than the hourly limit are
deleted too; from now on the engine's sweep prunes them.

Nothing to restore on downgrade: the deleted rows were what had to go.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 09:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    helpers = sa.table("helpers", sa.column("id"), sa.column("state"))
    invites = sa.table("helper_invites", sa.column("helper_id"))
    removed = sa.select(helpers.c.id).where(helpers.c.state == "removed")
    # Explicitly, not by the cascade alone: SQLite enforces foreign keys only when asked.
    op.execute(sa.delete(invites).where(invites.c.helper_id.in_(removed)))
    op.execute(sa.delete(helpers).where(helpers.c.state == "removed"))
    tries = sa.table("code_attempts", sa.column("at", sa.DateTime(timezone=True)))
    before = datetime.now(UTC) - timedelta(hours=1)
    if op.get_bind().dialect.name == "sqlite":
        before = before.replace(tzinfo=None)  # stored as naive UTC there (models.UTCDateTime)
    op.execute(sa.delete(tries).where(tries.c.at < before))


def downgrade() -> None:
    pass
