"""Forget forgets: tries at helper codes do not outlive their purpose (a valid code, /forget,
the hourly sweep), and a removed helper's row is gone, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from storage.errors import NotFound
from storage.models import CodeAttemptRow, HelperInviteRow
from storage.store import Store
from tests.conftest import StoreClock

HOUR = timedelta(hours=1)


async def tries(store: Store) -> int:
    async with store.engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(CodeAttemptRow)) or 0)


async def test_the_attempts_after_a_valid_code_and_after_forget_are_gone(store: Store) -> None:
    mina = await store.patients.create(alias="Mina", language="en", time_zone="UTC")
    await store.identities.link(mina.id, "telegram", "7001")
    friend = await store.helpers.add(mina.id, alias="Friend")
    _, code = await store.helpers.invite(
        mina.id, friend.id, expires_at=store.context.clock() + HOUR
    )
    for account in ("8001", "8001", "7001", "9009"):
        assert await store.helpers.try_code("telegram", account, limit=5, per=HOUR)
    assert await tries(store) == 4
    assert await store.helpers.open(code, "telegram", "8001") is not None
    assert await tries(store) == 2  # 8001 opened a valid code: its tries went
    await store.forget(mina.id)  # Mina once tried codes from her own account
    assert await tries(store) == 1  # only the stranger's is left, until the sweep


async def test_the_sweep_prunes_tries_older_than_the_hourly_limit(
    store: Store, store_clock: StoreClock
) -> None:
    assert await store.helpers.try_code("telegram", "9009", limit=5, per=HOUR)
    store_clock.advance(HOUR - timedelta(seconds=1))
    assert await store.helpers.prune_code_tries(store_clock.now) == 0  # still counts
    store_clock.advance(timedelta(seconds=2))
    assert await store.helpers.prune_code_tries(store_clock.now) == 1
    assert await tries(store) == 0


async def test_a_removed_helpers_row_and_invitations_go_at_once(store: Store) -> None:
    mina = await store.patients.create(alias="Mina", language="en", time_zone="UTC")
    friend = await store.helpers.add(mina.id, alias="Friend")
    await store.helpers.invite(mina.id, friend.id, expires_at=store.context.clock() + HOUR)
    gone = await store.helpers.remove(mina.id, friend.id)
    assert gone.alias == "Friend"  # as it was, for the goodbye
    with pytest.raises(NotFound):
        await store.helpers.get(mina.id, friend.id)
    async with store.engine.connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(HelperInviteRow)) == 0
