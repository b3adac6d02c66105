"""Account fixtures: every database on SQLite and PostgreSQL, every store in memory and Redis.

`accounts` pairs them (SQLite + memory store, PostgreSQL + Redis) for the service tests, so each
flow runs once on the embedded default and once on the production pair.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from humangate import accounts as svc
from humangate.accounts import AccountContext, AccountPolicy, Client, LoggedIn, Outgoing
from humangate.accounts.passwords import TEST_PARAMS, PasswordHasher
from humangate.db.engine import create_engine, create_sessionmaker
from humangate.db.migrate import migrate
from humangate.store import MemoryStore, Store
from humangate.store.redis import RedisStore
from tests._services import PostgresServer

T0 = datetime(2026, 3, 2, 9, 0, 30, tzinfo=UTC)
# `signed_up` accounts are made a little before T0, so their sign-up code spends none of T0's
# resend allowance.
SIGNED_UP = T0 - timedelta(minutes=5)
SERVER_KEY = b"account-tests-" + b"k" * 32
PASSWORD = "correct horse battery"
BROWSER = Client(ip="203.0.113.7", device_label="Firefox on Linux")

T = TypeVar("T")


class RecordingHasher(PasswordHasher):
    """The real hasher at test cost, remembering which hashes it verified against."""

    def __init__(self) -> None:
        super().__init__(TEST_PARAMS)
        self.verified: list[str] = []

    def verify(self, hashed: str, password: str) -> bool:
        self.verified.append(hashed)
        return super().verify(hashed, password)


async def _engine(url: str) -> AsyncEngine:
    engine = create_engine(url)
    await migrate(engine)
    return engine


def _sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'db' / 'humangate.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return _sqlite_url(tmp_path)
    return str(request.getfixturevalue("fresh_postgres_url"))


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = await _engine(db_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)


def _redis(request: pytest.FixtureRequest) -> RedisStore:
    return RedisStore(request.getfixturevalue("redis_url"), prefix=f"test-{uuid.uuid4().hex}")


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    made: Store = MemoryStore() if request.param == "memory" else _redis(request)
    try:
        yield made
    finally:
        await made.close()


class Harness:
    """One context, one database: `run` calls an account function in a fresh session."""

    def __init__(
        self, ctx: AccountContext, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
    ) -> None:
        self.ctx = ctx
        self.engine = engine
        self.sessions = sessions
        self.hasher: RecordingHasher = ctx.hasher  # type: ignore[assignment]

    async def run(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        async with self.sessions() as session:
            return await fn(self.ctx, session, *args, **kwargs)

    async def db(self, fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """Call a function that takes only a session (db.accounts, audit queries)."""
        async with self.sessions() as session:
            return await fn(session, *args, **kwargs)

    def with_policy(self, **changes: Any) -> Harness:
        policy = AccountPolicy(**{**_policy_fields(self.ctx.policy), **changes})
        ctx = AccountContext(self.ctx.store, self.ctx.keys, self.ctx.hasher, policy)
        return Harness(ctx, self.engine, self.sessions)

    async def signed_up(
        self,
        identifier: str = "owner@example.com",
        password: str = PASSWORD,
        client: Client = BROWSER,
        now: datetime = SIGNED_UP,
    ) -> LoggedIn:
        """Sign up and confirm; the confirming browser becomes a known device."""
        sent = await self.run(svc.sign_up, identifier, password, client=client, now=now)
        code = code_in(sent.outgoing)  # type: ignore[union-attr]
        done = await self.run(svc.confirm_sign_up, identifier, code, client=client, now=now)
        assert isinstance(done, LoggedIn), done
        return done

    async def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table, to prove an operation changed nothing."""
        async with self.engine.connect() as connection:
            tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
            found: dict[str, list[tuple[Any, ...]]] = {}
            for table in sorted(tables):
                quoted = self.engine.dialect.identifier_preparer.quote(table)
                rows = await connection.execute(text(f"SELECT * FROM {quoted}"))
                found[table] = sorted(tuple(map(str, row)) for row in rows.all())
            return found


def _policy_fields(policy: AccountPolicy) -> dict[str, Any]:
    return {name: getattr(policy, name) for name in AccountPolicy.__dataclass_fields__}


def code_in(outgoing: tuple[Outgoing, ...]) -> str:
    """The code in the one message of a CodeSent or StepUpRequired."""
    assert len(outgoing) == 1, outgoing
    return outgoing[0].params["code"]


def _run_aside(make: Callable[[], Awaitable[None]]) -> None:
    """Run a coroutine to completion on its own loop, even when a test's loop is running."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, make()).result()  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test instead of migrating each time."""
    path = tmp_path_factory.mktemp("template") / "humangate.db"

    async def make() -> None:
        engine = await _engine(f"sqlite+aiosqlite:///{path}")
        await engine.dispose()

    _run_aside(make)
    return path


@pytest.fixture(scope="session")
def postgres_shared(postgres_server: PostgresServer) -> str:
    """One migrated PostgreSQL database for the service tests, emptied before each of them."""
    url = postgres_server.create_database(f"accounts_{uuid.uuid4().hex[:8]}")

    async def make() -> None:
        engine = await _engine(url)
        await engine.dispose()

    _run_aside(make)
    return url


async def _empty(engine: AsyncEngine) -> None:
    """TRUNCATE every table but Alembic's: much quicker than a new database per test."""
    async with engine.begin() as connection:
        tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
        quoted = ", ".join(f'"{table}"' for table in tables if table != "alembic_version")
        await connection.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))


@pytest.fixture(
    params=[
        "sqlite+memory",
        pytest.param("postgres+redis", marks=[pytest.mark.postgres, pytest.mark.redis]),
    ]
)
async def accounts(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    """A harness on an empty migrated database and an empty store."""
    made_store: Store
    if request.param == "sqlite+memory":
        path = tmp_path / "humangate.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url, made_store = f"sqlite+aiosqlite:///{path}", MemoryStore()
    else:
        url, made_store = str(request.getfixturevalue("postgres_shared")), _redis(request)
    engine = create_engine(url)
    if request.param != "sqlite+memory":
        await _empty(engine)
    ctx = AccountContext.create(
        store=made_store,
        server_key=SERVER_KEY,
        hasher=RecordingHasher(),
        policy=AccountPolicy(default_region="US"),
    )
    try:
        yield Harness(ctx, engine, create_sessionmaker(engine))
    finally:
        await made_store.close()
        await engine.dispose()
