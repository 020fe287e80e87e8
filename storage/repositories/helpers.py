"""Helpers the patient chose, and the invitations that link a helper's account."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.blind_index import normalise
from storage.errors import NotFound
from storage.models import HelperInviteRow, HelperRow
from storage.records import Channel, Helper, HelperInvite, HelperState
from storage.repositories.base import Repository
from storage.sealed import new_id

INVITE_PENDING = "pending"
INVITE_ACCEPTED = "accepted"


def to_helper(row: HelperRow) -> Helper:
    return Helper(
        id=row.id,
        patient_id=row.patient_id,
        state=HelperState(row.state),
        alias=row.alias,
        channel=cast(Channel | None, row.channel),
        address=row.address,
        chat=row.chat,
        permissions=row.permissions,
        created_at=row.created_at,
    )


def to_invite(row: HelperInviteRow) -> HelperInvite:
    return HelperInvite(
        id=row.id,
        patient_id=row.patient_id,
        helper_id=row.helper_id,
        state=row.state,
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


class HelperRepository(Repository):
    async def add(
        self, patient_id: str, *, alias: str, permissions: Mapping[str, Any] | None = None
    ) -> Helper:
        """A helper the patient named; invited until they accept a link."""
        async with self._transaction() as session:
            await self._load_keys(session, [patient_id])
            row = HelperRow(
                id=new_id(),
                patient_id=patient_id,
                state=HelperState.INVITED.value,
                channel=None,
                lookup=None,
                created_at=self._now(),
                alias=alias,
                address=None,
                chat=None,
                permissions=dict(permissions or {}),
            )
            session.add(row)
            await session.flush()
            return to_helper(row)

    async def invite(
        self, patient_id: str, helper_id: str, *, expires_at: datetime
    ) -> tuple[HelperInvite, str]:
        """A new invitation and its token. The token is returned once and stored only as a
        blind index value, so a database copy cannot be used to accept an invitation."""
        token = secrets.token_urlsafe(24)
        async with self._transaction() as session:
            await self._helper_row(session, patient_id, helper_id)
            row = HelperInviteRow(
                id=new_id(),
                patient_id=patient_id,
                helper_id=helper_id,
                token_lookup=self._context.blind_index.lookup("invite", token),
                state=INVITE_PENDING,
                created_at=self._now(),
                expires_at=expires_at,
            )
            session.add(row)
            await session.flush()
            return to_invite(row), token

    async def accept(
        self, token: str, channel: Channel, address: str, chat: str | None = None
    ) -> Helper | None:
        """Link the account that opened an invitation; None if unknown, used or expired."""
        lookup = self._context.blind_index.lookup("invite", token)
        async with self._transaction() as session:
            invite = await session.scalar(
                select(HelperInviteRow)
                .where(HelperInviteRow.token_lookup == lookup)
                .with_for_update()
            )
            if invite is None or invite.state != INVITE_PENDING or invite.expires_at <= self._now():
                return None
            helper = await self._helper_row(session, invite.patient_id, invite.helper_id)
            address = normalise(channel, address)
            invite.state = INVITE_ACCEPTED
            helper.state = HelperState.ACTIVE.value
            helper.channel = channel
            helper.lookup = self._context.blind_index.lookup(channel, address)
            helper.address = address
            helper.chat = chat
            await session.flush()
            return to_helper(helper)

    async def for_patient(self, patient_id: str) -> list[Helper]:
        async with self._transaction() as session:
            await self._load_keys(session, [patient_id])
            rows = await session.scalars(
                select(HelperRow)
                .where(HelperRow.patient_id == patient_id)
                .order_by(HelperRow.created_at, HelperRow.id)
            )
            return [to_helper(row) for row in rows]

    async def find_by_address(self, channel: Channel, address: str) -> list[Helper]:
        """Every active helper role of an inbound account (one person may help several)."""
        lookup = self._context.blind_index.lookup(channel, normalise(channel, address))
        async with self._transaction() as session:
            rows = list(
                await session.scalars(
                    select(HelperRow).where(
                        HelperRow.channel == channel,
                        HelperRow.lookup == lookup,
                        HelperRow.state == HelperState.ACTIVE.value,
                    )
                )
            )
            await self._load_keys(session, {row.patient_id for row in rows})
            return [to_helper(row) for row in rows]

    async def remove(self, patient_id: str, helper_id: str) -> Helper:
        """Stop a helper: no more alerts, and their account is unlinked."""
        async with self._transaction() as session:
            row = await self._helper_row(session, patient_id, helper_id)
            row.state = HelperState.REMOVED.value
            row.channel = None
            row.lookup = None
            row.address = None
            row.chat = None
            await session.flush()
            return to_helper(row)

    async def _helper_row(
        self, session: AsyncSession, patient_id: str, helper_id: str
    ) -> HelperRow:
        await self._load_keys(session, [patient_id])
        row = await session.get(HelperRow, helper_id)
        if row is None or row.patient_id != patient_id:
            raise NotFound("helpers", helper_id)
        return row
