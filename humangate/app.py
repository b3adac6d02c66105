"""ASGI application factory: the routes, the error mapping, and a lifespan that opens the
services (humangate/services.py) and runs the background jobs (humangate/jobs/)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from humangate import __version__
from humangate.api import (
    assets,
    challenges,
    feedback,
    landing,
    noscript,
    privacy,
    reference,
    site,
    siteverify,
    verify,
)
from humangate.api import billing as billing_api
from humangate.api.body_size import BodyLimit
from humangate.api.deps import attach_services
from humangate.api.hot import HotRoutes
from humangate.billing.running_out import balance_announcer
from humangate.billing.settlement import SettlementJob
from humangate.config import Settings, load_settings
from humangate.console import install as install_console
from humangate.console.notices import drain as drain_notices
from humangate.console.widget import ensure_console_unit
from humangate.demo import ensure_demo_unit
from humangate.http_errors import install_error_handlers
from humangate.jobs import PeriodicJob
from humangate.jobs.housekeeping import (
    HousekeepingJob,
    retention_from_settings,
    verify_retention_from_settings,
)
from humangate.jobs.retention import RetentionJob
from humangate.observability import node as observability
from humangate.services import Services, carrier_configs, open_services

NOTICE_DRAIN_SECONDS = 10.0
YOUNG_COLLECTION = 20_000  # allocations between young collections (CPython's default: 700)
logger = logging.getLogger(__name__)
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; resources open in the lifespan, so importing this does no I/O."""
    settings = settings or load_settings()
    settings.resolve_secret_key()  # a bad key stops the start here, not in the lifespan
    carrier_configs(settings)  # so does a carrier gateway half configured
    app = FastAPI(
        title="HumanGate",
        version=__version__,
        summary="Self-hosted human verification: challenges, pass tokens, siteverify.",
        lifespan=_lifespan(settings),
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    routers = (challenges, siteverify, verify, feedback, privacy, site, assets, landing, reference)
    for module in (*routers, noscript):
        app.include_router(module.router)
    if settings.billing:  # off: no billing route exists at all
        app.include_router(billing_api.router)
    install_console(app)
    app.add_middleware(HotRoutes)  # added first, so inside the body limit, CORS and metrics
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["POST"],
        allow_headers=["Content-Type"],
        max_age=600,
    )
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    observability.install(app, settings)  # last: its middleware wraps all the others
    return app


def create_worker_app() -> FastAPI:
    """The factory each uvicorn worker calls: the parent process has already migrated the
    database and created the demo unit (humangate serve), so no worker races to do it."""
    return create_app(load_settings().model_copy(update={"auto_migrate": False}))


def _lifespan(settings: Settings) -> Lifespan:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_services(settings) as opened:
            services = await _with_own_units(opened)
            attach_services(app, services)
            jobs = start_jobs(services)
            _freeze_startup_objects()
            try:
                yield
            finally:
                await _close(app, jobs, settings.shutdown_timeout)

    return lifespan


async def _close(app: FastAPI, jobs: list[PeriodicJob], timeout: int) -> None:
    """The last writes of the buffers first (counters, events), then a notice to every owner
    still being sent, all within `timeout`: an orchestrator's kill comes soon after."""
    try:
        async with asyncio.timeout(timeout):
            for job in reversed(jobs):
                await job.close()
            # A notice nearly sent is finished; the rest waits in the inboxes (its progress is
            # logged).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(drain_notices(app), NOTICE_DRAIN_SECONDS)
    except TimeoutError:
        logger.error("Shutdown: the last writes did not end within %s s; the rest is lost", timeout)


async def _with_own_units(services: Services) -> Services:
    """The console's own unit and the demo's, created when first needed and enabled."""
    settings = services.settings
    console_unit = (
        await ensure_console_unit(
            services.sessions,
            settings.data_dir,
            public_url=settings.public_url,
            server_key=services.key,
        )
        if settings.console_widget
        else None
    )
    demo = await ensure_demo_unit(services.sessions, settings.data_dir) if settings.demo else None
    return replace(services, console_unit=console_unit, demo=demo)


def start_jobs(services: Services) -> list[PeriodicJob]:
    """Start the background jobs of a serving node, in the order they are to be closed last."""
    settings = services.settings
    jobs: list[PeriodicJob] = [
        *observability.node_jobs(settings),  # closed last: the final snapshot counts all
        services.events,
        services.counters,
        RetentionJob(
            services.sessions,
            days=settings.risk_retention_days,
            statistics=services.editions.policy if settings.billing else None,
        ),
        HousekeepingJob(
            services.sessions,
            services.accounts,
            services.message_templates,
            services.channels,
            cancel_inactive=settings.cancel_inactive,
            retention=retention_from_settings(settings),
            verify_retention=verify_retention_from_settings(settings),
            billing=settings.billing,
        ),
    ]
    if services.billing is not None:  # closed first: its last round settles what it can
        jobs.append(
            SettlementJob(
                services.billing.store,
                services.sessions,
                interval=settings.billing_settle_seconds,
                settled=balance_announcer(
                    services.sessions,
                    services.settings,
                    services.message_templates,
                    services.channels,
                ),
            )
        )
    for job in jobs:
        job.start()
    return jobs


def _freeze_startup_objects() -> None:
    """Modules, app and pools live as long as the process: keep them out of the full
    collections, which otherwise pause every request for some 70 ms each second or two.

    Young collections then run every YOUNG_COLLECTION allocations instead of 700: each one
    promotes the objects of every request in flight, so at 64 connections full collections still
    came every two seconds or so (10 to 60 ms each, bench/siteverify's lag probe)."""
    if not gc.get_freeze_count():
        gc.collect()
        gc.freeze()
        _, middle, old = gc.get_threshold()
        gc.set_threshold(YOUNG_COLLECTION, middle, old)
