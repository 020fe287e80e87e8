"""Forget forgets: tries at helper codes do not outlive their purpose (a valid code, /forget,
the hourly sweep), a removed helper's row is gone, and what a forget leaves to delete from
helpers' chats names no one, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from scheduler.outbox import Payload
from storage.errors import IntegrityError, NotFound
from storage.models import ChatCleanupRow, CodeAttemptRow, HelperInviteRow
from storage.records import OutboxMessage, helper_recipient
from storage.store import Store
from tests.conftest import StoreClock, TestDatabase
from tests.helper_links import link_helper
from tests.storage.scan import hits, sqlite_bytes

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


async def sent_to_helper(store: Store, patient_id: str, helper_id: str, message_id: str) -> None:
    """One alert queued for the helper, claimed and recorded as sent with `message_id`."""
    now = store.context.clock()
    await store.outbox.enqueue(
        OutboxMessage(
            patient_id=patient_id,
            recipient=helper_recipient(helper_id),
            kind="helper_alert",
            payload=Payload.message("Mina has not answered today's check-in.").to_dict(),
            dedupe_key=f"alert:{message_id}",
            not_before=now,
            priority=1,
        )
    )
    (delivery,) = await store.outbox.claim_due(now, 10, HOUR, "worker")
    await store.outbox.mark_sent_many([(delivery.entry.id, message_id, now, "worker")])


async def test_what_forget_leaves_to_delete_names_no_one_and_cannot_be_moved(
    store: Store, database: TestDatabase
) -> None:
    """The clean-ups left by a forget hold the helper's chat id only sealed, under a key
    that is no patient's; a target moved onto another row does not open."""
    mina = await store.patients.create(alias="Mina", language="en", time_zone="UTC")
    helper = await link_helper(store, mina.id, "880055501")
    await sent_to_helper(store, mina.id, helper.id, "424242")
    await sent_to_helper(store, mina.id, helper.id, "434343")
    await store.forget(mina.id, chat_deletes={"telegram": timedelta(hours=48)})
    assert await store.cleanups.count() == 2
    async with store.engine.begin() as connection:
        rows = (await connection.execute(select(ChatCleanupRow.id, ChatCleanupRow.target))).all()
        first, second = rows
        await connection.execute(
            update(ChatCleanupRow).where(ChatCleanupRow.id == first.id).values(target=second.target)
        )
    with pytest.raises(IntegrityError):
        await store.cleanups.claim_due(
            store.context.clock(), channels=["telegram"], limit=10, lease=HOUR
        )
    if database.path is not None:
        await store.close()  # everything on disk, the WAL folded in
        assert hits(sqlite_bytes(database.path), ["880055501", "424242", "434343", "Mina"]) == []
