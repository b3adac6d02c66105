"""Conversion per country as the console shows it: codes sent, codes approved and their ratio.

Pure functions over `UsageRow`s (see `humangate.db.verify_reports`); the route in `console.apps`
reads the rows and renders these. A chart's data has the shape static/console/charts.js draws.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from humangate.console._i18n import N_
from humangate.db.verify_reports import UsageRow

SERIES_LABELS = {"sent": N_("Sent"), "approved": N_("Approved")}


@dataclass(frozen=True, slots=True)
class Line:
    """Sent and approved for one country, one day, or one country on one day."""

    day: str
    country: str
    sent: int
    approved: int

    @property
    def rate(self) -> float | None:
        """Approved per hundred sent, to one decimal; None when nothing was sent."""
        return round(100 * self.approved / self.sent, 1) if self.sent else None


@dataclass(frozen=True, slots=True)
class Conversion:
    """Everything the conversion page shows, computed once."""

    country: str | None
    countries: list[Line]
    days: list[Line]
    cells: list[Line]
    total: Line
    chart: dict[str, object]


def _sum(lines: Iterable[UsageRow], *, day: str = "", country: str = "") -> Line:
    sent = approved = 0
    for line in lines:
        sent += line.sent
        approved += line.approved
    return Line(day, country, sent, approved)


def build_conversion(
    rows: list[UsageRow], *, since: date, days: int, country: str | None
) -> Conversion:
    """Totals per country (most sent first), and per day for `country` (every country when
    None), every day of the window filled with zeros, oldest first."""
    names = sorted({row.country for row in rows})
    countries = sorted(
        (_sum([r for r in rows if r.country == name], country=name) for name in names),
        key=lambda line: (-line.sent, line.country),
    )
    chosen = [row for row in rows if country is None or row.country == country]
    moments = [since + timedelta(days=n) for n in range(days)]
    by_day = [_sum([r for r in chosen if r.day == day], day=day.isoformat()) for day in moments]
    cells = [
        Line(row.day.isoformat(), row.country, row.sent, row.approved)
        for row in sorted(rows, key=lambda r: (r.day, r.country), reverse=True)
        if row.sent or row.approved
    ]
    chart: dict[str, object] = {
        "by": "day",
        "x": [int(datetime.combine(day, time(), UTC).timestamp()) for day in moments],
        "series": [
            {"metric": name, "label": label, "values": [getattr(d, name) for d in by_day]}
            for name, label in SERIES_LABELS.items()
        ],
    }
    return Conversion(country, countries, by_day, cells, _sum(chosen), chart)
