"""`tbbot sms check`: can the bot reach the SMS gateway, and will the gateway reach the bot?

Checks, in order, and says what to fix for each: the settings; the phone answers and accepts
the user and password; the webhook signing key is set (webhooks are refused without it); then
points the gateway's four webhooks (received, sent, delivered, failed) at
``TBBOT_SMS_WEBHOOK_URL``. Safe to run again: the same webhook ids are replaced, not added.
Exit status 0 when everything is ready, 1 when something needs fixing.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING, Any

from bot.commands import sms_usage
from bot.errors import UsageError

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.sms.gateway_config import GatewayConfig


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "sms",
        help="the SMS gateway: check the connection, register webhooks, see the month's usage",
        description=__doc__,
    )
    actions = parser.add_subparsers(dest="sms_command", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check",
        help="test the gateway connection and register the bot's webhooks",
        description=__doc__,
    )
    check.add_argument(
        "--no-register",
        action="store_true",
        help="only test the connection; leave the gateway's webhooks as they are",
    )
    check.set_defaults(func=_check)
    sms_usage.register(actions)


def _check(args: argparse.Namespace) -> int:
    from bot.config import load_settings

    settings = load_settings()
    configs = settings.sms_gateways()
    if not configs:
        raise UsageError(
            "SMS is not configured: set TBBOT_SMS_GATEWAY_URL and TBBOT_SMS_GATEWAY_PASSWORD "
            "(see .env.example and docs/sms.md)"
        )
    return asyncio.run(_check_all(settings, configs, register=not args.no_register))


async def _check_all(settings: Settings, configs: list[GatewayConfig], *, register: bool) -> int:
    worst = 0
    for config in configs:
        worst = max(worst, await _run_check(settings, config, register=register))
    return worst


async def _run_check(settings: Settings, config: GatewayConfig, *, register: bool) -> int:
    from android_sms_gateway.errors import APIError

    from bot.sms.gateway import GatewayTransport

    ready = True
    transport = GatewayTransport.open(config)
    try:
        print(f"gateway: {config.base_url()} ({config.mode.value} mode)")
        health = await transport.health()
        print(f"  {'ok' if health.ok else 'PROBLEM'}: {health.detail}")
        if not health.ok:
            return 1
        print(f"  end-to-end encryption: {'on' if config.passphrase else 'off'}")
        if settings.sms_signing_key is None or not settings.sms_signing_key.get_secret_value():
            print("  PROBLEM: TBBOT_SMS_SIGNING_KEY is not set: every webhook would be refused")
            ready = False
        url = settings.sms_webhook_url
        if not url:
            print("  PROBLEM: TBBOT_SMS_WEBHOOK_URL is not set: the phone cannot reach the bot")
            return 1
        if not register:
            hooks = [h for h in await transport.webhooks() if h.url == url]
            print(f"  {len(hooks)} of 4 webhooks point at {url}")
            return 0 if ready and len(hooks) == 4 else 1
        try:
            hooks = await transport.register_webhooks(url)
        except APIError as exc:
            print(
                f"  PROBLEM: the gateway refused the webhook URL ({exc.status_code}): "
                "it must be https://, or http://127.0.0.1"
            )
            return 1
        for hook in hooks:
            print(f"  webhook {hook.event.value} -> {hook.url}")
    finally:
        await transport.close()
    return 0 if ready else 1
