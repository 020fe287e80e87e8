"""Telegram updates become dialogue events; edits, bots and odd updates become nothing."""

from __future__ import annotations

from typing import Any

from telegram import Update

from bot.dialogue.choices import Picked
from bot.dialogue.messages import Kind
from bot.telegram.inbound import to_inbound

VERBS = frozenset({"taken", "snooze"})
MINA = {"id": 7001, "is_bot": False, "first_name": "M", "language_code": "ko"}
PRIVATE = {"id": 7001, "type": "private"}
GROUP = {"id": -100123, "type": "supergroup", "title": "family"}


def update(**fields: Any) -> Update:
    return Update.de_json({"update_id": 501, **fields}, None)


def message(
    text: str | None = None, chat: dict[str, Any] = PRIVATE, **extra: Any
) -> dict[str, Any]:
    body = {"message_id": 11, "date": 1_780_000_000, "chat": chat, "from": MINA, **extra}
    if text is not None:
        body["text"] = text
    return body


def test_a_command_with_arguments_and_bot_suffix() -> None:
    event = to_inbound(update(message=message("/status@tb_bot  Mina ")), VERBS)
    assert event is not None
    assert (event.kind, event.command, event.args) == (Kind.COMMAND, "status", "Mina")
    assert (event.user, event.chat, event.language, event.private) == ("7001", "7001", "ko", True)
    assert event.update_ref == "501"


def test_plain_text_stays_text() -> None:
    event = to_inbound(update(message=message("08:30")), VERBS)
    assert event is not None and (event.kind, event.text) == (Kind.TEXT, "08:30")


def test_a_button_press_carries_the_parsed_choice_and_its_message() -> None:
    query = {
        "id": "q1",
        "from": MINA,
        "chat_instance": "ci",
        "data": "taken:s_1",
        "message": message("reminder"),
    }
    event = to_inbound(update(callback_query=query), VERBS)
    assert event is not None
    assert (event.kind, event.pick, event.message_ref) == (Kind.PICK, Picked("taken", "s_1"), "11")


def test_a_forged_button_payload_arrives_as_a_pick_of_nothing() -> None:
    query = {
        "id": "q1",
        "from": MINA,
        "chat_instance": "ci",
        "data": "forget:everyone",
        "message": message("reminder"),
    }
    event = to_inbound(update(callback_query=query), VERBS)
    assert event is not None and event.kind is Kind.PICK and event.pick is None


def test_stickers_photos_and_forwards_are_unsupported_not_errors() -> None:
    sticker = {
        "file_id": "f",
        "file_unique_id": "u",
        "width": 1,
        "height": 1,
        "is_animated": False,
        "is_video": False,
        "type": "regular",
    }
    forwarded = message(
        "hello",
        forward_origin={"type": "hidden_user", "date": 1_780_000_000, "sender_user_name": "x"},
    )
    for body in (message(sticker=sticker), forwarded):
        event = to_inbound(update(message=body), VERBS)
        assert event is not None and event.kind is Kind.UNSUPPORTED


def test_group_chats_are_marked_not_private() -> None:
    event = to_inbound(update(message=message("/start", chat=GROUP)), VERBS)
    assert event is not None and not event.private


def member_update(chat: dict[str, Any], status: str, **extra: Any) -> Update:
    bot = {"id": 999, "is_bot": True, "first_name": "Companion"}
    return update(
        my_chat_member={
            "chat": chat,
            "from": MINA,
            "date": 1_780_000_000,
            "old_chat_member": {"user": bot, "status": "left"},
            "new_chat_member": {"user": bot, "status": status, **extra},
        }
    )


def test_being_added_to_a_group_is_an_event_from_that_group() -> None:
    event = to_inbound(member_update(GROUP, "member"), VERBS)
    assert event is not None and not event.private and event.chat == "-100123"
    assert to_inbound(member_update(GROUP, "left"), VERBS) is None  # removed: nothing to say
    blocked = member_update(PRIVATE, "kicked", until_date=0)  # a patient blocked the bot
    assert to_inbound(blocked, VERBS) is None


def test_edited_messages_and_other_bots_are_dropped() -> None:
    assert (
        to_inbound(update(edited_message=message("/taken", edit_date=1_780_000_100)), VERBS) is None
    )
    other_bot = {**message("/start"), "from": {**MINA, "is_bot": True}}
    assert to_inbound(update(message=other_bot), VERBS) is None


def test_overlong_text_is_cut_to_telegrams_limit() -> None:
    event = to_inbound(update(message=message("a" * 10_000)), VERBS)
    assert event is not None and len(event.text) == 4096
