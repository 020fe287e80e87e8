"""Ports for the web servers that tests start in child processes.

A port the kernel picks for `bind(0)` is free only until the probe closes it: the kernel hands out
the same ephemeral range to every other `bind(0)` and to every outgoing connection, so under
pytest-xdist another test could take it before the child process binds it (CI saw "address already
in use"). Ports below the ephemeral range are never picked by the kernel, so each xdist worker takes
its own block of them and a bind probe skips the ones something else holds.
"""

from __future__ import annotations

import itertools
import os
import socket
from collections.abc import Iterator
from pathlib import Path

BLOCK = 200  # ports per xdist worker: far more child servers than one worker starts in a run
LOWEST = 10_000


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768  # Linux's default, and above the IANA registered range most servers use


def _block() -> range:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", ...; absent when serial
    index = int(worker[2:]) + 1 if worker.startswith("gw") and worker[2:].isdigit() else 0
    first = LOWEST + index * BLOCK
    if first + BLOCK > _ephemeral_low():
        raise RuntimeError(f"no port block for xdist worker {worker!r} below the ephemeral range")
    return range(first, first + BLOCK)


_candidates: Iterator[int] | None = None


def free_port() -> int:
    """A port on 127.0.0.1 that no one listens on and that no other test of this run will pick."""
    global _candidates
    if _candidates is None:
        _candidates = itertools.cycle(_block())
    for _ in range(BLOCK):
        port = next(_candidates)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue  # held by a server outside the tests, or still in TIME_WAIT
            return port
    raise RuntimeError("every port of this worker's block is taken")
