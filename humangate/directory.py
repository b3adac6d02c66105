"""Unit look-ups for the hot path, cached in-process for a few seconds.

A change (rotation, disabling) reaches every node within `ttl` seconds; the secret grace period
covers rotation, and the short ttl bounds how long a disabled unit keeps answering.

A request waits at most `wait` seconds for a load (HUMANGATE_DATABASE_LOOKUP_TIMEOUT), then
gets DatabaseUnavailable while the load goes on; an entry whose refresh fails keeps
answering until one succeeds, so a unit seen before a database outage keeps working through it.

An expired entry is refreshed by one load at a time, and answered from the old entry while that
load runs: without this, every request in flight when an entry expires ran its own query, and
the event loop stalled for some 150 ms at 64 connections.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from humangate.db import units as unit_db
from humangate.db.units import digest_secret
from humangate.errors import DatabaseUnavailable
from humangate.testkeys import TEST_UNITS
from humangate.text import is_clean_text
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
        wait: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._ttl = ttl
        self._wait = wait
        self._test_keys = test_keys
        self._clock = clock
        self._cache: dict[tuple[str, str], tuple[float, UnitView | None]] = {}
        self._loading: dict[tuple[str, str], asyncio.Task[UnitView | None]] = {}

    async def by_sitekey(self, sitekey: str) -> UnitView | None:
        if self._test_keys and sitekey in TEST_UNITS:
            return TEST_UNITS[sitekey]
        if not is_clean_text(sitekey):
            return None  # no key holds one, and PostgreSQL refuses a NUL in a query
        return await self._cached(
            ("sitekey", sitekey), lambda s: unit_db.get_unit_by_sitekey(s, sitekey)
        )

    async def by_secret(self, secret: str) -> UnitView | None:
        if not is_clean_text(secret):
            return None  # no secret holds one, and a lone surrogate cannot even be hashed
        digest = digest_secret(secret)
        return await self._cached(
            ("secret", digest), lambda s: unit_db.find_unit_by_secret(s, secret)
        )

    def forget(self) -> None:
        self._cache.clear()

    async def _cached(
        self, key: tuple[str, str], load: Callable[[AsyncSession], Awaitable[UnitView | None]]
    ) -> UnitView | None:
        hit = self._cache.get(key)
        if hit is not None and hit[0] > self._clock():
            return hit[1]
        task = self._loading.get(key)
        if task is None:
            task = asyncio.ensure_future(self._load(key, load))
            task.add_done_callback(_retrieve)
            self._loading[key] = task
        if hit is not None and self._ttl > 0:
            return hit[1]  # stale by at most the one load now running
        # Shielded: a request that gives up (cancelled, or past its wait) must not cancel the
        # load the others wait for; that load ends by the database's own timeouts and fills
        # the cache for the next request.
        try:
            return await asyncio.wait_for(asyncio.shield(task), self._wait or None)
        except TimeoutError as exc:
            raise DatabaseUnavailable(f"A unit lookup took over {self._wait} s.") from exc

    async def _load(
        self, key: tuple[str, str], load: Callable[[AsyncSession], Awaitable[UnitView | None]]
    ) -> UnitView | None:
        try:
            async with self._sessions() as session:
                unit = await load(session)
            if len(self._cache) >= _MAX_ENTRIES:
                self._cache.clear()
            self._cache[key] = (self._clock() + self._ttl, unit)
            return unit
        finally:
            del self._loading[key]


def _retrieve(task: asyncio.Task[UnitView | None]) -> None:
    """A refresh nobody waited for may fail quietly: the next request loads again."""
    if not task.cancelled():
        task.exception()
