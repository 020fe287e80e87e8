"""One way to wire the program: `build_runtime` makes the store's companions (the composer,
the reminder engine, the outbox, the dispatcher with one lane per channel, the dialogue) for
`tbbot run`, the demo, the tests and the benchmarks alike, so each of them runs the same parts
joined the same way.

Only this module chooses which parts go together; `main()` functions and fixtures choose what
to give it (a store, a clock, the senders of the channels they serve).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from bot.channels import CHANNELS
from bot.compose import BotComposer
from bot.flows.retention import BotRetentionTexts
from bot.flows.visits import VisitReminders
from scheduler.channels import ChannelRegistry, ChannelSpec
from scheduler.clock import Clock
from scheduler.config import EngineConfig
from scheduler.dispatcher import Dispatcher, DispatcherConfig
from scheduler.engine import Engine
from scheduler.forgetting import ChatCleaner
from scheduler.metrics import MeteredOutbox, MeteredSender
from scheduler.retention import Retention, RetentionPolicy
from scheduler.sending import Lane, Sender
from scheduler.sql_outbox import SqlOutbox
from scheduler.wakeup import Wakeup
from storage.store import Store

if TYPE_CHECKING:
    from bot.dialogue.service import Dialogue


@dataclass
class Runtime:
    store: Store
    clock: Clock
    channels: ChannelRegistry
    composer: BotComposer
    engine: Engine
    outbox: SqlOutbox
    dispatcher: Dispatcher
    cleaner: ChatCleaner
    retention: Retention

    @cached_property
    def dialogue(self) -> Dialogue:
        """The conversation on every channel, made on first use: `tbbot run` arms the engine
        before it loads the dialogue's flows, which only an update needs."""
        from bot.dialogue.service import Dialogue

        return Dialogue(
            self.store,
            self.engine,
            self.clock,
            channels=self.channels,
            composer=self.composer,
            retention=self.retention.policy,
        )

    def lane(self, channel: str) -> Lane:
        """The way out of `channel` (its sender and rate limiter), for its replies."""
        return self.dispatcher.lanes[channel]

    def deliver(self, channel: str, sender: Sender) -> None:
        """Deliver `channel`'s messages through `sender` (metered), from now on; before the
        dispatcher runs."""
        self.dispatcher.add_lane(
            Lane(self.channels[channel], MeteredSender(sender, self.engine.metrics, channel))
        )

    async def run(self, stop: asyncio.Event) -> None:
        """The engine, the dispatcher, the chat cleaner and the retention rule, until `stop`
        is set."""
        await asyncio.gather(
            self.engine.run_forever(stop),
            self.dispatcher.run_forever(stop),
            self.cleaner.run_forever(stop),
            self.retention.run_forever(stop),
        )


def build_runtime(
    store: Store,
    clock: Clock,
    *,
    worker_id: str,
    senders: Mapping[str, Sender] | None = None,
    channels: Iterable[ChannelSpec] = CHANNELS,
    engine_config: EngineConfig | None = None,
    dispatcher_config: DispatcherConfig | None = None,
    wakeup: Wakeup | None = None,
    retention: RetentionPolicy | None = None,
) -> Runtime:
    """The parts, joined.

    1. The registry holds every channel in `channels`; the dialogue answers on any of them.
    2. The dispatcher has a lane for each channel in `senders` (by name): those this process
       delivers to (`Runtime.deliver` adds one later). A test that reads the outbox instead
       of delivering passes none.
    3. The outbox hands recipients that can no longer be reached to the engine, which tells
       the patient's helpers.
    4. The chat cleaner deletes, through the same lanes, what a forgotten patient's helpers
       were sent (`scheduler.forgetting`).
    5. The retention rule (`retention`, the defaults if None) erases patients' data when its
       time comes, and the dialogue's privacy text says when that is. The dialogue itself is
       made on first use (`Runtime.dialogue`).
    6. The engine waits through `wakeup`: APScheduler for `tbbot run`; by default the clock
       itself, so a demo or test clock wakes it at its own instants.
    """
    registry = ChannelRegistry(channels)
    composer = BotComposer(frozenset(spec.name for spec in registry if spec.discreet_only))
    reporting = frozenset(spec.name for spec in registry if spec.reports_delivery)
    engine = Engine(
        store,
        clock,
        composer,
        config=engine_config,
        worker_id=worker_id,
        wakeup=wakeup,
        reporting=reporting,
        visits=VisitReminders(),
    )
    outbox = SqlOutbox(store, worker_id, then=engine.on_unreachable)
    dispatcher = Dispatcher(
        MeteredOutbox(outbox, engine.metrics),
        [],
        clock,
        on_unreachable=outbox.record_unreachable,
        config=dispatcher_config,
    )
    cleaner = ChatCleaner(store, dispatcher.lanes, clock)
    keeper = Retention(store, registry, clock, BotRetentionTexts(), retention or RetentionPolicy())
    runtime = Runtime(store, clock, registry, composer, engine, outbox, dispatcher, cleaner, keeper)
    for name, sender in (senders or {}).items():
        runtime.deliver(name, sender)
    return runtime
