"""`tbbot demo`: the whole bot in a terminal, with nothing to configure.

A temporary database and key, the terminal channel, and a clock that runs fast (a day
per minute by default), so a newcomer can set up a treatment, get reminders, answer them,
report a symptom, and see, clearly marked, what a helper would receive. Lines such as `+3h`
jump the clock ahead; lines starting with `@jisoo` are typed by the demo helper, so the helper's
side (pressing "I'll reach out", `/patients`, `/status`) can be tried too. Nothing leaves the
machine; the temporary folder is deleted at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from bot.channels.replies import send_replies
from bot.channels.terminal import TERMINAL, TerminalScreen, TerminalSession
from bot.i18n import Translator, negotiate, translator
from bot.runtime import build_runtime
from scheduler.config import EngineConfig
from scheduler.dispatcher import Dispatcher
from scheduler.engine import Engine
from scheduler.sql_outbox import SqlOutbox
from storage.keyring import create_key_file, load_keyring
from storage.records import Consent, OutboxState, SlotState
from storage.store import Store

PATIENT = "1000001"
HELPER = "1000002"
HELPER_ALIAS = "Jisoo"
JUMP = re.compile(r"^\+(\d{1,3})\s*([mhd])$")
AS_HELPER = re.compile(r"^@jisoo\b\s*", re.IGNORECASE)
UNITS = {"m": "minutes", "h": "hours", "d": "days"}
PATIENT_HEADING = "──── tbbot ────"


class DemoClock:
    """Wall time that runs `speed` times faster than real time, and can jump ahead.

    A jump ends the sleeps it jumps over, so whoever waits on this clock (the engine, the
    dispatcher) wakes at the new time as if it had passed.
    """

    def __init__(self, speed: float, start: datetime | None = None) -> None:
        self.speed = speed
        self._start = start or datetime.now(UTC)
        self._real = time.monotonic()
        self._jumped = 0.0
        self._jump = asyncio.Event()

    def monotonic(self) -> float:
        return (time.monotonic() - self._real) * self.speed + self._jumped

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self.monotonic())

    def jump(self, by: timedelta) -> None:
        self._jumped += by.total_seconds()
        self._jump.set()
        self._jump = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        until = self.monotonic() + max(0.0, seconds)
        while (left := until - self.monotonic()) > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._jump.wait(), left / self.speed)


def helper_heading(t: Translator) -> str:
    return t._("──── to your helper {name} (what they would see) ────", name=HELPER_ALIAS)


async def demo(
    speed: float,
    language: str | None,
    out: TextIO = sys.stdout,
    read: Callable[[], str] | None = None,
) -> int:
    """Steps:
    1. Make a key file and a SQLite database in a temporary folder.
    2. Start the engine and the dispatcher on the fast clock, printing what they send.
    3. Read lines: `+3h` jumps ahead, a number presses a button, anything else is a message;
       `@jisoo ...` is the same, typed by the demo helper.
    4. Once the patient is set up, link a demo helper (through the same invitation, acceptance
       and confirmation as a real one) so their alerts can be seen and answered too.
    """
    read = read or sys.stdin.readline
    with tempfile.TemporaryDirectory(prefix="tbbot-demo-") as folder:
        key_file = Path(folder) / "master.key"
        create_key_file(key_file)
        clock = DemoClock(speed)
        store = await Store.open(
            f"sqlite+aiosqlite:///{folder}/demo.db", load_keyring(None, key_file), clock=clock.now
        )
        session = TerminalSession(PATIENT, language=language, files=Path(folder))
        helper_session = TerminalSession(HELPER, language=language, files=Path(folder))
        t = translator(negotiate(language))
        screen = TerminalScreen(out)
        screen.seat(session, PATIENT_HEADING)
        screen.seat(helper_session, helper_heading(t))
        runtime = build_runtime(
            store,
            clock,
            worker_id="demo",
            senders={TERMINAL.name: screen},
            engine_config=EngineConfig(max_idle=timedelta(minutes=5)),
        )
        engine, dispatcher, dialogue = runtime.engine, runtime.dispatcher, runtime.dialogue
        lane = runtime.lane(TERMINAL.name)
        stop = asyncio.Event()
        workers = asyncio.create_task(runtime.run(stop))
        print(
            t._(
                "tbbot demo: you are a patient chatting with the bot; the clock runs fast "
                "({speed}x). Type /start to begin. Type a number to press a button, +3h to jump "
                "ahead in time, "
                "/help for commands, and press Ctrl-D to quit.",
                speed=format(speed, "g"),
            ),
            file=out,
        )
        helper_linked = False
        try:
            loop = asyncio.get_running_loop()
            while True:
                print("> ", end="", file=out, flush=True)
                screen.prompting = True
                line = await loop.run_in_executor(None, read)
                screen.prompting = False
                if not line:
                    break
                jump = JUMP.match(line.strip())
                if jump:
                    target = clock.now() + timedelta(**{UNITS[jump[2]]: int(jump[1])})
                    await _travel(engine, dispatcher, runtime.outbox, clock, target)
                    print(
                        t._("[demo] it is now {now}", now=await _local_now(store, clock, t)),
                        file=out,
                    )
                    continue
                if not line.strip():
                    continue
                as_helper = AS_HELPER.match(line)
                who = helper_session if as_helper else session
                typed = line[as_helper.end() :] if as_helper else line
                event = who.read(typed.rstrip("\n"))
                replies = await dialogue.handle(event)
                await send_replies(lane, clock, event, replies, dialogue.sent)
                if not helper_linked:
                    helper_linked = await _link_demo_helper(store, clock.now(), out, t)
                    if helper_linked:
                        await _hint_next(store, clock, out, t)
        finally:
            stop.set()
            await asyncio.gather(workers, return_exceptions=True)
            await store.close()
    print(t._("[demo] finished; the temporary database and key are deleted."), file=out)
    return 0


async def _travel(
    engine: Engine, dispatcher: Dispatcher, outbox: SqlOutbox, clock: DemoClock, target: datetime
) -> None:
    """Jump to `target` one due instant at a time (the engine's timers and the messages
    waiting in the outbox), so every reminder, nudge and close happens in order at its own
    instant, as it would have had the time passed. What the running engine or dispatcher took
    on meanwhile is waited for, so it is on screen before the next line is read."""
    waited = False
    while True:
        found = [await engine.next_due(), await outbox.next_due(clock.now())]
        due = min((at for at in found if at is not None), default=None)
        if due is None or due > target:
            break
        if due > clock.now():
            clock.jump(due - clock.now())
        ticked = await engine.tick()
        sent = await dispatcher.run_once()
        if ticked.claimed or sent.claimed:
            waited = False
        elif waited:
            break  # still due and nobody can take it: leave it to its lease
        else:
            await _sends_done(outbox)
            waited = True
    await _sends_done(outbox)
    if target > clock.now():
        clock.jump(target - clock.now())


async def _sends_done(outbox: SqlOutbox, tries: int = 100) -> None:
    """Wait (real time, at most `tries` short waits) until no message is being sent."""
    for _ in range(tries):
        if not (await outbox.store.outbox.count_by_state()).get(OutboxState.LEASED):
            return
        await asyncio.sleep(0.02)


async def _patient_zone(store: Store) -> str | None:
    identity = await store.identities.find(TERMINAL.name, PATIENT)
    if identity is None:
        return None
    return (await store.patients.get(identity.patient_id)).time_zone


async def _local_now(store: Store, clock: DemoClock, t: Translator) -> str:
    zone = await _patient_zone(store)
    now = clock.now().astimezone(ZoneInfo(zone)) if zone else clock.now().astimezone()
    return t.moment(now)


async def _hint_next(store: Store, clock: DemoClock, out: TextIO, t: Translator) -> None:
    """Where the next reminder is, so a newcomer knows how far to jump."""
    identity = await store.identities.find(TERMINAL.name, PATIENT)
    zone = await _patient_zone(store)
    if identity is None or zone is None:
        return
    now = clock.now()
    upcoming = await store.doses.slots_between(identity.patient_id, now, now + timedelta(days=3))
    due = next((s.due_at for s in upcoming if s.state is SlotState.PENDING), None)
    if due is None:
        return
    hours = max(1, math.ceil((due - clock.now()).total_seconds() / 3600))
    print(
        t._(
            "[demo] Your next reminder is due at {when}. Type +{hours}h to jump there.",
            when=t.moment(due.astimezone(ZoneInfo(zone))),
            hours=hours,
        ),
        file=out,
    )


async def _link_demo_helper(store: Store, now: datetime, out: TextIO, t: Translator) -> bool:
    """Once the patient has a plan, link a helper so the demo can show what helpers receive:
    the steps of `/helper` (invite, open, accept, confirm) without the typing."""
    identity = await store.identities.find(TERMINAL.name, PATIENT)
    if identity is None or not await store.enrolments.active(identity.patient_id):
        return False
    patient = await store.patients.get(identity.patient_id)
    helper = await store.helpers.add(patient.id, alias=HELPER_ALIAS)
    _, code = await store.helpers.invite(patient.id, helper.id, expires_at=now + timedelta(days=1))
    opened = await store.helpers.open(code, TERMINAL.name, HELPER)
    if opened is None or not await store.helpers.accept(
        opened.invite.id, TERMINAL.name, HELPER, HELPER
    ):
        return True
    await store.helpers.confirm(patient.id, helper.id)
    await store.patients.update(replace(patient, consent=Consent(helper_alerts=True)))
    print(
        t._(
            "[demo] A helper, {name}, is now linked, so you can see what a helper receives "
            "when doses are missed or something is wrong. Type @jisoo before a message or a "
            "number to act as {name}, for example @jisoo /patients.",
            name=HELPER_ALIAS,
        ),
        file=out,
    )
    return True
