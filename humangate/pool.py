"""Pre-generated visual challenges, so that slow kinds never make the challenge endpoint wait.

Each (kind, level, language) has its own small queue, filled in a worker thread once it has been
asked for. A pooled challenge is handed out once and then forgotten; each was drawn from its own
`secrets`-seeded generator.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
from collections import deque
from collections.abc import Callable

from humangate.challenges.base import Challenge

logger = logging.getLogger("humangate")

Key = tuple[str, int, str]
Generator = Callable[[str, random.Random, int, str], Challenge]


class ChallengePool:
    """Queues of ready challenges, refilled in the background up to `size` each."""

    def __init__(self, generate: Generator, *, size: int = 8) -> None:
        self._generate = generate
        self._size = size
        self._ready: dict[Key, deque[Challenge]] = {}
        self._filling: dict[Key, asyncio.Task[None]] = {}

    async def take(self, kind: str, level: int, lang: str) -> Challenge:
        """A fresh challenge, from the queue when one is ready, else generated now."""
        key = (kind, level, lang)
        queue = self._ready.setdefault(key, deque())
        if self._size > 0 and key not in self._filling:
            self._filling[key] = asyncio.create_task(self._fill(key, queue))
        if queue:
            return queue.popleft()
        return await asyncio.to_thread(self._make, key)

    def _make(self, key: Key) -> Challenge:
        kind, level, lang = key
        return self._generate(kind, random.Random(secrets.randbits(128)), level, lang)

    async def _fill(self, key: Key, queue: deque[Challenge]) -> None:
        try:
            while len(queue) < self._size:
                queue.append(await asyncio.to_thread(self._make, key))
        except Exception:
            # A request that finds the queue empty generates its own and reports the fault.
            logger.exception("refilling the %s challenge pool failed", key[0])
        finally:
            del self._filling[key]

    async def close(self) -> None:
        tasks = list(self._filling.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
