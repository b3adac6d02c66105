"""What the query modules share: UTC moments back from SQLite, bulk writes, and inserts that
take an ON CONFLICT clause."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Executable
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes; every moment stored here is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


async def run_bulk(session: AsyncSession, statement: Executable) -> int:
    """Run an UPDATE or DELETE; return the rows it touched.

    Objects already loaded are not updated in Python (SQLite hands back naive datetimes, which
    that evaluation cannot compare with aware ones); callers refresh what they reuse.
    """
    result = await session.execute(statement, execution_options={"synchronize_session": False})
    return int(result.rowcount)  # type: ignore[attr-defined]


def conflict_insert(session: AsyncSession, table: type[Any]) -> Any:
    """An INSERT into `table` in the session's dialect (PostgreSQL or SQLite), which takes
    `on_conflict_do_nothing` and `on_conflict_do_update`."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
