"""Statistics as the console shows them: a time window, every period filled, chart data.

Pure functions over `StatRow`s; the routes in `console.stats` read the rows and render these.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from humangate.console._i18n import N_, Phrase
from humangate.db.stats import StatRow
from humangate.stats import METRICS, breakdown, hour_of, periods

By = Literal["hour", "day"]
RANGES: dict[str, timedelta] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
RANGE_LABELS = {"24h": N_("Last 24 hours"), "7d": N_("Last 7 days"), "30d": N_("Last 30 days")}
_DEFAULT_BY: dict[str, By] = {"24h": "hour", "7d": "day", "30d": "day"}
# What each metric means, for the table headers and the chart legend.
METRIC_LABELS = {
    "issued": N_("Issued"),
    "passed": N_("Passed"),
    "failed": N_("Failed"),
    "escalated": N_("Escalated"),
    "verified": N_("Verified"),
    "verify-failed": N_("Verify failures"),
    "refused": N_("Wrong origin"),
}


@dataclass(frozen=True, slots=True)
class Window:
    """The periods a statistics page covers: `since <= hour < until`, by hour or by day (UTC)."""

    range: str
    by: By
    since: datetime
    until: datetime

    def starts(self) -> list[datetime]:
        step = timedelta(hours=1) if self.by == "hour" else timedelta(days=1)
        moments, moment = [], self.since
        while moment < self.until:
            moments.append(moment)
            moment += step
        return moments


def read_window(range_: str | None, by: str | None, *, now: datetime) -> Window:
    """The window for a `range` (24h, 7d, 30d) and `by` (hour, day) query; defaults if absent.

    Raises:
        ValueError: an unknown range or grouping.
    """
    name = range_ or "24h"
    if name not in RANGES:
        raise ValueError(Phrase("The range must be one of %(ranges)s.", ranges=", ".join(RANGES)))
    grouping = by or _DEFAULT_BY[name]
    if grouping not in ("hour", "day"):
        raise ValueError(N_("Statistics are grouped by hour or by day."))
    until = hour_of(now) + timedelta(hours=1)
    if grouping == "hour":
        since = until - RANGES[name]
    else:
        until = until.replace(hour=0) + timedelta(days=1) if until.hour else until
        since = until - RANGES[name]
    return Window(name, "hour" if grouping == "hour" else "day", since, until)


def fill(rows: Iterable[StatRow], window: Window) -> list[dict[str, object]]:
    """One row per period of the window, oldest first, with zeros where nothing happened."""
    found = {row["period"]: row for row in periods(rows, by=window.by)}
    table = []
    for start in window.starts():
        key = start.isoformat(timespec="minutes")
        table.append(found.get(key) or {"period": key, **dict.fromkeys(METRICS, 0)})
    return table


def totals(table: Iterable[dict[str, object]]) -> dict[str, int]:
    result = dict.fromkeys(METRICS, 0)
    for row in table:
        for metric in METRICS:
            value = row[metric]
            result[metric] += value if isinstance(value, int) else 0
    return result


def chart_data(table: list[dict[str, object]], window: Window) -> dict[str, object]:
    """What static/console/charts.js draws: x as Unix seconds and one list per metric."""
    return {
        "by": window.by,
        "x": [int(datetime.fromisoformat(str(row["period"])).timestamp()) for row in table],
        "series": [
            {"metric": metric, "label": METRIC_LABELS[metric], "values": [r[metric] for r in table]}
            for metric in METRICS
        ],
    }


@dataclass(frozen=True, slots=True)
class StatsPage:
    """Everything a statistics page shows, computed once."""

    window: Window
    table: list[dict[str, object]]
    totals: dict[str, int]
    breakdown: dict[str, dict[str, int]]
    chart: dict[str, object]


def build_page(rows: list[StatRow], window: Window) -> StatsPage:
    table = fill(rows, window)
    return StatsPage(window, table, totals(table), breakdown(rows), chart_data(table, window))
