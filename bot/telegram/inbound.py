"""From a Telegram update to the dialogue's `Inbound`, or to nothing at all.

Only what the dialogue needs crosses: ids as strings, the text, the picked choice, the
client's language tag and whether the chat is private. The bot being added to a group or a
channel is an `UNSUPPORTED` event from that chat, so the dialogue can say its one sentence and
leave before anyone writes there. Edited messages are dropped (acting on an edit would record a
dose twice); forwarded messages and media are `UNSUPPORTED`, which the dialogue answers politely.
"""

from __future__ import annotations

from telegram import ChatMember, Update

from bot.dialogue.choices import parse_payload
from bot.dialogue.messages import Inbound, Kind

CHANNEL = "telegram"
MAX_TEXT = 4096  # Telegram's own limit; anything longer is not from a real client
_PRESENT = frozenset({ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.RESTRICTED})


def to_inbound(update: Update, verbs: frozenset[str]) -> Inbound | None:
    """The dialogue event for `update`, or None when there is nothing to answer."""
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or user.is_bot:
        return None
    private = chat.type == chat.PRIVATE
    language = user.language_code
    update_ref = str(update.update_id)
    joined = update.my_chat_member
    if joined is not None:
        if private or joined.new_chat_member.status not in _PRESENT:
            return None  # a private chat blocked or unblocked, or the bot was removed
        return Inbound(
            CHANNEL,
            str(user.id),
            str(chat.id),
            Kind.UNSUPPORTED,
            language=language,
            private=False,
            update_ref=update_ref,
        )
    query = update.callback_query
    if query is not None:
        message = query.message
        return Inbound(
            CHANNEL,
            str(user.id),
            str(chat.id),
            Kind.PICK,
            pick=parse_payload(query.data, verbs),
            language=language,
            private=private,
            message_ref=None if message is None else str(message.message_id),
            update_ref=update_ref,
        )
    message = update.message
    if message is None:
        return None  # edits, channel posts, member updates: nothing a patient asked for
    if message.forward_origin is not None or message.text is None:
        return Inbound(
            CHANNEL,
            str(user.id),
            str(chat.id),
            Kind.UNSUPPORTED,
            language=language,
            private=private,
            update_ref=update_ref,
        )
    return Inbound.from_text(
        CHANNEL,
        str(user.id),
        str(chat.id),
        message.text[:MAX_TEXT],
        language=language,
        private=private,
        update_ref=update_ref,
    )
