"""Logs never carry a bot token, a chat id or a message's text."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.logsafe import QUIET_LEVELS, REDACTED, configure_logging
from bot.telegram.sender import build_bot
from scheduler.clock import FakeClock
from tests.fakebotapi import TEST_TOKEN, FakeBotApi, Fault
from tests.scheduler.harness import Harness
from tests.telegram.conftest import TEST_TIMEOUTS

# Realistic private-chat ids, long enough not to turn up by chance in a timestamp.
MINA, WEI, ANA = 738291046, 615273849, 904417362
TEXTS = {
    MINA: "Mina, time for your isoniazid and rifampicin",
    WEI: "Wei, it is time for your evening tablets",
    ANA: "Your friend has missed three doses",
}

pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """Logging configured at DEBUG into a buffer; the previous configuration is restored."""
    root = logging.getLogger()
    saved = root.level, {name: logging.getLogger(name).level for name in QUIET_LEVELS}
    stream = io.StringIO()
    handler = configure_logging(logging.DEBUG, token=TEST_TOKEN, stream=stream)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(saved[0])
        for name, level in saved[1].items():
            logging.getLogger(name).setLevel(level)


def test_token_shapes_and_the_configured_token_are_redacted(log_output: io.StringIO) -> None:
    configure_logging(logging.DEBUG, token="plain-secret-token", stream=log_output)
    log = logging.getLogger("tbbot.test")

    log.info("url %s", "https://api.telegram.org/bot111222333:AAFabcdefghijklmnopqrstuvwxyz0123/x")
    log.info("configured: %s", "plain-secret-token")

    text = log_output.getvalue()
    assert "AAFabcdefghijklmnopqrstuvwxyz0123" not in text
    assert "plain-secret-token" not in text
    assert text.count(REDACTED) == 2


def test_token_inside_an_exception_is_redacted(log_output: io.StringIO) -> None:
    try:
        raise RuntimeError(f"The token `{TEST_TOKEN}` was rejected by the server.")
    except RuntimeError:
        logging.getLogger("tbbot.test").exception("startup failed")

    text = log_output.getvalue()
    assert "was rejected" in text
    assert TEST_TOKEN.split(":")[1] not in text


def test_httpx_request_lines_are_not_logged_even_at_debug(log_output: io.StringIO) -> None:
    logging.getLogger("httpx").info("HTTP Request: POST http://127.0.0.1/bot%s/getMe", "x")
    logging.getLogger("telegram.Bot").debug("Calling Bot API endpoint with %s", {"text": "hi"})

    assert log_output.getvalue() == ""


async def test_dispatcher_run_with_faults_leaks_no_token_chat_or_text(
    log_output: io.StringIO, fake_bot_api: FakeBotApi
) -> None:
    clock = FakeClock()
    fake_bot_api.clock = clock.monotonic
    fake_bot_api.add_fault(Fault.too_many_requests(retry_after=2), chat_id=MINA)
    fake_bot_api.add_fault(Fault.server_error(500), chat_id=WEI)
    fake_bot_api.add_fault(Fault.blocked(), chat_id=ANA, times=None)
    bot = build_bot(fake_bot_api.token, base_url=fake_bot_api.base_url, timeouts=TEST_TIMEOUTS)
    async with bot:
        harness = Harness(fake_bot_api, bot, clock)
        for chat, text in TEXTS.items():
            harness.enqueue(chat, text)
        await harness.drain(harness.dispatcher(max_in_flight=1))

    assert sorted(fake_bot_api.delivered_texts()) == sorted([TEXTS[MINA], TEXTS[WEI]])
    text = log_output.getvalue()
    assert "flood control" in text and "server_error" in text and "blocked" in text
    assert TEST_TOKEN.split(":")[1] not in text
    for chat, message in TEXTS.items():
        assert str(chat) not in text
        assert message not in text
