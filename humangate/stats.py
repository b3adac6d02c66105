"""Per-unit statistics: counted in memory on the hot path, added to the database in batches.

Counting is a dict increment (no I/O, no lock held across an await), so statistics never
become a write hot spot; every few seconds the node adds its counts to the hourly rows with
one upsert, which merges with other nodes' batches. Shutdown flushes, so counts survive a
restart; a crash loses at most one interval.

Metrics (key in brackets): issued [kind], passed [kind], failed [error code], escalated [kind],
verified [""], verify-failed [error code], refused [the host of a page whose origin is not one of
the unit's domains, so that an owner can see why an embed does not work].
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from humangate.db.stats import CounterKey, StatRow, add_counts
from humangate.jobs.batching import BatchWriter

METRICS = ("issued", "passed", "failed", "escalated", "verified", "verify-failed", "refused")
# Refused origins are whatever a request's Origin header says: a node keeps at most this many
# distinct ones per unit and hour, and counts the rest under OTHER_ORIGINS.
MAX_REFUSED_ORIGINS = 20
OTHER_ORIGINS = "(other)"
NO_ORIGIN = "(none)"
StatSink = Callable[[int, str, str], None]


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


class UnitCounters(BatchWriter):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        interval: float = 5.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(interval=interval)
        self._sessions = sessions
        self._clock = clock
        self._counts: Counter[CounterKey] = Counter()
        self._refused_seen: dict[tuple[int, datetime], set[str]] = {}

    @property
    def pending(self) -> int:
        """Counts not yet written."""
        return sum(self._counts.values())

    def count(self, unit_id: int, metric: str, key: str = "") -> None:
        self._counts[(unit_id, hour_of(self._clock()), metric, key[:48])] += 1

    def count_refused_origin(self, unit_id: int, hostname: str | None) -> None:
        """A challenge refused because the page's host is not one of the unit's domains."""
        hour = hour_of(self._clock())
        key = (hostname or NO_ORIGIN)[:48]
        seen = self._refused_seen.setdefault((unit_id, hour), set())
        if key not in seen:
            if len(seen) < MAX_REFUSED_ORIGINS:
                seen.add(key)
            else:
                key = OTHER_ORIGINS
        self._counts[(unit_id, hour, "refused", key)] += 1

    async def _write(self) -> int:
        if not self._counts:
            return 0
        batch, self._counts = self._counts, Counter()
        current = hour_of(self._clock())
        self._refused_seen = {k: v for k, v in self._refused_seen.items() if k[1] >= current}
        try:
            async with self._sessions() as session:
                await add_counts(session, batch)
        except Exception:
            self._counts.update(batch)
            raise
        return sum(batch.values())


def periods(rows: Iterable[StatRow], *, by: str) -> list[dict[str, object]]:
    """Totals per hour or per day (UTC), one dict per period with every metric, oldest first."""
    table: dict[datetime, dict[str, int]] = {}
    for row in rows:
        start = row.hour if by == "hour" else row.hour.replace(hour=0)
        totals = table.setdefault(start, dict.fromkeys(METRICS, 0))
        totals[row.metric] = totals.get(row.metric, 0) + row.count
    return [
        {"period": start.isoformat(timespec="minutes"), **totals}
        for start, totals in sorted(table.items())
    ]


def breakdown(rows: Iterable[StatRow]) -> dict[str, dict[str, int]]:
    """Totals per key for each metric: passes by kind, failures by error code, and so on."""
    result: dict[str, dict[str, int]] = {metric: {} for metric in METRICS}
    for row in rows:
        keys = result.setdefault(row.metric, {})
        keys[row.key] = keys.get(row.key, 0) + row.count
    return {metric: dict(sorted(keys.items())) for metric, keys in result.items()}


def to_csv(rows: Iterable[StatRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["hour_utc", "metric", "key", "count"])
    for row in rows:
        writer.writerow([row.hour.isoformat(timespec="minutes"), row.metric, row.key, row.count])
    return out.getvalue()
