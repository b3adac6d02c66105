"""Unit look-ups for the hot path, cached in-process for a few seconds.

A change (rotation, disabling) reaches every node within `ttl` seconds; the secret grace period
covers rotation, and the short ttl bounds how long a disabled unit keeps answering.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from humangate.db import units as unit_db
from humangate.db.units import digest_secret
from humangate.testkeys import TEST_UNITS
from humangate.units import UnitView

_MAX_ENTRIES = 10_000


class UnitDirectory:
    """Finds units by site key or by secret; test keys are answered without the database."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        ttl: float = 5.0,
        test_keys: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._ttl = ttl
        self._test_keys = test_keys
        self._clock = clock
        self._cache: dict[tuple[str, str], tuple[float, UnitView | None]] = {}

    async def by_sitekey(self, sitekey: str) -> UnitView | None:
        if self._test_keys and sitekey in TEST_UNITS:
            return TEST_UNITS[sitekey]
        return await self._cached(
            ("sitekey", sitekey), lambda s: unit_db.get_unit_by_sitekey(s, sitekey)
        )

    async def by_secret(self, secret: str) -> UnitView | None:
        digest = digest_secret(secret)
        return await self._cached(
            ("secret", digest), lambda s: unit_db.find_unit_by_secret(s, secret)
        )

    def forget(self) -> None:
        self._cache.clear()

    async def _cached(
        self, key: tuple[str, str], load: Callable[[AsyncSession], Awaitable[UnitView | None]]
    ) -> UnitView | None:
        now = self._clock()
        hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        async with self._sessions() as session:
            unit = await load(session)
        if len(self._cache) >= _MAX_ENTRIES:
            self._cache.clear()
        self._cache[key] = (now + self._ttl, unit)
        return unit
