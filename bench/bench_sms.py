"""SMS: messages per second from the dispatcher into the fake SMS Gateway for Android.

The real dispatcher with an SMS lane (its pace off), the real `SmsSender` (STOP check, daily
cap, rendering, segment count, menu kept, on a real SQLite store) and the real
`android-sms-gateway` client over HTTP to the fake phone (`tests/fakegateway.py`), which runs in
a process of its own. Each message goes to its own number. Beside it, in the same run:

- the naive transport: the client as its README shows it, `async with AsyncAPIClient(...)` per
  text, which opens a new HTTP client (httpx, since python-telegram-bot installs it) each time;
- our transport with end-to-end encryption on (a passphrase: PBKDF2 with 75,000 rounds for the
  text and again for the number, on every send).

A phone sends about one text every few seconds (Android's own limit is 30 in 30 minutes unless
raised, docs/sms.md): the dispatcher must be far faster than that, never the bottleneck.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from android_sms_gateway import AsyncAPIClient, Message, TextMessage
from android_sms_gateway.errors import APIError

from bot.sms.channel import sms_spec
from bot.sms.gateway import GatewayTransport
from bot.sms.gateway_config import GatewayConfig
from bot.sms.policy import SmsPolicy
from bot.sms.sender import SmsSender
from bot.sms.transport import Accepted, Health, OutgoingSms, SendOutcome, StatusReport
from scheduler.clock import SystemClock
from scheduler.dispatcher import Dispatcher, DispatcherConfig, Unreachable
from scheduler.outbox import Button, Kind, Payload
from scheduler.ratelimit import Limits
from scheduler.sending import Lane, RetryLater, RetryReason
from storage.keyring import Keyring, MasterKey
from storage.store import Store
from tests.scheduler.memory_outbox import MemoryOutbox

MESSAGES = 100
# A phone sends one text at a time: two in flight keep one on the wire while one is recorded.
IN_FLIGHT = 2
PASSPHRASE = "bench passphrase"  # noqa: S105 - the fake phone's
USER, PASSWORD = "sms", "fake-gateway-password"


async def _ignore(event: Unreachable) -> None:
    return None


class NaiveTransport:
    """The client's defaults: a new client (and connection) for every text."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    async def send(self, message: OutgoingSms) -> SendOutcome:
        try:
            async with AsyncAPIClient(USER, PASSWORD, base_url=self.base_url) as client:
                await client.send(
                    Message(
                        phone_numbers=[message.to],
                        text_message=TextMessage(text=message.text),
                        id=message.id,
                    )
                )
        except APIError as exc:
            if exc.status_code == 409:  # accepted before: a resend
                return Accepted(message.id)
            return RetryLater(RetryReason.SERVER_ERROR)
        except Exception:
            return RetryLater(RetryReason.NETWORK)
        return Accepted(message.id)

    async def status(self, message_id: str) -> StatusReport | None:
        return None

    async def health(self) -> Health:
        return Health(True, True, "")

    async def close(self) -> None:
        return None


class _Drained(MemoryOutbox):
    def __init__(self, count: int) -> None:
        super().__init__()
        self.remaining = count
        self.failed = 0
        self.drained = asyncio.Event()

    async def mark_sent(self, message_id: str, sent_id: int | None, now: datetime) -> None:
        await super().mark_sent(message_id, sent_id, now)
        self._done()

    async def mark_failed(self, message_id: str, reason: Any, now: datetime) -> None:
        await super().mark_failed(message_id, reason, now)
        self.failed += 1
        self._done()

    def _done(self) -> None:
        self.remaining -= 1
        if self.remaining == 0:
            self.drained.set()


async def _phone(passphrase: str | None) -> tuple[asyncio.subprocess.Process, int]:
    options = ["--passphrase", passphrase] if passphrase else []
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fakegateway",
        *options,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    return process, int(await process.stdout.readline())


async def _run(design: str, store: Store) -> tuple[float, int]:
    """Dispatch `MESSAGES` reminders; messages per second from the first send to the last
    record, and how many were given up (none expected)."""
    passphrase = PASSPHRASE if design == "encrypted" else None
    process, port = await _phone(passphrase)
    base_url = f"http://127.0.0.1:{port}"
    clock = SystemClock()
    transport = (
        NaiveTransport(base_url)
        if design == "naive"
        else GatewayTransport.open(
            GatewayConfig(url=base_url, user=USER, password=PASSWORD, passphrase=passphrase)
        )
    )
    sender = SmsSender(store, transport, clock, SmsPolicy(3, 10_000))
    outbox = _Drained(MESSAGES)
    buttons = ((Button("Taken", "taken:s"), Button("Later", "snooze:s.60")),)
    for n in range(MESSAGES):
        payload = Payload.message(f"8:00 vitamins? ({n})", buttons)
        entry = outbox.enqueue(
            f"r{n}", n, Kind.REMINDER, payload, not_before=clock.now(), channel="sms"
        )
        assert entry is not None
        row = outbox.rows[entry]
        row.message = replace(row.message, address=f"+86138{n:08d}")
    spec = replace(sms_spec(), limits=Limits(per_chat_interval=0.0, global_rate=None))
    dispatcher = Dispatcher(
        outbox,
        [Lane(spec, sender)],
        clock,
        on_unreachable=_ignore,
        config=DispatcherConfig(lease=timedelta(minutes=10), max_in_flight=IN_FLIGHT),
    )
    stop = asyncio.Event()
    started = time.perf_counter()
    running = asyncio.create_task(dispatcher.run_forever(stop))
    try:
        await asyncio.wait_for(outbox.drained.wait(), 600)
        elapsed = time.perf_counter() - started
    finally:
        stop.set()
        await running
        await transport.close()
        assert process.stdin is not None
        process.stdin.close()
        await process.wait()
    return MESSAGES / elapsed, outbox.failed


async def _main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}"
        store = await Store.open(url, Keyring((MasterKey("bench", b"k" * 32),)))
        try:
            results: dict[str, list[float]] = {}
            failures = 0
            for _ in range(2):
                for design in ("ours", "naive", "encrypted"):
                    rate, failed = await _run(design, store)
                    results.setdefault(design, []).append(rate)
                    failures += failed
        finally:
            await store.close()
    for design, rates in results.items():
        print(
            f"{design:>9}: median {statistics.median(rates):6.1f} messages/s "
            f"(runs: {', '.join(f'{r:.1f}' for r in rates)})"
        )
    print(
        f"at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {MESSAGES} messages per run, "
        f"{IN_FLIGHT} in flight, {failures} given up"
    )


def main() -> None:
    asyncio.run(_main())
