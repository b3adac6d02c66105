"""`humangate housekeeping`: the hourly account job, once, as the operator asks for it."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from humangate.accounts import HousekeepingReport
from humangate.cli._common import Subparsers, print_report, run_with_services
from humangate.config import Settings

if TYPE_CHECKING:
    from humangate.services import CoreServices


def register(commands: Subparsers) -> None:
    housekeeping = commands.add_parser(
        "housekeeping",
        help="run the hourly account job once: inactivity warnings, cancellations, purges",
    )
    housekeeping.add_argument(
        "--cancel-inactive",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="cancel accounts warned 30 days ago and unused since "
        "(default: HUMANGATE_CANCEL_INACTIVE, off)",
    )
    housekeeping.add_argument("--json", action="store_true", help="print JSON")
    housekeeping.set_defaults(run=run_housekeeping)


def run_housekeeping(args: argparse.Namespace, settings: Settings) -> int:
    # The job's module renders and sends messages: only this command loads it.
    from humangate.jobs.housekeeping import (
        housekeep,
        retention_from_settings,
        verify_retention_from_settings,
    )

    cancel = settings.cancel_inactive if args.cancel_inactive is None else args.cancel_inactive
    retention = retention_from_settings(settings)

    async def work(services: CoreServices) -> tuple[HousekeepingReport, bool]:
        async with services.sessions() as session:
            return await housekeep(
                services.accounts,
                session,
                services.message_templates,
                services.channels,
                now=datetime.now(UTC),
                cancel_inactive=cancel,
                retention=retention,
                verify_retention=verify_retention_from_settings(settings),
                billing=settings.billing,
            )

    report, delivered = run_with_services(settings, work)
    data = {**report.as_dict(), "cancel_inactive": cancel, "delivered": delivered}
    off = "" if cancel else " (cancellation is off)"
    text = (
        f"warned {len(report.warned)} inactive accounts, cancelled {len(report.cancelled)}{off}\n"
        f"sent {len(report.outgoing)} messages\n"
        f"purged {report.purged_pending} unconfirmed sign-ups, {report.purged_sessions} sessions, "
        f"{report.purged_codes} codes, {report.purged_holds} holds\n"
        f"purged {report.purged_audit} audit entries, {report.purged_devices} unused devices, "
        f"{report.purged_notices} read notices past their retention"
    )
    return print_report(data, args.json, text, delivered=delivered)
