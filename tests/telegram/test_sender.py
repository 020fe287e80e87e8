"""The Telegram sender: each Bot API answer becomes the outcome the dispatcher acts on."""

from __future__ import annotations

import pytest
from telegram import Bot

from bot.telegram.sender import TelegramSender
from scheduler.outbox import Button, FailureReason, Payload
from scheduler.sending import Permanent, RetryLater, RetryReason, Sent
from tests.fakebotapi import FakeBotApi, Fault

MINA = 1001

# PTB 22 warns on reading RetryAfter.retry_after as an int; the sender accepts either type.
pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")

BUTTONS = ((Button("Taken", "dose:taken:7"),), (Button("Not today", "dose:skip:7"),))


async def test_message_with_buttons_is_sent_and_its_id_returned(
    bot: Bot, fake_bot_api: FakeBotApi
) -> None:
    result = await TelegramSender(bot).send(MINA, Payload.message("Dose time", BUTTONS))

    [shown] = fake_bot_api.messages_in(MINA)
    assert result == Sent(shown.message_id)
    assert shown.buttons == [[("Taken", "dose:taken:7")], [("Not today", "dose:skip:7")]]


async def test_edit_replaces_text_and_buttons(bot: Bot, fake_bot_api: FakeBotApi) -> None:
    sender = TelegramSender(bot)
    first = await sender.send(MINA, Payload.message("Dose time", BUTTONS))
    assert isinstance(first, Sent) and first.message_id is not None

    result = await sender.send(MINA, Payload.edit(first.message_id, "Recorded: taken"))

    assert result == Sent(first.message_id)
    [shown] = fake_bot_api.messages_in(MINA)
    assert (shown.text, shown.buttons) == ("Recorded: taken", [])


async def test_removing_buttons_keeps_the_text(bot: Bot, fake_bot_api: FakeBotApi) -> None:
    sender = TelegramSender(bot)
    first = await sender.send(MINA, Payload.message("Dose time", BUTTONS))
    assert isinstance(first, Sent) and first.message_id is not None

    assert await sender.send(MINA, Payload.edit_buttons(first.message_id)) == Sent(first.message_id)
    [shown] = fake_bot_api.messages_in(MINA)
    assert (shown.text, shown.buttons) == ("Dose time", [])


async def test_repeating_an_edit_that_already_landed_counts_as_sent(bot: Bot) -> None:
    sender = TelegramSender(bot)
    first = await sender.send(MINA, Payload.message("Dose time"))
    assert isinstance(first, Sent) and first.message_id is not None
    edit = Payload.edit(first.message_id, "Recorded")

    await sender.send(MINA, edit)
    assert await sender.send(MINA, edit) == Sent(first.message_id)


async def test_deleted_message_disappears_from_the_chat(bot: Bot, fake_bot_api: FakeBotApi) -> None:
    sender = TelegramSender(bot)
    first = await sender.send(MINA, Payload.message("Your pills for today"))
    assert isinstance(first, Sent) and first.message_id is not None

    assert await sender.send(MINA, Payload.delete(first.message_id)) == Sent(None)
    assert fake_bot_api.messages_in(MINA) == []


async def test_editing_or_deleting_a_message_that_is_gone_is_permanent(bot: Bot) -> None:
    sender = TelegramSender(bot)

    assert await sender.send(MINA, Payload.edit(99, "x")) == Permanent(FailureReason.MESSAGE_GONE)
    assert await sender.send(MINA, Payload.delete(99)) == Permanent(FailureReason.MESSAGE_GONE)


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (Fault.too_many_requests(retry_after=7), RetryLater(RetryReason.FLOOD, after=7.0)),
        (Fault.server_error(500), RetryLater(RetryReason.SERVER_ERROR)),
        (Fault.server_error(502), RetryLater(RetryReason.SERVER_ERROR)),
        (Fault.slow(2.0), RetryLater(RetryReason.TIMEOUT)),
        (Fault.blocked(), Permanent(FailureReason.BLOCKED)),
        (Fault.user_deactivated(), Permanent(FailureReason.USER_DEACTIVATED)),
        (Fault.chat_not_found(), Permanent(FailureReason.CHAT_NOT_FOUND)),
    ],
    ids=["429", "500", "502", "timeout", "blocked", "deactivated", "chat-not-found"],
)
async def test_bot_api_failures_map_to_outcomes(
    bot: Bot, fake_bot_api: FakeBotApi, fault: Fault, expected: object
) -> None:
    fake_bot_api.add_fault(fault, method="sendMessage", chat_id=MINA)

    assert await TelegramSender(bot).send(MINA, Payload.message("Dose time")) == expected


async def test_refused_connection_is_a_network_retry(bot: Bot, fake_bot_api: FakeBotApi) -> None:
    async with fake_bot_api.down():
        result = await TelegramSender(bot).send(MINA, Payload.message("Dose time"))

    assert result == RetryLater(RetryReason.NETWORK)


async def test_revoked_token_is_retried_not_failed(bot: Bot, fake_bot_api: FakeBotApi) -> None:
    # The operator revoked the token in BotFather: a configuration fault, not the patient's.
    fake_bot_api.token = "987654321" + ":AAHtheNewTokenTheBotDoesNotKnowYet_xyz"

    result = await TelegramSender(bot).send(MINA, Payload.message("Dose time"))

    assert result == RetryLater(RetryReason.UNAUTHORIZED)
