"""Who holds a lease, and giving back at start the leases of processes that died here.

Work is claimed under a lease so that a worker that dies cannot hold it forever: when the lease
runs out, anyone claims it again. But the leases are minutes long (they must outlast a slow
batch), and waiting that long after a crash delays every message the dead process had claimed.
A new process on the same host can do better: it knows which of this host's processes are
alive. So at start it releases at once every lease whose owner ran on this host and is gone.

An owner is ``<host>-<pid>`` (`worker_id`), followed in each claim by ``:<random>``. A lease is
released when its host is this one and either its pid is not running, or it is this process's
own id: a restarted container often gets the same host name and pid 1 again, and a process that
just started holds no lease yet. Other hosts' leases are left to run out.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from storage.store import Store

logger = logging.getLogger(__name__)


def worker_id(host: str | None = None, pid: int | None = None) -> str:
    """This process's name in leases: the host (at most 24 characters) and the pid."""
    name = (host if host is not None else socket.gethostname())[:24]
    return f"{name}-{pid if pid is not None else os.getpid()}"


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host (signal 0 checks, sends nothing)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def dead_here(
    owners: Iterable[str], me: str, *, alive: Callable[[int], bool] = pid_alive
) -> set[str]:
    """The lease owners in `owners` that ran on `me`'s host and are dead (see the module)."""
    host = me.rpartition("-")[0]
    dead = set()
    for owner in owners:
        worker = owner.partition(":")[0]
        owner_host, _, pid_text = worker.rpartition("-")
        if owner_host != host or not pid_text.isdigit():
            continue
        if worker == me or not alive(int(pid_text)):
            dead.add(owner)
    return dead


@dataclass(frozen=True)
class Released:
    slots: int
    messages: int
    timers: int = 0
    updates: int = 0


async def release_dead(store: Store, me: str) -> Released:
    """Release the dose-slot, outbox, timer and Telegram update leases of this host's dead
    processes."""
    slots = await store.dose_timers.release_leases(
        dead_here(await store.dose_timers.lease_owners(), me)
    )
    messages = await store.outbox.release_leases(dead_here(await store.outbox.lease_owners(), me))
    timers = await store.timers.release_leases(dead_here(await store.timers.lease_owners(), me))
    updates = await store.telegram_updates.release_leases(
        dead_here(await store.telegram_updates.lease_owners(), me)
    )
    if slots or messages or timers or updates:
        logger.info(
            "gave back the leases of stopped processes: %d dose timers, %d messages, "
            "%d other timers, %d Telegram updates",
            slots,
            messages,
            timers,
            updates,
        )
    return Released(slots, messages, timers, updates)
