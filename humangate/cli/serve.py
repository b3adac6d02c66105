"""`humangate serve`: migrate and create the demo unit once, then run the workers."""

from __future__ import annotations

import argparse
import logging.config
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
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

    from humangate.observability.logs import log_config

    settings.check_workers()
    settings.resolve_secret_key()  # fail before forking, and create the local key only once
    logging_config = log_config(settings)
    logging.config.dictConfig(logging_config)
    run_with_services(settings, _prepare)
    # Each run's workers share a fresh folder for their metrics, so that whichever answers a
    # scrape counts all of them and nothing of an earlier run.
    metrics_dir = (
        Path(tempfile.mkdtemp(prefix="humangate-metrics-")) if settings.workers > 1 else None
    )
    try:
        with _worker_setting("HUMANGATE_METRICS_DIR", metrics_dir):
            # Workers find the schema and the demo unit ready: their factory turns auto_migrate
            # off, so none of them races to create them.
            uvicorn.run(
                "humangate.app:create_worker_app",
                factory=True,
                workers=settings.workers,
                host=settings.host,
                port=settings.port,
                log_level=settings.log_level,
                log_config=logging_config,
                # uvicorn's access lines hold the path and query string, where some clients put
                # secrets; humangate.access logs the route template instead.
                access_log=False,
                proxy_headers=True,
                forwarded_allow_ips=settings.forwarded_allow_ips,
                # On SIGTERM, in-flight requests get this long; then they are cancelled (a
                # client holding a half-sent body included) and the lifespan flushes.
                timeout_graceful_shutdown=settings.shutdown_timeout,
            )
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0


@contextmanager
def _worker_setting(name: str, value: Path | None) -> Iterator[None]:
    """A setting the workers read from the environment they inherit, for this run only."""
    if value is None:
        yield
        return
    os.environ[name] = str(value)
    try:
        yield
    finally:
        os.environ.pop(name, None)


async def _prepare(services: CoreServices) -> None:
    """Create the demo unit once, in the parent process (opening the services migrated)."""
    if services.settings.demo:
        await ensure_demo_unit(services.sessions, services.settings.data_dir)
