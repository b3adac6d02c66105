"""`humangate migrate`: upgrade the database to the newest schema."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from humangate.cli._common import Subparsers, run_with_services
from humangate.config import Settings

if TYPE_CHECKING:
    from humangate.services import CoreServices


def register(commands: Subparsers) -> None:
    migrate = commands.add_parser("migrate", help="upgrade the database to the newest schema")
    migrate.set_defaults(run=run_migrate)


def run_migrate(_: argparse.Namespace, settings: Settings) -> int:
    # Opening the services migrates when auto_migrate is on; here it always is.
    run_with_services(settings.model_copy(update={"auto_migrate": True}), _nothing)
    print("database is up to date")
    return 0


async def _nothing(_: CoreServices) -> None:
    return None
