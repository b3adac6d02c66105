"""In-process store for the embedded default and tests: one process only."""

from __future__ import annotations

import time
from collections.abc import Callable


class MemoryStore:
    """A dict with expiry. Expired entries are dropped on access and by a periodic sweep."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, sweep_every: int = 1024):
        self._clock = clock
        self._values: dict[tuple[str, str], tuple[float, bytes]] = {}
        self._sweep_every = sweep_every
        self._writes = 0

    def _live(self, namespace: str, key: str) -> bytes | None:
        entry = self._values.get((namespace, key))
        if entry is None:
            return None
        if entry[0] <= self._clock():
            del self._values[(namespace, key)]
            return None
        return entry[1]

    def _written(self) -> None:
        self._writes += 1
        if self._writes % self._sweep_every == 0:
            now = self._clock()
            self._values = {k: v for k, v in self._values.items() if v[0] > now}

    async def put(self, namespace: str, key: str, value: bytes, ttl: float) -> None:
        self._values[(namespace, key)] = (self._clock() + ttl, value)
        self._written()

    async def put_if_absent(self, namespace: str, key: str, value: bytes, ttl: float) -> bool:
        if self._live(namespace, key) is not None:
            return False
        await self.put(namespace, key, value, ttl)
        return True

    async def get(self, namespace: str, key: str) -> bytes | None:
        return self._live(namespace, key)

    async def take(self, namespace: str, key: str) -> bytes | None:
        value = self._live(namespace, key)
        if value is not None:
            del self._values[(namespace, key)]
        return value

    async def delete(self, namespace: str, key: str) -> None:
        self._values.pop((namespace, key), None)

    async def hit(self, namespace: str, key: str, window: float) -> int:
        current = self._live(namespace, key)
        if current is None:
            expires, count = self._clock() + window, 1
        else:
            expires, count = self._values[(namespace, key)][0], int(current) + 1
        self._values[(namespace, key)] = (expires, str(count).encode())
        self._written()
        return count

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._values.clear()
