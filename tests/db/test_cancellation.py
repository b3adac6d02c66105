"""A query its caller stops waiting for is cancelled as such, not reported as an outage."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from humangate.db.engine import create_engine, create_sessionmaker


@pytest.mark.postgres
async def test_a_cancelled_query_is_a_cancellation_not_an_outage(fresh_postgres_url: str) -> None:
    engine = create_engine(fresh_postgres_url)
    sessions = create_sessionmaker(engine)
    try:
        async with sessions() as session:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(session.execute(text("SELECT pg_sleep(5)")), 0.3)
        async with sessions() as session:  # the pool is still good
            assert (await session.execute(text("SELECT 1"))).scalar() == 1
    finally:
        await engine.dispose()
