"""The unit directory: cached look-ups, one load per key at a time, stale-while-refreshing."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import Any

from humangate.directory import UnitDirectory
from humangate.testkeys import PASS_SITEKEY, TEST_UNITS
from humangate.units import UnitView

UNIT = UnitView(7, "hgkey", "n", ("a.org",), "managed", 100)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def directory(clock: Clock, ttl: float = 5.0) -> tuple[UnitDirectory, list[int]]:
    @asynccontextmanager
    async def sessions() -> Any:
        yield None

    return UnitDirectory(sessions, ttl=ttl, clock=clock), []  # type: ignore[arg-type]


async def test_concurrent_misses_share_one_load() -> None:
    clock = Clock()
    units, loads = directory(clock)

    async def load(_: Any) -> UnitView:
        loads.append(1)
        await asyncio.sleep(0.01)
        return UNIT

    results = await asyncio.gather(*(units._cached(("k", "x"), load) for _ in range(64)))
    assert results == [UNIT] * 64 and len(loads) == 1
    assert await units._cached(("k", "x"), load) == UNIT and len(loads) == 1  # cached


async def test_expired_entry_is_served_while_one_refresh_runs() -> None:
    clock = Clock()
    units, loads = directory(clock)
    fresh = UnitView(7, "hgkey", "renamed", ("a.org",), "managed", 100)

    async def load(_: Any) -> UnitView:
        loads.append(1)
        await asyncio.sleep(0.01)
        return UNIT if len(loads) == 1 else fresh

    await units._cached(("k", "x"), load)
    clock.now = 6.0
    stale = await asyncio.gather(*(units._cached(("k", "x"), load) for _ in range(10)))
    assert stale == [UNIT] * 10
    await asyncio.sleep(0.05)
    assert await units._cached(("k", "x"), load) == fresh and len(loads) == 2


async def test_zero_ttl_never_serves_stale() -> None:
    clock = Clock()
    units, loads = directory(clock, ttl=0)

    async def load(_: Any) -> UnitView:
        loads.append(1)
        return UNIT

    await units._cached(("k", "x"), load)
    await units._cached(("k", "x"), load)
    assert len(loads) == 2


async def test_test_keys_need_no_database() -> None:
    units, _ = directory(Clock())
    assert await units.by_sitekey(PASS_SITEKEY) == TEST_UNITS[PASS_SITEKEY]
