"""Writers that keep hot-path records in memory and hand them to the database in batches.

An answer must not wait for the database, and thousands of answers a second must not become
thousands of single-row transactions: records accumulate in memory and one task per node
writes them every `interval` seconds and at shutdown. A node that dies loses at most one
interval; tokens and verdicts never depend on these records.
"""

from __future__ import annotations

import asyncio
from abc import abstractmethod

from humangate.jobs.base import PeriodicJob


class BatchWriter(PeriodicJob):
    """A round writes what has accumulated; the first comes one interval after `start`, the
    last at `close`. A failed write keeps its records for the next round."""

    failure = "{job}: writing a batch failed; it stays buffered"
    round_at_start = False
    round_at_close = True

    def __init__(self, *, interval: float) -> None:
        super().__init__(interval=interval)
        self._lock = asyncio.Lock()

    @abstractmethod
    async def _write(self) -> int:
        """Write what has accumulated (and keep it on failure); return how much was written."""

    async def flush(self) -> int:
        async with self._lock:
            return await self._write()

    async def run_round(self) -> int:
        return await self.flush()
