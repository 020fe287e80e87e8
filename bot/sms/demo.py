"""`tbbot demo --channel sms`: the conversation as the SMS would read, on a simulated phone.

Everything but the phone is the real program: the dialogue, the engine and the dispatcher with
the SMS lane, the SMS sender (STOP, caps, rendering, the menu kept in the database) and the
tolerant reply reader. The phone is `ScreenPhone`, a transport that prints each text with its
segment count and encoding instead of handing it to a gateway. Type what you would text
(`START`, `1`, `吃了`, `STOP`...), `+3h` to jump ahead, Ctrl-D to quit.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import tempfile
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from bot.channels import CHANNELS
from bot.demo import JUMP, UNITS, DemoClock, _travel
from bot.i18n import negotiate, translator
from bot.runtime import build_runtime
from bot.sms.channel import SmsDeliveries, SmsEventsHub, sms_spec
from bot.sms.inbound import SmsInbound
from bot.sms.outgoing import SmsReplies
from bot.sms.policy import SmsPolicy
from bot.sms.segments import measure
from bot.sms.sender import SmsSender
from bot.sms.transport import Accepted, Health, InboundSms, OutgoingSms, SendOutcome, StatusReport
from scheduler.config import EngineConfig
from scheduler.ratelimit import Limits
from storage.keyring import create_key_file, load_keyring
from storage.store import Store

PHONE = "+8613800138000"  # the patient's (invented) number: a Chinese mobile
HEADING = "──── SMS from the bot ({count}, {encoding}, {length} characters) ────"


class ScreenPhone:
    """A transport that shows each text as the patient's phone would, with what it costs."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.prompting = False

    async def send(self, message: OutgoingSms) -> SendOutcome:
        cost = measure(message.text)
        count = f"{cost.segments} segment{'s' if cost.segments != 1 else ''}"
        lines = [HEADING.format(count=count, encoding=cost.encoding, length=len(message.text))]
        lines.append(message.text)
        text = "\n".join(lines)
        if self.prompting:
            print(f"\n{text}\n> ", end="", file=self.out, flush=True)
        else:
            print(text, file=self.out, flush=True)
        return Accepted(message.id)

    async def status(self, message_id: str) -> StatusReport | None:
        return None

    async def health(self) -> Health:
        return Health(True, True, "the demo phone")

    async def close(self) -> None:
        return None


async def sms_demo(
    speed: float,
    language: str | None,
    out: TextIO = sys.stdout,
    read: Callable[[], str] | None = None,
) -> int:
    """Steps: a temporary key and database; the runtime with the SMS lane on the demo phone;
    then each typed line is a text from the patient's number, or `+3h` to jump ahead."""
    read = read or sys.stdin.readline
    with tempfile.TemporaryDirectory(prefix="tbbot-sms-demo-") as folder:
        key_file = Path(folder) / "master.key"
        create_key_file(key_file)
        clock = DemoClock(speed)
        store = await Store.open(
            f"sqlite+aiosqlite:///{folder}/demo.db", load_keyring(None, key_file), clock=clock.now
        )
        phone = ScreenPhone(out)
        sender = SmsSender(store, phone, clock, SmsPolicy())
        spec = replace(sms_spec(), limits=Limits(per_chat_interval=0.0, global_rate=None))
        runtime = build_runtime(
            store,
            clock,
            worker_id="sms-demo",
            senders={spec.name: sender},
            channels=[*CHANNELS, spec],
            engine_config=EngineConfig(max_idle=timedelta(minutes=5)),
        )
        out_side = SmsReplies(runtime.lane(spec.name), sender, clock)
        inbound = SmsInbound(
            store, runtime.dialogue.handle, runtime.dialogue.verbs, out_side, clock
        )
        events = SmsEventsHub(inbound, SmsDeliveries(store))
        t = translator(negotiate(language))
        stop = asyncio.Event()
        workers = asyncio.create_task(runtime.run(stop))
        print(
            t._(
                "tbbot SMS demo: you are texting the bot from a phone; the clock runs fast "
                "({speed}x). Text START to begin, a number to answer, +3h to jump ahead in "
                "time, and press Ctrl-D to quit.",
                speed=format(speed, "g"),
            ),
            file=out,
        )
        refs = itertools.count(1)
        try:
            loop = asyncio.get_running_loop()
            while True:
                print("> ", end="", file=out, flush=True)
                phone.prompting = True
                line = await loop.run_in_executor(None, read)
                phone.prompting = False
                if not line:
                    break
                jump = JUMP.match(line.strip())
                if jump:
                    target = clock.now() + timedelta(**{UNITS[jump[2]]: int(jump[1])})
                    await _travel(runtime.engine, runtime.dispatcher, runtime.outbox, clock, target)
                    continue
                sms = InboundSms(PHONE, line.rstrip("\n"), clock.now(), f"demo-{next(refs)}")
                await events.received(sms)
                runtime.engine.poke()
        finally:
            stop.set()
            runtime.engine.poke()
            await asyncio.gather(workers, return_exceptions=True)
            await store.close()
    print(t._("[demo] finished; the temporary database and key are deleted."), file=out)
    return 0
