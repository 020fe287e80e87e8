"""Helpers the patient chose, the invitations that link a helper's account, and code tries.

An invitation code is 28 characters of Crockford base 32 (140 random bits). It is returned
once and stored only as its blind index value, so neither a database copy nor the timing of a
lookup tells anything about a valid code: the database compares keyed hashes, and the final
check uses `hmac.compare_digest`.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.blind_index import normalise
from storage.errors import NotFound
from storage.models import (
    Base,
    ChannelIdentityRow,
    CodeAttemptRow,
    HelperInviteRow,
    HelperRow,
    OutboxRow,
)
from storage.records import (
    Channel,
    Helper,
    HelperInvite,
    HelperState,
    OpenedInvite,
    OutboxState,
    helper_recipient,
)
from storage.repositories.base import Repository, day_start, made_on
from storage.repositories.timers import TimerRepository, timer_key
from storage.sealed import new_id

INVITE_PENDING = "open"  # revision 0009: was "pending"
INVITE_ACCEPTED = "accepted"
INVITE_WITHDRAWN = "withdrawn"
INVITE_VOID = "void"  # opened by a second account: see `HelperRepository.open`

CODE_TRIES_KEPT = timedelta(hours=1)
"""How long a try at a code is remembered: the window of the hourly limit, no longer."""
INVITE_BLUR_AFTER = timedelta(days=1)
"""How long an expired invitation keeps its exact instants (`HelperRepository.blur_invites`)."""
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
CODE_LENGTH = 28  # 28 x 5 = 140 random bits
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


SUMMARY = "summary"


def summary_key(helper_id: str) -> str:
    """The timer of a helper's weekly summary."""
    return timer_key(SUMMARY, helper_id)


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str | None:
    """The code in `text` as stored (upper case, no separators, look-alike letters read as
    digits), or None if it cannot be one."""
    cleaned = "".join(ch for ch in text.upper() if ch not in " -_\u00a0\t")
    cleaned = cleaned.translate(_LOOKALIKES)
    if len(cleaned) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in cleaned):
        return None
    return cleaned


def to_helper(row: HelperRow) -> Helper:
    return Helper(
        id=row.id,
        patient_id=row.patient_id,
        state=HelperState(row.state),
        alias=row.alias,
        channel=row.channel,
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
                created_at=await made_on(
                    session, HelperRow.created_at, HelperRow.patient_id, patient_id, self._now()
                ),
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
        """A new invitation and its code (see the module docstring); earlier invitations of
        this helper that were not used are withdrawn, so only the newest code works."""
        token = new_code()
        async with self._transaction() as session:
            await self._helper_row(session, patient_id, helper_id)
            await self._withdraw_invites(session, helper_id)
            row = HelperInviteRow(
                id=new_id(),
                patient_id=patient_id,
                helper_id=helper_id,
                token_lookup=self._context.blind_index.lookup("invite", token),
                state=INVITE_PENDING,
                created_at=self._now(),
                expires_at=expires_at,
                opened_by=None,
            )
            session.add(row)
            await session.flush()
            return to_invite(row), token

    async def open(self, token: str, channel: Channel, address: str) -> OpenedInvite | None:
        """Open the invitation of `token` from this account; None when no pending, unexpired
        invitation has that code (or it was used).

        1. The patient's own account opening it changes nothing (`own`).
        2. The first account to open an invitation holds it: it alone may accept, and may open
           it again.
        3. A second account opening it voids it, for both: a code seen by two accounts may be
           in the wrong hands, and neither can be told apart by what they show of themselves.
           If the first had already accepted (the patient not having confirmed yet), that
           acceptance is undone: the helper is invited again with no account.
        4. An invitation the patient confirmed is used up: opening it again does nothing.
        """
        code = normalise_code(token)
        if code is None:
            return None
        lookup = self._context.blind_index.lookup("invite", code)
        account = self._account(channel, address)
        async with self._transaction() as session:
            row = await session.scalar(
                select(HelperInviteRow)
                .where(HelperInviteRow.token_lookup == lookup)
                .with_for_update()
            )
            if (
                row is None
                or not hmac.compare_digest(row.token_lookup, lookup)
                or row.state not in (INVITE_PENDING, INVITE_ACCEPTED)
                or row.expires_at <= self._now()
            ):
                return None
            own = await session.scalar(
                select(ChannelIdentityRow.id).where(
                    ChannelIdentityRow.channel == channel,
                    ChannelIdentityRow.lookup == account,
                    ChannelIdentityRow.patient_id == row.patient_id,
                )
            )
            if own is not None:
                return OpenedInvite(to_invite(row), own=True)
            helper = await self._helper_row(session, row.patient_id, row.helper_id, lock=True)
            if row.state == INVITE_ACCEPTED and helper.state != HelperState.ACCEPTED.value:
                return None  # step 4
            if row.opened_by is None or hmac.compare_digest(row.opened_by, account):
                row.opened_by = account
                # A valid code: this account's tries have served their purpose.
                await session.execute(
                    delete(CodeAttemptRow).where(CodeAttemptRow.lookup == account)
                )
                await session.flush()
                return OpenedInvite(to_invite(row))
            unlinked = None
            if row.state == INVITE_ACCEPTED:
                unlinked = to_helper(helper)
                _unlink(helper)
                await self._timers(session).cancel([summary_key(helper.id)])
                helper.state = HelperState.INVITED.value
            row.state = INVITE_VOID
            await session.flush()
            return OpenedInvite(to_invite(row), voided=True, unlinked=unlinked)

    async def opened_by(self, channel: Channel, address: str) -> str | None:
        """The patient whose invitation this account opened and may still accept, if any
        (what a channel without buttons needs to keep the "I accept" menu under their key)."""
        account = self._account(channel, address)
        async with self._transaction() as session:
            patient_id = await session.scalar(
                select(HelperInviteRow.patient_id)
                .where(
                    HelperInviteRow.opened_by == account,
                    HelperInviteRow.state == INVITE_PENDING,
                    HelperInviteRow.expires_at > self._now(),
                )
                .limit(1)
            )
            return None if patient_id is None else str(patient_id)

    async def accept(
        self, invite_id: str, channel: Channel, address: str, chat: str | None = None
    ) -> Helper | None:
        """Link the account that opened invitation `invite_id` (state accepted: the patient
        confirms next). None unless that same account opened it and it is still pending."""
        async with self._transaction() as session:
            held = await self._held(session, invite_id, channel, address, now=self._now())
            if held is None:
                return None
            invite, helper = held
            invite.state = INVITE_ACCEPTED
            helper.state = HelperState.ACCEPTED.value
            helper.channel = channel
            helper.lookup = self._context.blind_index.lookup(channel, normalise(channel, address))
            helper.address = normalise(channel, address)
            helper.chat = chat
            await session.flush()
            return to_helper(helper)

    async def decline(self, invite_id: str, channel: Channel, address: str) -> Helper | None:
        """The account that opened invitation `invite_id` says "No, thank you": the invited
        helper goes at once, row and invitations, as a removed one does. Returns the helper as
        they were (for the patient's notice); None unless that same account opened it and it
        is still pending."""
        async with self._transaction() as session:
            held = await self._held(session, invite_id, channel, address, now=None)
            if held is None:
                return None
            _, helper = held
            before = to_helper(helper)
            # Explicitly, not by the cascade alone (see revision 0005).
            await session.execute(
                delete(HelperInviteRow).where(HelperInviteRow.helper_id == helper.id)
            )
            await session.delete(helper)
            await session.flush()
            return before

    async def _held(
        self,
        session: AsyncSession,
        invite_id: str,
        channel: Channel,
        address: str,
        *,
        now: datetime | None,
    ) -> tuple[HelperInviteRow, HelperRow] | None:
        """Invitation `invite_id`, locked, with its invited helper, if it is still open (and,
        given `now`, not expired) and the account on `channel` at `address` opened it."""
        invite = await session.get(HelperInviteRow, invite_id, with_for_update=True)
        account = self._account(channel, address)
        if (
            invite is None
            or invite.state != INVITE_PENDING
            or (now is not None and invite.expires_at <= now)
            or invite.opened_by is None
            or not hmac.compare_digest(invite.opened_by, account)
        ):
            return None
        helper = await self._helper_row(session, invite.patient_id, invite.helper_id)
        if helper.state != HelperState.INVITED.value:
            return None
        return invite, helper

    async def confirm(self, patient_id: str, helper_id: str) -> Helper | None:
        """The patient confirms an accepted helper: active from now. None if not accepted."""
        async with self._transaction() as session:
            row = await self._helper_row(session, patient_id, helper_id, lock=True)
            if row.state != HelperState.ACCEPTED.value:
                return None
            row.state = HelperState.ACTIVE.value
            await session.flush()
            return to_helper(row)

    async def get(self, patient_id: str, helper_id: str) -> Helper:
        async with self._transaction() as session:
            return to_helper(await self._helper_row(session, patient_id, helper_id))

    async def for_patient(self, patient_id: str) -> list[Helper]:
        async with self._transaction() as session:
            await self._load_keys(session, [patient_id])
            rows = await session.scalars(
                select(HelperRow)
                .where(HelperRow.patient_id == patient_id)
                .order_by(HelperRow.created_at, HelperRow.id)
            )
            return [to_helper(row) for row in rows]

    async def find_by_address(
        self, channel: Channel, address: str, *, states: tuple[HelperState, ...] | None = None
    ) -> list[Helper]:
        """Every helper role of an inbound account (one person may help several patients),
        active ones unless `states` says otherwise."""
        lookup = self._context.blind_index.lookup(channel, normalise(channel, address))
        wanted = [s.value for s in states or (HelperState.ACTIVE,)]
        async with self._transaction() as session:
            rows = list(
                await session.scalars(
                    select(HelperRow)
                    .where(
                        HelperRow.channel == channel,
                        HelperRow.lookup == lookup,
                        HelperRow.state.in_(wanted),
                    )
                    .order_by(HelperRow.created_at, HelperRow.id)
                )
            )
            await self._load_keys(session, {row.patient_id for row in rows})
            return [to_helper(row) for row in rows]

    async def set_permissions(
        self, patient_id: str, helper_id: str, permissions: Mapping[str, Any]
    ) -> Helper:
        async with self._transaction() as session:
            row = await self._helper_row(session, patient_id, helper_id, lock=True)
            row.permissions = dict(permissions)
            await session.flush()
            return to_helper(row)

    async def remove(self, patient_id: str, helper_id: str) -> Helper:
        """Stop a helper at once and forget them: the row goes (with their invitations), and
        every message still queued for them is deleted. Returns the helper as they were (with
        their address), so the caller can say goodbye and clean up their chat."""
        async with self._transaction() as session:
            row = await self._helper_row(session, patient_id, helper_id, lock=True)
            before = to_helper(row)
            await session.delete(row)
            await self._timers(session).cancel([summary_key(helper_id)])
            await session.execute(
                delete(OutboxRow).where(
                    OutboxRow.patient_id == patient_id,
                    OutboxRow.recipient == helper_recipient(helper_id),
                    OutboxRow.state.in_([OutboxState.PENDING.value, OutboxState.LEASED.value]),
                )
            )
            await session.flush()
            return before

    async def schedule_summary(self, patient_id: str, helper_id: str, at: datetime | None) -> None:
        """Set when this helper's next weekly summary is due (None: none wanted)."""
        async with self._transaction() as session:
            await self._helper_row(session, patient_id, helper_id, lock=True)
            task = {"do": SUMMARY, "helper": helper_id}
            await self._timers(session).schedule(patient_id, summary_key(helper_id), at, task)

    async def summary_at(self, patient_id: str, helper_id: str) -> datetime | None:
        """When this helper's next weekly summary is due (None: none wanted)."""
        async with self._transaction() as session:
            due = await self._timers(session).due_at([summary_key(helper_id)])
            return due.get(summary_key(helper_id))

    def _timers(self, session: AsyncSession) -> TimerRepository:
        return TimerRepository(self._context, session)

    async def try_code(self, channel: Channel, address: str, *, limit: int, per: timedelta) -> bool:
        """Count a try at an invitation code from this account; False (and nothing counted)
        once it has made `limit` tries within `per`. Old tries are cleared on the way."""
        now = self._now()
        lookup = self._account(channel, address)
        async with self._transaction() as session:
            await session.execute(delete(CodeAttemptRow).where(CodeAttemptRow.at <= now - per))
            tries = await session.scalar(
                select(func.count())
                .select_from(CodeAttemptRow)
                .where(CodeAttemptRow.lookup == lookup, CodeAttemptRow.at > now - per)
            )
            if (tries or 0) >= limit:
                return False
            session.add(CodeAttemptRow(lookup=lookup, at=now))
            await session.flush()
            return True

    async def prune_code_tries(self, now: datetime) -> int:
        """Delete the tries older than `CODE_TRIES_KEPT` (the engine's periodic sweep), so no
        account's lookup value lingers; how many."""
        before = now - CODE_TRIES_KEPT
        async with self._transaction() as session:
            result = await session.execute(delete(CodeAttemptRow).where(CodeAttemptRow.at < before))
            return int(getattr(result, "rowcount", 0))

    async def blur_invites(self, now: datetime) -> int:
        """Leave only the day an invitation was made once it has been expired for
        `INVITE_BLUR_AFTER` (the engine's periodic sweep); how many were blurred.

        An expired invitation opens and is accepted no more, and a decline asks only who
        opened it, so nothing compares its instants; kept exact, they would tell when the
        patient invited their helper. Both become the UTC day start of its making: it still
        reads as expired, and a blurred row (made and expiring at once) is not read again.
        """
        async with self._transaction() as session:
            rows = await session.execute(
                select(HelperInviteRow.id, HelperInviteRow.created_at).where(
                    HelperInviteRow.expires_at <= now - INVITE_BLUR_AFTER,
                    HelperInviteRow.created_at != HelperInviteRow.expires_at,
                )
            )
            days = [{"b_id": row_id, "b_day": day_start(made)} for row_id, made in rows]
            if days:
                invites = Base.metadata.tables[HelperInviteRow.__tablename__]
                await session.execute(
                    update(invites)
                    .where(invites.c.id == bindparam("b_id"))
                    .values(created_at=bindparam("b_day"), expires_at=bindparam("b_day")),
                    days,
                )
            return len(days)

    async def _withdraw_invites(self, session: AsyncSession, helper_id: str) -> None:
        """Unused invitations of this helper stop working."""
        pending = await session.scalars(
            select(HelperInviteRow).where(
                HelperInviteRow.helper_id == helper_id,
                HelperInviteRow.state == INVITE_PENDING,
            )
        )
        for invite in pending:
            invite.state = INVITE_WITHDRAWN

    def _account(self, channel: Channel, address: str) -> bytes:
        return self._context.blind_index.lookup(channel, normalise(channel, address))

    async def _helper_row(
        self, session: AsyncSession, patient_id: str, helper_id: str, *, lock: bool = False
    ) -> HelperRow:
        await self._load_keys(session, [patient_id])
        row = await session.get(HelperRow, helper_id, with_for_update=lock)
        if row is None or row.patient_id != patient_id:
            raise NotFound("helpers", helper_id)
        return row


def _unlink(row: HelperRow) -> None:
    """The helper row no longer knows any account."""
    row.channel = None
    row.lookup = None
    row.address = None
    row.chat = None
