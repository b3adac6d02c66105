"""The one typed object of shared services, built once from the settings.

`open_services` is shared by the app's lifespan and the CLI, so both run on the same store,
database, keys and channels. Routes reach it through `ServicesDep`; nothing else reads
`app.state`. Opening does the I/O of connecting (and migrating when the settings ask); the
background jobs are started by whoever serves requests (humangate/app.py), not here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from humangate.accounts import AccountContext
from humangate.config import Settings
from humangate.db.engine import create_engine, create_sessionmaker
from humangate.db.migrate import migrate
from humangate.demo import DemoUnit
from humangate.directory import UnitDirectory
from humangate.dnscheck import verify_crawler_dns
from humangate.events import EventLog
from humangate.loop import (
    EventObserver,
    Policy,
    StatsObserver,
    Verifier,
    generate_visual,
)
from humangate.messaging import Channels, MessageTemplates, channels_from_settings
from humangate.pool import ChallengePool
from humangate.stats import UnitCounters
from humangate.store import Store, create_store

if TYPE_CHECKING:
    from humangate.console.widget import ConsoleUnit


@dataclass(frozen=True, slots=True, kw_only=True)
class Services:
    """What every request and command may use; one per process, built at start-up."""

    settings: Settings
    key: bytes
    store: Store
    sessions: async_sessionmaker[AsyncSession]
    accounts: AccountContext
    channels: Channels
    message_templates: MessageTemplates
    directory: UnitDirectory
    events: EventLog
    counters: UnitCounters
    pool: ChallengePool
    verifier: Verifier
    # Set by the app once the database is ready: the console's own unit and the demo's keys.
    console_unit: ConsoleUnit | None = None
    demo: DemoUnit | None = None


@asynccontextmanager
async def open_services(
    settings: Settings, *, store: Store | None = None
) -> AsyncIterator[Services]:
    """Open the database (migrated when the settings ask) and the store; close both after.

    `store` replaces the configured one: one-shot commands pass a MemoryStore, as they keep
    no hot state between runs.
    """
    key = settings.resolve_secret_key()
    channels = channels_from_settings(settings)
    engine = create_engine(settings.resolved_database_url)
    store = store or create_store(settings.redis_url)
    pool = ChallengePool(generate_visual, size=settings.pool_size)
    try:
        if settings.auto_migrate:
            await migrate(engine)
        sessions = create_sessionmaker(engine)
        events = EventLog(sessions)
        counters = UnitCounters(sessions)
        yield Services(
            settings=settings,
            key=key,
            store=store,
            sessions=sessions,
            accounts=AccountContext.create(store=store, server_key=key),
            channels=channels,
            message_templates=MessageTemplates.from_settings(settings),
            directory=UnitDirectory(
                sessions, ttl=settings.unit_cache_seconds, test_keys=settings.test_keys
            ),
            events=events,
            counters=counters,
            pool=pool,
            verifier=Verifier(
                store,
                key=key,
                policy=Policy(
                    challenge_ttl=settings.challenge_ttl,
                    token_ttl=settings.token_ttl,
                    challenges_per_minute=settings.rate_challenges_per_minute,
                    answers_per_minute=settings.rate_challenges_per_minute,
                    lockout_failures=settings.lockout_failures,
                ),
                pool=pool,
                crawler_check=verify_crawler_dns,
                regions=settings.load_region_table(),
                observers=(StatsObserver(counters.count), EventObserver(events.record)),
            ),
        )
    finally:
        await pool.close()
        await store.close()
        await engine.dispose()


def attach_services(app: FastAPI, services: Services) -> None:
    app.state.services = services


def get_services(request: Request) -> Services:
    services = request.app.state.services
    assert isinstance(services, Services)
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
