"""Channel identities: a patient's Telegram account (later a phone), found by blind index."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy import exc as sa_exc

from storage.blind_index import normalise
from storage.errors import AlreadyLinked
from storage.models import ChannelIdentityRow
from storage.records import Channel, ChannelIdentity
from storage.repositories.base import Repository, made_on
from storage.sealed import new_id


def to_identity(row: ChannelIdentityRow) -> ChannelIdentity:
    return ChannelIdentity(
        id=row.id,
        patient_id=row.patient_id,
        channel=row.channel,
        address=row.address,
        chat=row.chat,
        created_at=row.created_at,
    )


class IdentityRepository(Repository):
    async def link(
        self, patient_id: str, channel: Channel, address: str, chat: str | None = None
    ) -> ChannelIdentity:
        """Link an account to a patient; `AlreadyLinked` if it belongs to a patient already."""
        address = normalise(channel, address)
        async with self._transaction() as session:
            await self._load_keys(session, [patient_id])
            row = ChannelIdentityRow(
                id=new_id(),
                patient_id=patient_id,
                channel=channel,
                lookup=self._context.blind_index.lookup(channel, address),
                created_at=await made_on(
                    session,
                    ChannelIdentityRow.created_at,
                    ChannelIdentityRow.patient_id,
                    patient_id,
                    self._now(),
                ),
                address=address,
                chat=chat,
            )
            try:
                async with session.begin_nested():
                    session.add(row)
            except sa_exc.IntegrityError:
                raise AlreadyLinked(channel) from None
            return to_identity(row)

    async def find(self, channel: Channel, address: str) -> ChannelIdentity | None:
        """The identity for an inbound account, by blind index; None for a stranger."""
        lookup = self._context.blind_index.lookup(channel, normalise(channel, address))
        async with self._transaction() as session:
            row = await session.scalar(
                select(ChannelIdentityRow).where(
                    ChannelIdentityRow.channel == channel, ChannelIdentityRow.lookup == lookup
                )
            )
            if row is None:
                return None
            await self._load_keys(session, [row.patient_id])
            return to_identity(row)

    async def for_patient(self, patient_id: str) -> list[ChannelIdentity]:
        async with self._transaction() as session:
            await self._load_keys(session, [patient_id])
            rows = await session.scalars(
                select(ChannelIdentityRow)
                .where(ChannelIdentityRow.patient_id == patient_id)
                .order_by(ChannelIdentityRow.created_at, ChannelIdentityRow.id)
            )
            return [to_identity(row) for row in rows]

    async def unlink(self, patient_id: str, identity_id: str) -> bool:
        """Remove one account from a patient; False if it was not theirs or not there."""
        async with self._transaction() as session:
            result = await session.execute(
                delete(ChannelIdentityRow).where(
                    ChannelIdentityRow.id == identity_id,
                    ChannelIdentityRow.patient_id == patient_id,
                )
            )
            return bool(getattr(result, "rowcount", 0))
