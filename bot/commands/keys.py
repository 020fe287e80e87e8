"""`tbbot keys init | rotate | check`: the master key file and the keys in use.

See docs/storage.md for the key file format and the rotation procedure.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.errors import UsageError
from storage.errors import KeyConfigError, StoreError

if TYPE_CHECKING:
    from bot.config import Settings

DEFAULT_BATCH_SIZE = 200
"""Data keys `tbbot keys rotate` re-wraps per transaction, unless told otherwise."""


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "keys", help="create, rotate and check master keys", description=__doc__
    )
    actions = parser.add_subparsers(dest="keys_command", metavar="ACTION", required=True)

    init = actions.add_parser("init", help="write a new key file (mode 0600); never overwrites")
    init.add_argument(
        "--file",
        type=Path,
        help="where to write it (default: TBBOT_MASTER_KEY_FILE, else "
        "~/.config/tbbot/master.key, which tbbot then reads without being told); never in "
        "the data folder",
    )
    init.set_defaults(func=_init)

    rotate_parser = actions.add_parser(
        "rotate",
        help="re-wrap every data key under the newest master key, then verify",
        description="Rotation is two steps. `tbbot keys rotate --new-key` appends a fresh key "
        "to the key file and stops, so you can back the file up first. Then `tbbot keys "
        "rotate` re-wraps every data key under the newest key and checks that everything "
        "decrypts. Safe to interrupt: run it again to resume.",
    )
    rotate_parser.add_argument(
        "--new-key",
        action="store_true",
        help="step 1: append a fresh key to the key file (it becomes the newest) and stop",
    )
    rotate_parser.add_argument(
        "--batch-size",
        type=_positive,
        default=DEFAULT_BATCH_SIZE,
        help=f"data keys per transaction (default {DEFAULT_BATCH_SIZE})",
    )
    rotate_parser.set_defaults(func=_rotate)

    check = actions.add_parser("check", help="say which master key ids are configured and used")
    check.set_defaults(func=_check)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def run_store_command(name: str, main: Callable[[], Coroutine[Any, Any, int]]) -> int:
    """Run an async command: key problems are bad input (exit 2), other store faults exit 1."""
    try:
        return asyncio.run(main())
    except KeyConfigError as exc:
        raise UsageError(str(exc)) from None
    except StoreError as exc:
        print(f"tbbot {name}: error: {exc}", file=sys.stderr)
        return 1


class ProgressBar:
    """A one-line progress bar on a terminal; on a pipe, a line per tenth (logs stay short)."""

    def __init__(self, label: str, stream: TextIO = sys.stderr, width: int = 30) -> None:
        self.label = label
        self.stream = stream
        self.width = width
        self._tty = stream.isatty()
        self._last_tenth = -1

    def __call__(self, done: int, total: int) -> None:
        fraction = done / total if total else 1.0
        if self._tty:
            filled = int(self.width * fraction)
            bar = "#" * filled + "-" * (self.width - filled)
            end = "\n" if done >= total else ""
            self.stream.write(f"\r{self.label} [{bar}] {done}/{total}{end}")
        else:
            tenth = int(fraction * 10)
            if tenth == self._last_tenth:
                return
            self._last_tenth = tenth
            self.stream.write(f"{self.label}: {done}/{total}\n")
        self.stream.flush()


def _init(args: argparse.Namespace) -> int:
    from bot.config import KEY_FILE_NAME, config_dir, load_settings
    from storage.keyring import create_key_file

    settings = load_settings()
    default = config_dir() / KEY_FILE_NAME
    path: Path = args.file or settings.master_key_file or default
    try:
        settings.check_apart(path, "master key file", config_dir())
        key = create_key_file(path)
    except KeyConfigError as exc:
        raise UsageError(str(exc)) from None
    print(f"wrote {path} (mode 0600) with master key {key.id}")
    if path != default:
        print(f"set TBBOT_MASTER_KEY_FILE={path}")
    print("keep a copy apart from the database backups: without this file the database")
    print("cannot be read, and with it and a backup anyone can read everything.")
    return 0


def _rotate(args: argparse.Namespace) -> int:
    from bot.config import load_settings
    from storage.rotation import rotate, verify

    settings = load_settings()

    async def main() -> int:
        if args.new_key:
            return _add_key(settings)
        store = await settings.open_store()
        try:
            report = await rotate(
                store, batch_size=args.batch_size, progress=ProgressBar("re-wrapping data keys")
            )
            print(
                f"{report.rewrapped} data keys and {report.store_keys_rewrapped} store keys "
                f"re-wrapped under {report.newest}"
            )
            checked = await verify(store, progress=ProgressBar("verifying"))
        finally:
            await store.close()
        if not checked.ok:
            for failure in checked.failures[:20]:
                print(f"cannot decrypt: {failure}", file=sys.stderr)
            print(
                f"{len(checked.failures)} values do not decrypt (see the audit log); keep every "
                "old key until this is resolved",
                file=sys.stderr,
            )
            return 1
        print(f"verified: {checked.data_keys} data keys and {checked.cells} values decrypt")
        return 0

    return run_store_command("keys rotate", main)


def _add_key(settings: Settings) -> int:
    """Step 1 of a rotation: a new key in the file, and nothing re-wrapped yet, so that the
    file can be backed up before any data key depends on the new key."""
    from bot.config import config_dir
    from storage.keyring import add_key_to_file

    key_file = settings.key_file()
    if key_file is None:
        raise UsageError(
            "--new-key adds a key to the key file, and none is configured; with "
            "TBBOT_MASTER_KEY, append a new ID:BASE64 entry yourself, restart the bot with it "
            "and run `tbbot keys rotate`"
        )
    settings.check_apart(key_file, "master key file", config_dir())
    added = add_key_to_file(key_file)
    print(f"added master key {added.id} to {key_file}; nothing is re-wrapped yet.")
    print(f"1. Back up {key_file} now, apart from the database backups: data keys wrapped")
    print("   by the new key can only be read with a copy that holds it.")
    print("2. Restart the bot (so new patients get the new key), then run `tbbot keys rotate`.")
    return 0


def _check(args: argparse.Namespace) -> int:
    from bot.config import load_settings
    from storage.db import create_engine, database_errors
    from storage.rotation import key_usage
    from storage.store import has_schema, verify_keys

    settings = load_settings()

    async def main() -> int:
        keyring = settings.keyring()
        engine = create_engine(settings.resolved_database_url())
        try:
            with database_errors():
                async with engine.connect() as connection:
                    if not await has_schema(connection):
                        print("the database has no tables yet: run `tbbot migrate`")
                        return 0
                    usage = await key_usage(connection, keyring)
                    problem: str | None = None
                    try:
                        await verify_keys(connection, keyring)
                    except KeyConfigError as exc:
                        problem = str(exc)
        finally:
            await engine.dispose()
        others = ", ".join(usage.configured[:-1])
        print(
            f"configured master keys (oldest first): {others + ', ' if others else ''}"
            f"{usage.newest} (newest: encrypts)"
        )
        for key_id in usage.in_use:
            print(
                f"{key_id}: wraps {usage.data_keys.get(key_id, 0)} data keys and "
                f"{usage.store_keys.get(key_id, 0)} store keys"
            )
        for key_id in usage.unused:
            print(f"{key_id}: unused (remove it once no backup you may restore needs it)")
        if usage.missing:
            print(f"in use but not configured: {', '.join(usage.missing)}", file=sys.stderr)
            return 1
        if problem:
            print(problem, file=sys.stderr)
            return 1
        older = [key_id for key_id in usage.in_use if key_id != usage.newest]
        if older:
            print(f"older keys still in use ({', '.join(older)}): run `tbbot keys rotate`")
        return 0

    return run_store_command("keys check", main)
