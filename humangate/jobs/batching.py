"""Writers that keep hot-path records in memory and hand them to the database in batches.

An answer must not wait for the database, and thousands of answers a second must not become
thousands of single-row transactions: records accumulate in memory and one task per node
writes them every `interval` seconds and at shutdown. A node that dies loses at most one
interval; tokens and verdicts never depend on these records.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod

log = logging.getLogger(__name__)


class BatchWriter(ABC):
    def __init__(self, *, interval: float) -> None:
        self._interval = interval
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    @abstractmethod
    async def _write(self) -> int:
        """Write what has accumulated (and keep it on failure); return how much was written."""

    async def flush(self) -> int:
        async with self._lock:
            return await self._write()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.flush()
            except Exception:  # noqa: BLE001 - a database hiccup must not end the writer
                log.exception("%s: writing a batch failed; it stays buffered", type(self).__name__)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            await self.flush()
