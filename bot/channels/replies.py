"""Replies go out through the channel's own lane: the same sender, error mapping and pace as
the messages the dispatcher sends, whatever the channel.

Steps of `send_replies`, for each reply in order:
1. A reply that replaces the message a pick was made on is sent as an edit of it, where the
   channel can edit and the event names that message. If the channel refuses (the message is
   gone, too old to edit), it goes out as a new message instead.
2. Any other reply is a new message; a new message that fails raises `ReplyNotSent`, so the
   channel's error handler can say that something went wrong (nothing the person confirmed
   is lost: the dialogue committed it before answering).
3. `sent`, when given, hears of every new message (discreet mode deletes sensitive ones later).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from bot.compose import buttons, to_payload
from bot.dialogue.messages import Inbound, Reply
from scheduler.clock import Clock
from scheduler.outbox import Payload
from scheduler.sending import Lane, SendResult, Sent

log = logging.getLogger(__name__)

SentHook = Callable[[Inbound, Reply, int], Awaitable[None]]


class ReplyNotSent(Exception):
    """A reply could not be delivered; `result` says why (never the text or the address)."""

    def __init__(self, result: SendResult) -> None:
        super().__init__(type(result).__name__)
        self.result = result


def _edited_message(lane: Lane, event: Inbound, reply: Reply) -> int | None:
    # A file always goes out as a new message: no channel turns a message into a file.
    if not reply.edit or not lane.spec.edits or event.message_ref is None or reply.attachment:
        return None
    return int(event.message_ref) if event.message_ref.isdigit() else None


async def send_replies(
    lane: Lane,
    clock: Clock,
    event: Inbound,
    replies: Sequence[Reply],
    sent: SentHook | None = None,
) -> None:
    """Send `replies` to the chat `event` came from (see the module docstring)."""
    for reply in replies:
        target = _edited_message(lane, event, reply)
        if target is not None:
            edit = Payload.edit(target, reply.text, buttons(reply))
            if isinstance(await lane.send_now(clock, event.chat, edit), Sent):
                continue
            log.info("edit refused; sending a new message instead")
        result = await lane.send_now(clock, event.chat, to_payload(reply))
        if not isinstance(result, Sent):
            raise ReplyNotSent(result)
        if sent is not None and result.message_id is not None:
            await sent(event, reply, result.message_id)
