"""What Telegram can do, for the channel registry (`scheduler.channels`).

Inline buttons; messages can be edited and deleted (discreet mode deletes sensitive ones);
photos and documents; 4,096 characters a message; invitations as a ``t.me`` deep link, with the
code to type beside it; one message per second to a chat and about 30 a second for the bot
(we keep to 25), as the Bot API FAQ states.
"""

from __future__ import annotations

from dataclasses import replace

from scheduler.channels import Attachment, ChannelSpec, ChoiceStyle, Invitation, Length
from scheduler.ratelimit import Limits

NAME = "telegram"
MAX_TEXT = 4096  # characters, after entities are parsed; we send plain text

TELEGRAM = ChannelSpec(
    name=NAME,
    choices=ChoiceStyle.BUTTONS,
    edits=True,
    deletes=True,
    length=Length(MAX_TEXT),
    invitation=Invitation.DEEP_LINK,
    limits=Limits(per_chat_interval=1.0, global_rate=25.0),
    attachments=frozenset({Attachment.PHOTO, Attachment.DOCUMENT}),
)


def with_bot_name(spec: ChannelSpec, username: str | None) -> ChannelSpec:
    """The spec once the bot's name is known (from getMe): invitation links open that bot.
    Without a name, invitations show the code only."""
    if not username:
        return spec
    return replace(spec, deep_link=f"https://t.me/{username}?start=")
