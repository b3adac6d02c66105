"""The one typed object of shared services, built once from the settings.

`open_core_services` opens what every process needs (the store, the database, the keys, the
channels): the CLI runs on it. `open_services` builds on it what a serving node adds (the
verification loop, the unit directory, the event and counter buffers) and is what the app's
lifespan opens. Routes reach the result through `humangate.api.deps.ServicesDep`; nothing else
reads `app.state`. Opening does the I/O of connecting (and migrating when the settings ask); the
background jobs are started by whoever serves requests (humangate/app.py), not here. The loop and
the web framework load only when a serving node opens them, so commands start quickly.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from humangate.accounts import AccountContext, AccountPolicy
from humangate.config import Settings
from humangate.db.engine import DatabaseLimits, create_engine, create_sessionmaker
from humangate.db.migrate import migrate
from humangate.messaging import Channels, MessageTemplates, channels_from_settings
from humangate.observability.probes import instrument_engine, instrument_store
from humangate.store import RedisOptions, Store, create_store

if TYPE_CHECKING:
    from humangate.billing.editions import Editions
    from humangate.billing.meter import BillingMeter
    from humangate.console.widget import ConsoleUnit
    from humangate.demo import DemoUnit
    from humangate.directory import UnitDirectory
    from humangate.events import EventLog
    from humangate.loop import Clock, Verifier
    from humangate.pool import ChallengePool
    from humangate.stats import UnitCounters
    from humangate.verify.carrier import CamaraConfig, CnOneTapConfig
    from humangate.verify.service import VerifyService


@dataclass(frozen=True, slots=True, kw_only=True)
class CoreServices:
    """What every process may use: a command as much as a serving node."""

    settings: Settings
    key: bytes
    store: Store
    sessions: async_sessionmaker[AsyncSession]
    accounts: AccountContext
    channels: Channels
    message_templates: MessageTemplates


@dataclass(frozen=True, slots=True, kw_only=True)
class Services(CoreServices):
    """A serving node's services: the core, the loop and its buffers; one per process."""

    directory: UnitDirectory
    events: EventLog
    counters: UnitCounters
    pool: ChallengePool
    verifier: Verifier
    verify: VerifyService
    editions: Editions  # what each owner's edition allows (everything with billing off)
    # Set by the app once the database is ready: the console's own unit and the demo's keys.
    console_unit: ConsoleUnit | None = None
    demo: DemoUnit | None = None
    billing: BillingMeter | None = None  # the meter, when billing is on


def account_policy(settings: Settings) -> AccountPolicy:
    """The account rules the settings change from the documented defaults."""
    days = settings.billing_keep_ledger_days
    return AccountPolicy(keep_ledger=timedelta(days=days) if days else None)


def redis_options(settings: Settings) -> RedisOptions:
    return RedisOptions(
        connect_timeout=settings.redis_connect_timeout,
        socket_timeout=settings.redis_socket_timeout,
        max_connections=settings.redis_max_connections,
        pool_timeout=settings.redis_pool_timeout,
        health_check_interval=settings.redis_health_check_interval,
    )


def database_limits(settings: Settings) -> DatabaseLimits:
    return DatabaseLimits(
        connect_timeout=settings.database_connect_timeout,
        statement_timeout=settings.database_statement_timeout,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_timeout=settings.database_pool_timeout,
    )


@asynccontextmanager
async def open_core_services(
    settings: Settings, *, store: Store | None = None
) -> AsyncIterator[CoreServices]:
    """Open the database (migrated when the settings ask) and the store; close both after.

    `store` replaces the configured one: one-shot commands pass a MemoryStore, as they keep
    no hot state between runs.
    """
    key = settings.resolve_secret_key()
    channels = channels_from_settings(settings)
    engine = create_engine(settings.resolved_database_url, database_limits(settings))
    instrument_engine(engine)
    store = store or instrument_store(create_store(settings.redis_url, redis_options(settings)))
    try:
        if settings.auto_migrate:
            await migrate(engine)
        yield CoreServices(
            settings=settings,
            key=key,
            store=store,
            sessions=create_sessionmaker(engine),
            accounts=AccountContext.create(
                store=store, server_key=key, policy=account_policy(settings)
            ),
            channels=channels,
            message_templates=MessageTemplates.from_settings(settings),
        )
    finally:
        await store.close()
        await engine.dispose()


@asynccontextmanager
async def open_services(
    settings: Settings, *, clock: Clock | None = None
) -> AsyncIterator[Services]:
    """The core services and a serving node's loop over them; the pool is closed after."""
    from humangate.billing.editions import EditionPolicy, Editions
    from humangate.directory import UnitDirectory
    from humangate.dnscheck import verify_crawler_dns
    from humangate.events import EventLog
    from humangate.loop import EventObserver, Policy, StatsObserver, Verifier, generate_visual
    from humangate.loop.hooks import MetricsObserver
    from humangate.observability.metrics import CHALLENGES
    from humangate.pool import ChallengePool
    from humangate.stats import UnitCounters

    async with open_core_services(settings) as core:
        pool = ChallengePool(generate_visual, size=settings.pool_size)
        events = EventLog(core.sessions)
        counters = UnitCounters(core.sessions)
        editions = Editions(
            core.sessions,
            billing=settings.billing,
            policy=EditionPolicy.from_settings(settings),
            ttl=settings.unit_cache_seconds,
        )
        policy = Policy(
            challenge_ttl=settings.challenge_ttl,
            token_ttl=settings.token_ttl,
            challenges_per_minute=settings.rate_challenges_per_minute,
            answers_per_minute=settings.rate_challenges_per_minute,
            lockout_failures=settings.lockout_failures,
        )
        meter = open_meter(core) if settings.billing else None
        verifier = Verifier(
            core.store,
            key=core.key,
            policy=policy,
            pool=pool,
            meter=meter,
            crawler_check=verify_crawler_dns,
            regions=settings.load_region_table(),
            monitoring=settings.load_monitoring_networks(),
            rate_multiplier=editions.rate_multiplier if settings.billing else None,
            observers=(
                StatsObserver(counters.count),
                EventObserver(events.record),
                MetricsObserver(CHALLENGES.inc),
            ),
            clock=clock or time.time,
        )
        directory = UnitDirectory(
            core.sessions,
            ttl=settings.unit_cache_seconds,
            test_keys=settings.test_keys,
            wait=settings.database_lookup_timeout,
        )
        try:
            yield Services(
                **{field.name: getattr(core, field.name) for field in fields(CoreServices)},
                directory=directory,
                events=events,
                counters=counters,
                pool=pool,
                verifier=verifier,
                billing=meter,
                verify=open_verify_service(core, directory, verifier, editions, clock=clock),
                editions=editions,
            )
        finally:
            await pool.close()
            if meter is not None:
                await meter.close()


def open_verify_service(
    core: CoreServices,
    directory: UnitDirectory,
    verifier: Verifier,
    editions: Editions | None = None,
    *,
    clock: Clock | None = None,
) -> VerifyService:
    """The verification API's service; a start's pass token is checked (and spent) as
    siteverify checks it, against the unit the app names."""
    from humangate.verify.alerts import PrefixAlerts
    from humangate.verify.apps import AppView
    from humangate.verify.carrier import verifiers_from_config
    from humangate.verify.service import VerifyPolicy, VerifyService

    async def check_token(app: AppView, token: str) -> bool:
        unit = await directory.by_sitekey(app.sitekey or "")
        if unit is None or unit.disabled:
            return False
        return (await verifier.siteverify(unit, token)).success

    policy = VerifyPolicy.from_settings(core.settings)
    camara, cn_onetap = carrier_configs(core.settings)
    return VerifyService(
        sessions=core.sessions,
        store=core.store,
        key=core.key,
        channels=core.channels,
        policy=policy,
        check_token=check_token,
        alert=PrefixAlerts(
            core.sessions, core.message_templates, core.channels, block_hours=policy.block_hours
        ),
        carriers=verifiers_from_config(camara, cn_onetap),
        charge=getattr(verifier.context.meter, "charge", None),  # a BillingMeter's
        credit=getattr(verifier.context.meter, "credit", None),
        cache_seconds=core.settings.unit_cache_seconds,
        clock=clock or time.time,
        edition_check=None if editions is None else editions.require_verify_api,
    )


def open_meter(core: CoreServices) -> BillingMeter:
    """The billing meter over the hot store the settings name (Redis, else in memory)."""
    from humangate.billing.hot import create_billing_store
    from humangate.billing.meter import BillingMeter

    store = create_billing_store(core.settings.redis_url, redis_options(core.settings))
    return BillingMeter(store, core.sessions, slice_size=core.settings.billing_slice)


def carrier_configs(settings: Settings) -> tuple[CamaraConfig | None, CnOneTapConfig | None]:
    """The carrier gateways the settings turn on: each needs its URLs and credentials.

    Raises:
        ConfigError: a path is half configured, or a value is malformed.
    """
    from humangate.errors import ConfigError
    from humangate.verify.carrier import CamaraConfig, CnOneTapConfig

    camara_values = (
        settings.camara_authorize_url,
        settings.camara_token_url,
        settings.camara_api_url,
        settings.camara_client_id,
        settings.camara_client_secret.get_secret_value(),
    )
    cn_values = (
        settings.cn_onetap_url,
        settings.cn_onetap_app_id,
        settings.cn_onetap_app_key.get_secret_value(),
    )
    for name, values in (
        ("HUMANGATE_CAMARA_*", camara_values),
        ("HUMANGATE_CN_ONETAP_*", cn_values),
    ):
        if any(values) and not all(values):
            raise ConfigError(f"{name}: set every setting of the path, or none.")
    camara = (
        CamaraConfig(*camara_values, timeout=settings.carrier_timeout)
        if all(camara_values)
        else None
    )
    cn_onetap = (
        CnOneTapConfig(*cn_values, timeout=settings.carrier_timeout) if all(cn_values) else None
    )
    return camara, cn_onetap
