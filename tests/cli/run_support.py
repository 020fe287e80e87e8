"""`tbbot run` as an operator runs it: a real process, configured by its environment, talking
to the fake Bot API on 127.0.0.1, with a real SQLite file and key file. For the tests that
need the whole process (start-up, signals, crashes, logs)."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bot.config import config_dir
from scheduler.outbox import Payload
from storage.keyring import Keyring, create_key_file, read_key_file
from storage.records import OutboxMessage
from storage.store import Store
from tests.fakebotapi import TEST_TOKEN, FakeBotApi
from treatment.enrolment import enrol

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Installation:
    """A data folder, a key file apart from it, and the environment `tbbot run` reads."""

    folder: Path
    api: FakeBotApi
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(cls, folder: Path, api: FakeBotApi, **extra: str) -> Installation:
        key_file = config_dir() / "master.key"
        if not key_file.exists():
            create_key_file(key_file)
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "TELEGRAM_BOT_TOKEN": TEST_TOKEN,
            "TELEGRAM_API_BASE_URL": api.base_url,
            "TBBOT_DATA_DIR": str(folder / "data"),
            **extra,
        }
        for name in ("DATABASE_URL", "TBBOT_MASTER_KEY", "TBBOT_MASTER_KEY_FILE"):
            if name not in extra:
                env.pop(name, None)
        return cls(folder, api, env)

    @property
    def database_url(self) -> str:
        return self.env.get("DATABASE_URL") or (
            f"sqlite+aiosqlite:///{(self.folder / 'data' / 'tbbot.sqlite3').resolve()}"
        )

    @property
    def keyring(self) -> Keyring:
        return read_key_file(config_dir() / "master.key")

    async def open_store(self) -> Store:
        return await Store.open(self.database_url, self.keyring)

    async def queued(self, chat: int, text: str, key: str) -> str:
        """A patient reachable at Telegram chat `chat`, with `text` waiting in the outbox
        (dedupe `key`); the patient's id."""
        store = await self.open_store()
        try:
            patient_id = await enrol_patient(store, chat)
            await queue_message(store, patient_id, text, key)
        finally:
            await store.close()
        return patient_id

    async def start(self, *args: str, env: Mapping[str, str] | None = None) -> Run:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "run",
            *args,
            cwd=self.folder,
            env={**self.env, **(env or {})},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        return Run(process)


@dataclass
class Run:
    """One `tbbot run` process; its stderr is collected as it comes."""

    process: asyncio.subprocess.Process
    lines: list[str] = field(default_factory=list)
    _reader: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        assert self.process.stderr is not None
        async for line in self.process.stderr:
            self.lines.append(line.decode(errors="replace"))

    @property
    def log(self) -> str:
        return "".join(self.lines)

    async def wait_for_log(self, text: str, within: float = 20.0) -> None:
        async with asyncio.timeout(within):
            while text not in self.log:
                if self.process.returncode is not None:
                    raise AssertionError(f"tbbot run exited {self.process.returncode}:\n{self.log}")
                await asyncio.sleep(0.05)

    async def stop(self, within: float = 30.0) -> int:
        """SIGTERM, then the exit status (SIGKILL and a failure if it takes too long)."""
        if self.process.returncode is None:
            self.process.terminate()
        try:
            async with asyncio.timeout(within):
                code = await self.process.wait()
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise AssertionError(f"tbbot run did not stop within {within} s:\n{self.log}") from None
        if self._reader is not None:
            await self._reader
        return code

    def kill(self) -> None:
        self.process.kill()


async def enrol_patient(store: Store, chat: int) -> str:
    """A patient on the standard regimen from today, reachable at Telegram chat `chat`."""
    today = datetime.now(UTC).date()
    patient = await store.patients.create(alias="Mina", language="en", time_zone="UTC")
    await store.identities.link(patient.id, "telegram", str(chat), chat=str(chat))
    plan = enrol(regimen="2HRZE/4HR", start=today, times=["23:59"], zone="UTC", today=today)
    await store.enrolments.add(patient.id, plan)
    return patient.id


async def queue_message(store: Store, patient_id: str, text: str, key: str) -> None:
    await store.outbox.enqueue(
        OutboxMessage(
            patient_id,
            "patient",
            "notice",
            Payload.message(text).to_dict(),
            f"notice:{key}",
            datetime.now(UTC),
        )
    )
