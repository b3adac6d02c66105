"""Risk events are purged after HUMANGATE_RISK_RETENTION_DAYS (humangate/jobs/retention.py),
on SQLite and PostgreSQL; the job's loop does it on its own, and the app starts that loop with
the setting."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from humangate.app import create_app
from humangate.config import Settings
from humangate.db import units as unit_db
from humangate.db.engine import create_engine, create_sessionmaker
from humangate.db.events import EventRecord, add_events
from humangate.db.migrate import migrate
from humangate.db.models import RiskEvent
from humangate.jobs.retention import RetentionJob
from tests.app_services import services_of

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def event(unit_id: int, created_at: datetime, device: str) -> EventRecord:
    return EventRecord(
        unit_id=unit_id,
        created_at=created_at,
        device_id=device * 32,
        ip_prefix="203.0.113.0/24",
        kind="slide",
        mode="managed",
        outcome="pass",
        score=0.9,
        reasons=(),
        features={},
    )


async def add_aged_events(
    sessions: async_sessionmaker[AsyncSession], now: datetime, days: int, *, exact: bool = False
) -> None:
    """Events a day past the limit and a day short of it (and, if `exact`, one at the limit)."""
    async with sessions() as session:
        created = await unit_db.create_unit(
            session, name="Shop", domains=["example.com"], mode="managed", pow_difficulty=1000
        )
        limit = now - timedelta(days=days)
        await add_events(
            session,
            [
                event(created.unit.id, limit - timedelta(days=1), "o"),
                *([event(created.unit.id, limit, "e")] if exact else []),
                event(created.unit.id, limit + timedelta(days=1), "r"),
            ],
        )


async def devices_left(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    async with sessions() as session:
        rows = await session.scalars(select(RiskEvent.device_id).order_by(RiskEvent.created_at))
        return [device[0] for device in rows]


async def test_old_events_go_and_recent_ones_stay(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await add_aged_events(sessions, NOW, 30, exact=True)
    job = RetentionJob(sessions, days=30)
    assert await job.purge(NOW) == 1
    # An event exactly as old as the limit is kept: only older ones go.
    assert await devices_left(sessions) == ["e", "r"]
    assert await job.purge(NOW) == 0  # a second node's round finds nothing left
    assert await job.purge(NOW + timedelta(seconds=1)) == 1
    assert await devices_left(sessions) == ["r"]


async def test_the_loop_purges_without_being_asked(
    sessions: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    await add_aged_events(sessions, datetime.now(UTC), 30)
    job = RetentionJob(sessions, days=30, every_seconds=0.01)

    async def until_purged() -> None:
        while await devices_left(sessions) != ["r"]:
            await asyncio.sleep(0.01)

    with caplog.at_level(logging.INFO, logger="humangate.jobs.retention"):
        job.start()
        try:
            await asyncio.wait_for(until_purged(), 30)
        finally:
            await job.close()
    assert any(r.getMessage() == "purged 1 risk events older than 30 days" for r in caplog.records)


async def test_the_loop_survives_a_failed_round(
    sessions: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    await add_aged_events(sessions, datetime.now(UTC), 30)
    calls = 0

    def flaky() -> AsyncSession:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("database unreachable")
        return sessions()

    job = RetentionJob(flaky, days=30, every_seconds=0.01)  # type: ignore[arg-type]

    async def until_purged() -> None:
        while await devices_left(sessions) != ["r"]:
            await asyncio.sleep(0.01)

    with caplog.at_level(logging.INFO, logger="humangate.jobs.retention"):
        job.start()
        try:
            await asyncio.wait_for(until_purged(), 30)
        finally:
            await job.close()
    assert any(r.getMessage() == "purging risk events failed" for r in caplog.records)
    assert calls >= 2


def test_the_app_starts_the_job_with_the_setting(
    make_settings: Callable[..., Settings], db_url: str
) -> None:
    settings = make_settings(database_url=db_url, risk_retention_days=7, demo=False)

    async def prepare() -> None:
        engine = create_engine(db_url)
        try:
            await migrate(engine)
            await add_aged_events(create_sessionmaker(engine), datetime.now(UTC), 7)
        finally:
            await engine.dispose()

    asyncio.run(prepare())
    with TestClient(create_app(settings)) as client:
        app_sessions = services_of(client).sessions

        async def until_purged() -> None:
            while await devices_left(app_sessions) != ["r"]:
                await asyncio.sleep(0.01)

        # The first round runs as the app starts; with the default 30 days nothing would go.
        client.portal.call(asyncio.wait_for, until_purged(), 30)  # type: ignore[union-attr]
