"""Risk events are kept for a configurable number of days (HUMANGATE_RISK_RETENTION_DAYS), then
purged by a job every node runs; deleting the same old rows twice is harmless. With billing on,
the same job purges owners' statistics past their edition's days (humangate/billing/statistics.py);
and, billing on or off, cancelled owners' ledgers kept past HUMANGATE_BILLING_KEEP_LEDGER_DAYS
(humangate/billing/erasure.py).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from humangate.billing.editions import EditionPolicy
from humangate.billing.erasure import purge_ledger_archive
from humangate.billing.statistics import purge_statistics
from humangate.db.events import purge_events
from humangate.jobs.base import PeriodicJob

log = logging.getLogger(__name__)


class RetentionJob(PeriodicJob):
    """Deletes risk events older than `days`, once per `every_seconds`, from `start` to `close`.

    Every node runs it: the delete is idempotent, so no lease is needed. A failed round is
    logged and retried at the next one.
    """

    failure = "purging risk events failed"

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        days: int,
        every_seconds: float = 3600.0,
        statistics: EditionPolicy | None = None,
    ) -> None:
        super().__init__(interval=every_seconds)
        self._sessions = sessions
        self._days = days
        self._statistics = statistics

    async def purge(self, now: datetime | None = None) -> int:
        """One round: delete the events created before `now - days` (last, so that a round is
        over once they are gone), kept ledgers past their days and, with billing on, statistics
        past their edition's; return how many events went."""
        now = now or datetime.now(UTC)
        async with self._sessions() as session:
            ledgers = await purge_ledger_archive(session, now=now)
            if ledgers:
                log.info("purged %d kept ledger transactions of cancelled accounts", ledgers)
            if self._statistics is not None:
                stats = await purge_statistics(session, now=now, policy=self._statistics)
                if stats:
                    log.info("purged %d statistics rows past their edition's retention", stats)
            return await purge_events(session, before=now - timedelta(days=self._days))

    async def run_round(self) -> int:
        purged = await self.purge()
        if purged:
            log.info("purged %d risk events older than %d days", purged, self._days)
        return purged
