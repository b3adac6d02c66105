"""`humangate account cancel`: the operator cancels an account (audited as `operator`)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from humangate.accounts import Cancelled, cancel_account_as_operator, find_account_by
from humangate.cli._common import Subparsers, fail, print_report, run_with_services
from humangate.config import Settings

if TYPE_CHECKING:
    from humangate.services import CoreServices


def register(commands: Subparsers) -> None:
    account = commands.add_parser("account", help="act on one console account")
    actions = account.add_subparsers(dest="account_command", required=True)
    cancel = actions.add_parser(
        "cancel", help="cancel an account for good, when the law or an authority requires it"
    )
    cancel.add_argument("identifier", help="the account's e-mail address, phone number or #id")
    cancel.add_argument("--reason", required=True, help="sent to the owner, kept in the audit log")
    cancel.add_argument(
        "--yes", action="store_true", help="skip typing the account's identifier to confirm"
    )
    cancel.add_argument("--json", action="store_true", help="print JSON")
    cancel.set_defaults(run=run_cancel)


def run_cancel(args: argparse.Namespace, settings: Settings) -> int:
    result = run_with_services(settings, lambda services: _cancel(services, args))
    if result is None:
        return fail("not confirmed; nothing was cancelled.", 2)
    done, shown, delivered = result
    data = {
        "account_id": done.account_id,
        "units_deleted": done.units_deleted,
        "held_until": done.held_until.isoformat(),
        "delivered": delivered,
    }
    text = (
        f"account #{done.account_id} ({shown}) cancelled with {done.units_deleted} units; "
        f"its identifiers are held until {done.held_until:%Y-%m-%d %H:%M} UTC"
    )
    undelivered = "the owner's message was not delivered; the log says why."
    return print_report(data, args.json, text, delivered=delivered, undelivered=undelivered)


async def _cancel(
    services: CoreServices, args: argparse.Namespace
) -> tuple[Cancelled, str, bool] | None:
    """Find the account, ask to confirm unless --yes, cancel it and tell its owner why.

    Returns what was cancelled, how the account was shown and whether the owner's message was
    delivered; None if the operator did not confirm.
    """
    from humangate.accounts.delivery import deliver

    async with services.sessions() as session:
        account = await find_account_by(services.accounts, session, args.identifier)
    shown = account.email or account.phone or f"#{account.id}"
    if not args.yes and not _confirmed(account.id, shown):
        return None
    async with services.sessions() as session:
        done = await cancel_account_as_operator(
            services.accounts, session, account.id, reason=args.reason, now=datetime.now(UTC)
        )
    delivered = await deliver(services.message_templates, services.channels, done.outgoing)
    return done, shown, delivered


def _confirmed(account_id: int, shown: str) -> bool:
    """Ask on stderr for the account's identifier, read from stdin (a prompt or a pipe)."""
    print(
        f"This erases account #{account_id} ({shown}) and everything it holds; it cannot be "
        "undone. Type its e-mail address or phone number to confirm: ",
        end="",
        file=sys.stderr,
        flush=True,
    )
    return sys.stdin.readline().strip().lower() == shown.lower()
