"""Fixtures of the billing tests that need a database: each test runs on SQLite and on a real
PostgreSQL server (a fresh database each), and owners are made as rows."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from humangate.db.engine import create_engine, create_sessionmaker
from humangate.db.migrate import migrate
from humangate.db.models import Account

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
KEY = b"billing-test-key-" + b"k" * 32
_numbers = itertools.count(1)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each kind, for this test alone."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'humangate.db'}"
    return str(request.getfixturevalue("fresh_postgres_url"))


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(db_url)
    try:
        await migrate(engine)
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


async def make_owner(sessions: async_sessionmaker[AsyncSession]) -> int:
    """A confirmed owner's account row; its id."""
    n = next(_numbers)
    async with sessions() as session:
        account = Account(
            email=f"owner{n}@example.com",
            email_key=f"owner{n}@example.com",
            password_hash="x",
            status="active",
            created_at=NOW,
            last_active_at=NOW,
        )
        session.add(account)
        await session.commit()
        return account.id
