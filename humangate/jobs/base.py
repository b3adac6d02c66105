"""The one shape of a background loop: a round every `interval` seconds from `start` to `close`.

Every node runs its own loops; a job that must run on one node per round takes a lease in the
shared store inside its round (see housekeeping.py). A failed round is logged at ERROR with its
traceback and the loop goes on: the next round retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from typing import ClassVar


class PeriodicJob(ABC):
    """Calls `run_round` every `interval` seconds between `start` and `close`.

    Subclasses set:
        failure: the line a failed round logs to the logger of the subclass's module; `{job}`
            stands for the class name.
        round_at_start: whether the first round runs at `start` (else one interval later).
        round_at_close: whether `close` runs one last round (a buffer's final write).
    """

    failure: ClassVar[str] = "{job}: a round failed"
    round_at_start: ClassVar[bool] = True
    round_at_close: ClassVar[bool] = False

    def __init__(self, *, interval: float) -> None:
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    @abstractmethod
    async def run_round(self) -> object:
        """One round of the job's work; whatever it returns is for callers who run it by hand."""

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=type(self).__name__)

    async def close(self) -> None:
        """Stop the loop (an unfinished round is cancelled), then run the last round if any."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.round_at_close:
            await self._guarded_round()

    async def _loop(self) -> None:
        if not self.round_at_start:
            await asyncio.sleep(self.interval)
        while True:
            await self._guarded_round()
            await asyncio.sleep(self.interval)

    async def _guarded_round(self) -> None:
        try:
            await self.run_round()
        except Exception:  # noqa: BLE001 - one failed round must not end the loop
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                # `close` cancelled the round and a driver turned that into its own error:
                # end the loop all the same, or `close` would wait a whole interval.
                raise asyncio.CancelledError from None
            log = logging.getLogger(type(self).__module__)
            log.exception(self.failure.format(job=type(self).__name__))
