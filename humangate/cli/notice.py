"""`humangate notice`: a notice in every active owner's inbox, sent by e-mail or SMS too."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from humangate.accounts import audit
from humangate.cli._common import Subparsers, print_report, run_with_services
from humangate.config import Settings

if TYPE_CHECKING:
    from humangate.services import CoreServices


def register(commands: Subparsers) -> None:
    notice = commands.add_parser(
        "notice", help="put a notice in every active owner's inbox and send it by e-mail or SMS"
    )
    notice.add_argument("--all", action="store_true", required=True, help="every active owner")
    notice.add_argument("--title", required=True, help="at most 200 characters")
    notice.add_argument("--body", required=True, help="a blank line starts a new paragraph")
    notice.add_argument("--admins", action="store_true", help="also to administrators")
    notice.add_argument(
        "--blocked", action="store_true", help="also to suspended and banned owners"
    )
    notice.add_argument("--json", action="store_true", help="print JSON")
    notice.set_defaults(run=run_notice)


def run_notice(args: argparse.Namespace, settings: Settings) -> int:
    data = run_with_services(settings, lambda services: _broadcast(services, args))
    text = (
        f"notice {data['ref']} is in {data['recipients']} inboxes; "
        f"sent {data['sent']} messages, {data['failed']} failed"
    )
    delivered = not (data["failed"] or data["stopped"])
    return print_report(data, args.json, text, delivered=delivered)


async def _broadcast(services: CoreServices, args: argparse.Namespace) -> dict[str, Any]:
    """Write the notice to every inbox it is for, then send it in batches."""
    from humangate.console.notices import deliver_broadcast, write_broadcast

    async with services.sessions() as session:
        broadcast = await write_broadcast(
            session,
            title=args.title,
            body=args.body,
            admins=args.admins,
            blocked=args.blocked,
            actor=audit.OPERATOR,
            ip=None,
            now=datetime.now(UTC),
        )
    report = await deliver_broadcast(
        services.sessions, services.message_templates, services.channels, broadcast
    )
    return {
        "ref": broadcast.ref,
        "recipients": broadcast.recipients,
        "sent": report.sent,
        "failed": report.failed,
        "stopped": report.stopped,
    }
