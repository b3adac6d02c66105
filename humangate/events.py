"""Risk events leave the hot path through a buffer written in batches.

An answer must not wait for the database, and thousands of answers a second must not become
thousands of single-row transactions: records queue in memory and one task writes them every
`interval` seconds (and at shutdown). A node that dies loses at most that interval's events;
tokens and verdicts never depend on them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from humangate.db.events import EventRecord, add_events

log = logging.getLogger(__name__)
MAX_BUFFER = 50_000  # beyond this, new events are dropped (and counted) rather than piling up


class EventLog:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, interval: float = 1.0
    ) -> None:
        self._sessions = sessions
        self._interval = interval
        self._buffer: list[EventRecord] = []
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0

    def record(self, event: EventRecord) -> None:
        if len(self._buffer) >= MAX_BUFFER:
            self.dropped += 1
            return
        self._buffer.append(event)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.flush()
            except Exception:  # noqa: BLE001 - a database hiccup must not end the writer
                log.exception("writing risk events failed; they stay buffered")

    async def flush(self) -> int:
        async with self._lock:
            if not self._buffer:
                return 0
            batch, self._buffer = self._buffer, []
            try:
                async with self._sessions() as session:
                    return await add_events(session, batch)
            except Exception:
                self._buffer[:0] = batch
                raise

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            await self.flush()
