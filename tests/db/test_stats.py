"""Per-unit counters: batches from several writers add up, by hour, on both databases."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from humangate.db import units as unit_db
from humangate.db.stats import unit_stats
from humangate.stats import UnitCounters, breakdown, periods, to_csv

T0 = datetime(2026, 11, 24, 9, 15, tzinfo=UTC)


async def _unit(sessions: async_sessionmaker[AsyncSession], name: str) -> int:
    async with sessions() as session:
        created = await unit_db.create_unit(
            session, name=name, domains=["a.org"], mode="managed", pow_difficulty=1000
        )
    return created.unit.id


async def test_counts_from_two_nodes_merge_by_hour(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    shop, blog = await _unit(sessions, "shop"), await _unit(sessions, "blog")
    now = [T0]
    node_a = UnitCounters(sessions, clock=lambda: now[0])
    node_b = UnitCounters(sessions, clock=lambda: now[0])
    for _ in range(3):
        node_a.count(shop, "issued", "pow")
    node_b.count(shop, "issued", "pow")
    node_b.count(shop, "failed", "wrong-answer")
    node_a.count(blog, "issued", "slide")
    assert await node_a.flush() == 4 and await node_b.flush() == 2
    node_a.count(shop, "issued", "pow")  # the same hour again: added, not replaced
    now[0] = T0 + timedelta(hours=1)
    node_a.count(shop, "verified")
    await node_a.flush()
    assert await node_a.flush() == 0, "nothing left to write"

    async with sessions() as session:
        rows = await unit_stats(
            session, [shop], since=T0 - timedelta(days=1), until=now[0] + timedelta(hours=1)
        )
    hour = T0.replace(minute=0)
    assert [(r.hour, r.metric, r.key, r.count) for r in rows] == [
        (hour, "failed", "wrong-answer", 1),
        (hour, "issued", "pow", 5),
        (hour + timedelta(hours=1), "verified", "", 1),
    ]
    by_day = periods(rows, by="day")
    assert len(by_day) == 1 and by_day[0]["issued"] == 5 and by_day[0]["verified"] == 1
    assert [p["issued"] for p in periods(rows, by="hour")] == [5, 0]
    assert breakdown(rows)["failed"] == {"wrong-answer": 1}
    assert to_csv(rows).splitlines()[0] == "hour_utc,metric,key,count"
    async with sessions() as session:
        both = await unit_stats(session, [shop, blog], since=hour, until=hour + timedelta(hours=1))
    assert {(r.metric, r.key): r.count for r in both}[("issued", "slide")] == 1


async def test_a_failed_write_keeps_the_counts(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    shop = await _unit(sessions, "shop")
    counters = UnitCounters(sessions, clock=lambda: T0)
    counters.count(shop, "issued", "pow")
    counters.count(999_999, "issued", "pow")  # no such unit: the batch violates a foreign key
    try:
        await counters.flush()
    except Exception:  # noqa: BLE001 - the database refuses the whole batch
        pass
    else:
        raise AssertionError("a batch naming a missing unit must be refused")
    async with sessions() as session:
        assert (
            await unit_stats(
                session, [shop], since=T0 - timedelta(hours=1), until=T0 + timedelta(hours=1)
            )
            == []
        )
    assert counters.pending == 2, "kept for the next try"


async def _issued(sessions: async_sessionmaker[AsyncSession], unit_id: int) -> int:
    async with sessions() as session:
        rows = await unit_stats(
            session, [unit_id], since=T0 - timedelta(hours=1), until=T0 + timedelta(hours=1)
        )
    return sum(r.count for r in rows if r.metric == "issued")


async def test_the_loop_writes_every_interval_and_close_writes_the_rest(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    shop = await _unit(sessions, "shop")
    counters = UnitCounters(sessions, interval=0.01, clock=lambda: T0)
    counters.start()
    counters.count(shop, "issued", "pow")

    async def until_written() -> None:
        while await _issued(sessions, shop) != 1:
            await asyncio.sleep(0.01)

    try:
        await asyncio.wait_for(until_written(), 30)
    finally:
        await counters.close()
    idle = UnitCounters(sessions, interval=3600.0, clock=lambda: T0)
    idle.start()
    idle.count(shop, "issued", "pow")
    await idle.close()  # long before its first round
    assert idle.pending == 0 and await _issued(sessions, shop) == 2


async def test_a_failed_last_write_is_logged_and_kept(
    sessions: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    counters = UnitCounters(sessions, clock=lambda: T0)
    counters.count(999_999, "issued", "pow")  # no such unit: the database refuses the batch
    with caplog.at_level(logging.ERROR, logger="humangate.stats"):
        await counters.close()
    (record,) = [r for r in caplog.records if r.name == "humangate.stats"]
    assert record.getMessage() == "UnitCounters: writing a batch failed; it stays buffered"
    assert record.levelno == logging.ERROR and record.exc_info is not None
    assert counters.pending == 1
