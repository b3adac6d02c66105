"""`humangate serve`: migrate and create the demo unit once, then run the workers."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from humangate.cli._common import Subparsers, run_with_services
from humangate.config import Settings
from humangate.demo import ensure_demo_unit

if TYPE_CHECKING:
    from humangate.services import CoreServices


def register(commands: Subparsers) -> None:
    serve = commands.add_parser(
        "serve", help="run the HTTP service (HUMANGATE_HOST, HUMANGATE_PORT)"
    )
    serve.set_defaults(run=run_serve)


def run_serve(_: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    settings.check_workers()
    settings.resolve_secret_key()  # fail before forking, and create the local key only once
    run_with_services(settings, _prepare)
    # Workers find the schema and the demo unit ready: their factory turns auto_migrate off,
    # so none of them races to create them.
    uvicorn.run(
        "humangate.app:create_worker_app",
        factory=True,
        workers=settings.workers,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        # Access logs would record query strings, where some clients put secrets.
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )
    return 0


async def _prepare(services: CoreServices) -> None:
    """Create the demo unit once, in the parent process (opening the services migrated)."""
    if services.settings.demo:
        await ensure_demo_unit(services.sessions, services.settings.data_dir)
