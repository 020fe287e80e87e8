"""The `tbbot` command line: wiring only; each subcommand lives in `bot.commands`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bot.commands import COMMANDS
from bot.errors import UsageError

EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tbbot",
        description="A private treatment companion for people with tuberculosis.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.func(args)
    except UsageError as exc:
        print(f"tbbot {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"tbbot {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`tbbot plan ... | head`): not an error worth a traceback.
        sys.stderr.close()
        return 0
    return result


if __name__ == "__main__":
    sys.exit(main())
