"""One module per `tbbot` subcommand; each exposes `register(subparsers)`.

A subcommand's `register` adds its parser and sets `func`, a callable taking the parsed
arguments and returning the exit status.
"""

from __future__ import annotations

import argparse
from typing import Any, Protocol

from bot.commands import backup, demo, drugs, keys, migrate, plan, regimens, run, sms


class Command(Protocol):
    def register(self, subparsers: argparse._SubParsersAction[Any]) -> None: ...


COMMANDS: tuple[Command, ...] = (demo, run, plan, regimens, drugs, keys, migrate, backup, sms)
