"""The audit log: security events without content (no alias, no address, no message)."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import AuditRow
from storage.records import AuditEvent
from storage.repositories.base import Repository


def to_audit_event(row: AuditRow) -> AuditEvent:
    return AuditEvent(
        id=row.id,
        at=row.at,
        event=row.event,
        table_name=row.table_name,
        column_name=row.column_name,
        row_id=row.row_id,
        key_id=row.key_id,
        count=row.count,
    )


class AuditRepository(Repository):
    async def record(
        self,
        event: str,
        *,
        table_name: str | None = None,
        column_name: str | None = None,
        row_id: str | None = None,
        key_id: str | None = None,
        count: int | None = None,
    ) -> None:
        """Append an event. Pass only names, random ids, key ids and counts."""
        async with self._transaction() as session:
            session.add(
                AuditRow(
                    at=self._now(),
                    event=event,
                    table_name=table_name,
                    column_name=column_name,
                    row_id=row_id,
                    key_id=key_id,
                    count=count,
                )
            )

    async def recent(self, limit: int = 100) -> list[AuditEvent]:
        """The latest events, newest first."""
        async with self._transaction() as session:
            rows = await session.scalars(select(AuditRow).order_by(AuditRow.id.desc()).limit(limit))
            return [to_audit_event(row) for row in rows]

    async def for_row(self, event: str, row_id: str) -> list[AuditEvent]:
        """The events named ``event`` about the row ``row_id``, oldest first (e.g.
        ``recipient_unreachable`` for a patient id, as `scheduler.sql_outbox` records them)."""
        async with self._transaction() as session:
            rows = await session.scalars(
                select(AuditRow)
                .where(AuditRow.event == event, AuditRow.row_id == row_id)
                .order_by(AuditRow.id)
            )
            return [to_audit_event(row) for row in rows]
