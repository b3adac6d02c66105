"""Engine and session factory; SQLite by default, PostgreSQL through HUMANGATE_DATABASE_URL.

This is the database's boundary for failures: a connection that cannot be made or checked out
in time, a statement that outlives its timeout and a connection lost mid-statement all leave
here as `DatabaseUnavailable` (a `StorageError`), which the API answers with a fast 503
`database-unavailable`. Errors of the statement itself (a constraint, bad data) stay SQLAlchemy's:
they are bugs, not outages.

Their messages never quote a statement's parameters (`hide_parameters`): a logged error would
otherwise carry what the parameters hold, a code's or a destination's digest among them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event, exc, text
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.ext.asyncio import AsyncSession as AsyncSession
from sqlalchemy.pool import AsyncAdaptedQueuePool, PoolProxiedConnection

from humangate.errors import DatabaseUnavailable


@dataclass(frozen=True, slots=True, kw_only=True)
class DatabaseLimits:
    """How long the database may take before a request gives up on it, and how many
    connections a process keeps (HUMANGATE_DATABASE_*; 0 for a timeout means none).

    Attributes:
        connect_timeout: seconds to open a connection (PostgreSQL).
        statement_timeout: seconds one statement may run before it is cancelled (PostgreSQL).
        pool_size: connections kept open per process.
        max_overflow: connections opened beyond `pool_size` under a burst, closed after.
        pool_timeout: seconds a request waits for a free connection when all are in use.
    """

    connect_timeout: float = 5.0
    statement_timeout: float = 5.0
    pool_size: int = 10
    max_overflow: int = 10
    pool_timeout: float = 2.0


class _GuardedPool(AsyncAdaptedQueuePool):
    """A connection that cannot be had (refused, timed out, the pool exhausted, the server
    starting or stopping) is an unavailable database, whatever the driver called it."""

    def connect(self) -> PoolProxiedConnection:
        try:
            return super().connect()
        except DatabaseUnavailable:
            raise
        except Exception as cause:
            raise _unavailable(cause) from cause


def create_engine(url: str, limits: DatabaseLimits | None = None) -> AsyncEngine:
    """Create an async engine; for SQLite, make the folder and turn on WAL and foreign keys."""
    limits = limits or DatabaseLimits()
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

    else:
        connect_args: dict[str, Any] = {}
        if limits.connect_timeout:
            connect_args["timeout"] = limits.connect_timeout
        if limits.statement_timeout:
            # asyncpg's own: it cancels the statement on the server when the time is up, so a
            # frozen server or a slow query both end here rather than holding the request.
            connect_args["command_timeout"] = limits.statement_timeout
        engine = create_async_engine(
            url,
            poolclass=_GuardedPool,
            pool_pre_ping=True,
            pool_size=limits.pool_size,
            max_overflow=limits.max_overflow,
            pool_timeout=limits.pool_timeout,
            connect_args=connect_args,
            hide_parameters=True,
        )
    event.listen(engine.sync_engine, "handle_error", _translate_outage)
    return engine


def _translate_outage(context: ExceptionContext) -> None:
    """Raise DatabaseUnavailable in place of an error that says the server is gone or slow."""
    if context.is_pre_ping:
        return  # the pool reconnects after a failed check; a failed reconnect is the pool's
    original = context.original_exception
    if not isinstance(original, Exception):
        return  # a cancellation (or an interrupt) goes on as itself: the caller stopped waiting
    if (
        context.is_disconnect
        or isinstance(original, OSError | TimeoutError)
        or isinstance(context.sqlalchemy_exception, exc.OperationalError | exc.InterfaceError)
    ):
        raise _unavailable(original)


def _unavailable(cause: BaseException) -> DatabaseUnavailable:
    # The class only: a driver's message may quote a statement's parameters.
    return DatabaseUnavailable(f"The database is unavailable ({type(cause).__name__}).")


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def ping_database(sessions: async_sessionmaker[AsyncSession]) -> None:
    """One round trip to the database; raises DatabaseUnavailable when there is none."""
    async with sessions() as session:
        await session.execute(text("SELECT 1"))
