"""`humangate outbox`: the development outbox, where mail and SMS go without a server."""

from __future__ import annotations

from humangate.cli._common import Subparsers
from humangate.messaging import add_outbox_arguments, outbox_cli


def register(commands: Subparsers) -> None:
    outbox = commands.add_parser(
        "outbox", help="print the development outbox (mail and SMS sent without a server)"
    )
    add_outbox_arguments(outbox)
    outbox.set_defaults(run=outbox_cli)
