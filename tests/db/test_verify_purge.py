"""The verification API's records go once past their limits (humangate/db/verify_purge.py), on
SQLite and PostgreSQL, and the hourly housekeeping does it with HUMANGATE_VERIFY_RETENTION_DAYS."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from humangate.db import verify_apps
from humangate.db.engine import create_engine, create_sessionmaker
from humangate.db.migrate import migrate
from humangate.db.models import Verification, VerifyNonce, VerifyPrefixBlock, VerifyUsage
from humangate.db.verify_purge import USAGE_RETENTION, purge_verify_records
from humangate.verify.apps import AppChanges
from tests.live import humangate_env, run_cli

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
KEY = b"k" * 32


def verification(app_id: int, name: str, created_at: datetime) -> Verification:
    return Verification(
        id=f"VE{name:0>32}",
        app_id=app_id,
        channel="sms",
        destination_digest="d" * 64,
        destination_masked="+86 138****0000",
        country="CN",
        prefix="86138",
        locale="zh-CN",
        status="approved",
        code_digest="c" * 64,
        delivery="sent",
        created_at=created_at,
        expires_at=created_at + timedelta(minutes=10),
        last_sent_at=created_at,
    )


async def add_aged_records(
    sessions: async_sessionmaker[AsyncSession], now: datetime, days: int
) -> None:
    """Of each kind, one past its limit ('o'), one at it ('e', kept) and one short of it ('r')."""
    limit = now - timedelta(days=days)
    day = timedelta(days=1)
    async with sessions() as session:
        app = (
            await verify_apps.create_app(
                session, AppChanges(name="Shop"), account_id=None, server_key=KEY, now=now
            )
        ).app
        session.add_all(
            [
                verification(app.id, "o", limit - day),
                verification(app.id, "e", limit),
                verification(app.id, "r", limit + day),
                VerifyNonce(app_id=app.id, nonce="o" * 16, expires_at=now - timedelta(seconds=1)),
                VerifyNonce(app_id=app.id, nonce="e" * 16, expires_at=now),
                VerifyNonce(app_id=app.id, nonce="r" * 16, expires_at=now + timedelta(hours=1)),
                *(
                    VerifyUsage(
                        app_id=app.id,
                        day=d.date(),
                        channel=n,
                        country="CN",
                        sent=1,
                        failed=0,
                        approved=1,
                    )
                    for n, d in (
                        ("o", now - USAGE_RETENTION - day),
                        ("e", now - USAGE_RETENTION),
                        ("r", now - USAGE_RETENTION + day),
                    )
                ),
                # Ended long ago; ended but created within the retention; old but still on.
                block(app.id, "1", created=limit - day, until=limit),
                block(app.id, "2", created=limit + day, until=now - timedelta(hours=1)),
                block(app.id, "3", created=limit - day, until=now + timedelta(hours=1)),
            ]
        )
        await session.commit()


def block(app_id: int, prefix: str, *, created: datetime, until: datetime) -> VerifyPrefixBlock:
    return VerifyPrefixBlock(
        app_id=app_id, prefix=prefix, sent=20, approved=0, created_at=created, until=until
    )


async def left(sessions: async_sessionmaker[AsyncSession]) -> dict[str, list[str]]:
    async with sessions() as session:
        return {
            "verifications": sorted(v[-1] for v in await session.scalars(select(Verification.id))),
            "nonces": sorted(n[0] for n in await session.scalars(select(VerifyNonce.nonce))),
            "usage": sorted(await session.scalars(select(VerifyUsage.channel))),
            "blocks": sorted(await session.scalars(select(VerifyPrefixBlock.prefix))),
        }


async def test_old_records_go_and_recent_ones_stay(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await add_aged_records(sessions, NOW, 30)
    async with sessions() as session:
        purged = await purge_verify_records(session, now=NOW, retention=timedelta(days=30))
    assert purged.as_dict() == {"verifications": 1, "nonces": 1, "usage": 1, "prefix_blocks": 1}
    assert await left(sessions) == {
        "verifications": ["e", "r"],
        "nonces": ["e", "r"],
        "usage": ["e", "r"],
        "blocks": ["2", "3"],
    }
    async with sessions() as session:  # a second round finds nothing more
        again = await purge_verify_records(session, now=NOW, retention=timedelta(days=30))
    assert not any(again.as_dict().values())
    # A second later, what was exactly at its limit is past it; usage counts whole days.
    async with sessions() as session:
        later = NOW + timedelta(seconds=1)
        await purge_verify_records(session, now=later, retention=timedelta(days=30))
    assert await left(sessions) == {
        "verifications": ["r"],
        "nonces": ["r"],
        "usage": ["e", "r"],
        "blocks": ["2", "3"],
    }


async def test_a_retention_that_is_not_positive_is_refused(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        with pytest.raises(ValueError, match="must be positive"):
            await purge_verify_records(session, now=NOW, retention=timedelta(0))


def test_the_housekeeping_command_purges_with_the_setting(tmp_path: Path) -> None:
    async def prepare() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'humangate.db'}")
        try:
            await migrate(engine)
            await add_aged_records(create_sessionmaker(engine), datetime.now(UTC), 3)
        finally:
            await engine.dispose()

    asyncio.run(prepare())
    done = run_cli(humangate_env(tmp_path, verify_retention_days="3"), "housekeeping", "--json")
    assert done.returncode == 0, done.stderr
    json.loads(done.stdout)
    with sqlite3.connect(tmp_path / "humangate.db") as db:
        ids = sorted(row[0][-1] for row in db.execute("SELECT id FROM verifications"))
        nonces = [row[0][0] for row in db.execute("SELECT nonce FROM verify_nonces")]
    # 'e' was at the limit when the rows were made, and is past it when the command runs.
    assert ids == ["r"] and nonces == ["r"]
