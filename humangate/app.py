"""ASGI application factory."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Protocol

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from humangate import __version__
from humangate.api import challenges, feedback, privacy, reference, site, siteverify
from humangate.api.limits import BodyLimit
from humangate.config import Settings, load_settings
from humangate.console import install as install_console
from humangate.console.housekeeping import HousekeepingJob, retention_from_settings
from humangate.console.notices import drain as drain_notices
from humangate.console.widget import ensure_console_unit
from humangate.demo import ensure_demo_unit
from humangate.http_errors import install_error_handlers
from humangate.privacy.retention import RetentionJob
from humangate.services import Services, attach_services, open_services

NOTICE_DRAIN_SECONDS = 10.0


class Closeable(Protocol):
    def start(self) -> None: ...

    async def close(self) -> None: ...


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; resources open in the lifespan, so importing this does no I/O."""
    settings = settings or load_settings()
    settings.resolve_secret_key()  # a bad key stops the start here, not in the lifespan

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_services(settings) as opened:
            services = replace(
                opened,
                console_unit=(
                    await ensure_console_unit(
                        opened.sessions,
                        settings.data_dir,
                        public_url=settings.public_url,
                        server_key=opened.key,
                    )
                    if settings.console_widget
                    else None
                ),
                demo=(
                    await ensure_demo_unit(opened.sessions, settings.data_dir)
                    if settings.demo
                    else None
                ),
            )
            attach_services(app, services)
            _attach_legacy_state(app, services)
            jobs = start_jobs(services)
            if not gc.get_freeze_count():
                # Modules, app and pools live as long as the process: keep them out of the full
                # collections, which otherwise pause every request for some 70 ms each second
                # or two.
                gc.collect()
                gc.freeze()
            try:
                yield
            finally:
                # A notice to every owner still being sent: finish it if it is nearly done; the
                # rest waits in the inboxes (its progress is logged).
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(drain_notices(app), NOTICE_DRAIN_SECONDS)
                for job in reversed(jobs):
                    await job.close()

    app = FastAPI(
        title="HumanGate",
        version=__version__,
        summary="Self-hosted human verification: challenges, pass tokens, siteverify.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    app.include_router(challenges.router)
    app.include_router(siteverify.router)
    app.include_router(feedback.router)
    app.include_router(privacy.router)
    app.include_router(site.router)
    app.include_router(reference.router)
    install_console(app)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["POST"],
        allow_headers=["Content-Type"],
        max_age=600,
    )
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return app


def start_jobs(services: Services) -> list[Closeable]:
    """Start the background jobs of a serving node, in the order they are to be closed last."""
    retention = RetentionJob(services.sessions, days=services.settings.risk_retention_days)
    housekeeping = HousekeepingJob(
        services.sessions,
        services.accounts,
        services.message_templates,
        services.channels,
        cancel_inactive=services.settings.cancel_inactive,
        retention=retention_from_settings(services.settings),
    )
    jobs: list[Closeable] = [services.events, services.counters, retention, housekeeping]
    for job in jobs:
        job.start()
    return jobs


def _attach_legacy_state(app: FastAPI, services: Services) -> None:
    state = app.state
    state.settings = services.settings
    state.store = services.store
    state.sessions = services.sessions
    state.key = services.key
    state.events = services.events
    state.directory = services.directory
    state.verifier = services.verifier
    state.counters = services.counters
    state.accounts = services.accounts
    state.channels = services.channels
    state.message_templates = services.message_templates
    state.console_unit = services.console_unit
    state.demo = services.demo


def create_worker_app() -> FastAPI:
    """The factory each uvicorn worker calls: the parent process has already migrated the
    database and created the demo unit (humangate serve), so no worker races to do it."""
    return create_app(load_settings().model_copy(update={"auto_migrate": False}))
