"""The channels: each declares what it can do (`scheduler.channels.ChannelSpec`), and its
adapter turns its events into `Inbound` and sends `Reply` through its own sender.

`CHANNELS` is the registry's content: adding a channel is its own modules and one line here
(see docs/architecture.md).
"""

from bot.channels.terminal import TERMINAL
from bot.telegram.channel import TELEGRAM

CHANNELS = (TELEGRAM, TERMINAL)

__all__ = ["CHANNELS"]
