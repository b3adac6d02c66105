"""Risk events leave the hot path through a buffer written in batches (see jobs/batching.py)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from humangate.db.events import EventRecord, add_events
from humangate.jobs.batching import BatchWriter

MAX_BUFFER = 50_000  # beyond this, new events are dropped (and counted) rather than piling up


class EventLog(BatchWriter):
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], *, interval: float = 1.0
    ) -> None:
        super().__init__(interval=interval)
        self._sessions = sessions
        self._buffer: list[EventRecord] = []
        self.dropped = 0

    def record(self, event: EventRecord) -> None:
        if len(self._buffer) >= MAX_BUFFER:
            self.dropped += 1
            return
        self._buffer.append(event)

    async def _write(self) -> int:
        if not self._buffer:
            return 0
        batch, self._buffer = self._buffer, []
        try:
            async with self._sessions() as session:
                return await add_events(session, batch)
        except Exception:
            self._buffer[:0] = batch
            raise
