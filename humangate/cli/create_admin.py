"""`humangate create-admin`: an operator account, its password read from a prompt or stdin."""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from humangate.accounts import AccountView, create_admin
from humangate.cli._common import Subparsers, run_with_services
from humangate.config import Settings

if TYPE_CHECKING:
    from humangate.services import CoreServices


def register(commands: Subparsers) -> None:
    admin = commands.add_parser(
        "create-admin",
        help="create an operator account; the password is read from a prompt or stdin",
    )
    admin.add_argument("--email", required=True, help="the administrator's e-mail address")
    admin.set_defaults(run=run_create_admin)


def read_password() -> str:
    """From a prompt (asked twice) on a terminal, else the first line of stdin; never argv."""
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat the password: ") != password:
            raise ValueError("The two passwords differ.")
        return password
    return sys.stdin.readline().rstrip("\r\n")


def run_create_admin(args: argparse.Namespace, settings: Settings) -> int:
    password = read_password()

    async def create(services: CoreServices) -> AccountView:
        async with services.sessions() as session:
            now = datetime.now(UTC)
            return await create_admin(services.accounts, session, args.email, password, now=now)

    admin = run_with_services(settings, create)
    print(f"administrator {admin.email} created (account {admin.id})")
    return 0
