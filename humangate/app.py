"""ASGI application factory."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from humangate import __version__
from humangate.accounts import AccountContext
from humangate.api import challenges, feedback, privacy, reference, site, siteverify
from humangate.api.errors import install_error_handlers
from humangate.api.limits import BodyLimit
from humangate.config import Settings, load_settings
from humangate.console import install as install_console
from humangate.console.housekeeping import HousekeepingJob, retention_from_settings
from humangate.console.notices import drain as drain_notices
from humangate.console.widget import ensure_console_unit
from humangate.db.engine import create_engine, create_sessionmaker
from humangate.db.migrate import migrate
from humangate.demo import ensure_demo_unit
from humangate.directory import UnitDirectory
from humangate.dnscheck import verify_crawler_dns
from humangate.events import EventLog
from humangate.messaging import MessageTemplates, channels_from_settings
from humangate.pool import ChallengePool
from humangate.privacy.retention import RetentionJob
from humangate.stats import UnitCounters
from humangate.store import create_store
from humangate.verification import Policy, Verifier, generate_visual

NOTICE_DRAIN_SECONDS = 10.0


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; resources open in the lifespan, so importing this does no I/O."""
    settings = settings or load_settings()
    key = settings.resolve_secret_key()
    regions = settings.load_region_table()
    channels = channels_from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.resolved_database_url)
        if settings.auto_migrate:
            await migrate(engine)
        sessions = create_sessionmaker(engine)
        store = create_store(settings.redis_url)
        policy = Policy(
            challenge_ttl=settings.challenge_ttl,
            token_ttl=settings.token_ttl,
            challenges_per_minute=settings.rate_challenges_per_minute,
            answers_per_minute=settings.rate_challenges_per_minute,
            lockout_failures=settings.lockout_failures,
        )
        events = EventLog(sessions)
        counters = UnitCounters(sessions)
        app.state.settings = settings
        app.state.store = store
        app.state.sessions = sessions
        app.state.key = key
        app.state.events = events
        app.state.directory = UnitDirectory(
            sessions, ttl=settings.unit_cache_seconds, test_keys=settings.test_keys
        )
        pool = ChallengePool(generate_visual, size=settings.pool_size)
        app.state.verifier = Verifier(
            store,
            key=key,
            policy=policy,
            pool=pool,
            crawler_check=verify_crawler_dns,
            events=events.record,
            regions=regions,
            stats=counters.count,
        )
        retention = RetentionJob(sessions, days=settings.risk_retention_days)
        app.state.counters = counters
        events.start()
        counters.start()
        retention.start()
        app.state.accounts = AccountContext.create(store=store, server_key=key)
        app.state.channels = channels
        app.state.message_templates = MessageTemplates.from_settings(settings)
        app.state.console_unit = (
            await ensure_console_unit(
                sessions, settings.data_dir, public_url=settings.public_url, server_key=key
            )
            if settings.console_widget
            else None
        )
        app.state.demo = (
            await ensure_demo_unit(sessions, settings.data_dir) if settings.demo else None
        )
        housekeeping = HousekeepingJob(
            sessions,
            app.state.accounts,
            app.state.message_templates,
            channels,
            cancel_inactive=settings.cancel_inactive,
            retention=retention_from_settings(settings),
        )
        housekeeping.start()
        if not gc.get_freeze_count():
            # Modules, app and pools live as long as the process: keep them out of the full
            # collections, which otherwise pause every request for some 70 ms each second or two.
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            # A notice to every owner still being sent: finish it if it is nearly done; the rest
            # waits in the inboxes (its progress is logged).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(drain_notices(app), NOTICE_DRAIN_SECONDS)
            await housekeeping.close()
            await retention.close()
            await events.close()
            await counters.close()
            await pool.close()
            await store.close()
            await engine.dispose()

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
