"""Per-unit counters by hour: the table and verb-first functions over it.

One row per (unit, hour, metric, key) holds a count; writers add to it with an upsert, so
batches from any number of nodes merge without reading first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from humangate.db.models import Base

CounterKey = tuple[int, datetime, str, str]  # unit id, hour (UTC), metric, key


class UnitStat(Base):
    __tablename__ = "unit_stats"
    __table_args__ = (UniqueConstraint("unit_id", "hour", "metric", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    hour: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    metric: Mapped[str] = mapped_column(String(24))
    key: Mapped[str] = mapped_column(String(48))
    count: Mapped[int] = mapped_column(BigInteger)


@dataclass(frozen=True, slots=True)
class StatRow:
    hour: datetime
    metric: str
    key: str
    count: int


async def add_counts(session: AsyncSession, counts: Mapping[CounterKey, int]) -> None:
    """Add `counts` to the stored ones (insert or increment), the rows as one executemany.

    The statement is the same for every batch, so it is compiled once per process: a statement
    with the rows in its VALUES would be compiled anew each flush, on the event loop, which took
    tens of milliseconds for a busy node's batch."""
    if not counts:
        return
    rows = [
        {"unit_id": unit_id, "hour": hour, "metric": metric, "key": key, "count": n}
        for (unit_id, hour, metric, key), n in counts.items()
    ]
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    await session.execute(_ADD_COUNTS[dialect == "postgresql"], rows)
    await session.commit()


def _add_counts_statement(insert: Any) -> Any:
    statement = insert(UnitStat)
    return statement.on_conflict_do_update(
        index_elements=["unit_id", "hour", "metric", "key"],
        set_={"count": UnitStat.count + statement.excluded.count},
    )


_ADD_COUNTS = {True: _add_counts_statement(pg_insert), False: _add_counts_statement(sqlite_insert)}


async def unit_stats(
    session: AsyncSession, unit_ids: Iterable[int], *, since: datetime, until: datetime
) -> list[StatRow]:
    """Counts of the given units in [since, until), summed over the units, hour by hour."""
    ids = list(unit_ids)
    if not ids:
        return []
    result = await session.execute(
        select(UnitStat.hour, UnitStat.metric, UnitStat.key, UnitStat.count).where(
            UnitStat.unit_id.in_(ids), UnitStat.hour >= since, UnitStat.hour < until
        )
    )
    merged: dict[tuple[datetime, str, str], int] = {}
    for hour, metric, key, count in result:
        stamp = hour if hour.tzinfo else hour.replace(tzinfo=since.tzinfo)
        merged[(stamp, metric, key)] = merged.get((stamp, metric, key), 0) + int(count)
    return [StatRow(h, m, k, c) for (h, m, k), c in sorted(merged.items())]
