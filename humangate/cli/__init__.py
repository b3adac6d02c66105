"""Command line: humangate serve | migrate | create-admin | outbox | housekeeping | account cancel |
notice | unit create | update | show | list | stats | rotate-secret |
app create | list | show | update | rotate-secret | delete |
plan create | list | update | set-default | assign |
billing balance | top-up | adjust | refund | voucher issue | list | void."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from humangate.cli import (
    account,
    app,
    billing,
    create_admin,
    housekeeping,
    migrate,
    notice,
    outbox,
    plan,
    serve,
    unit,
)
from humangate.cli._common import Command
from humangate.config import load_settings
from humangate.errors import HumanGateError

# Each command group registers its sub-parser; `humangate --help` lists them in this order.
GROUPS = (
    serve,
    migrate,
    outbox,
    create_admin,
    housekeeping,
    unit,
    app,
    account,
    notice,
    plan,
    billing,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="humangate", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; 0 on success, 1 if it could not do all it should, 2 on bad input."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        run: Command = args.run
        return run(args, settings)
    except (HumanGateError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


__all__ = ["build_parser", "main"]
