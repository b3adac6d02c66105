"""The statistics windows and series the console draws, with a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from humangate.console._series import build_page, read_window
from humangate.db.stats import StatRow
from humangate.stats import MAX_REFUSED_ORIGINS, OTHER_ORIGINS, UnitCounters

NOW = datetime(2026, 3, 2, 9, 41, tzinfo=UTC)


def test_windows_cover_whole_periods_up_to_now() -> None:
    hours = read_window(None, None, now=NOW)
    assert (hours.range, hours.by) == ("24h", "hour")
    assert hours.until == datetime(2026, 3, 2, 10, tzinfo=UTC)
    assert len(hours.starts()) == 24 and hours.starts()[-1] == datetime(2026, 3, 2, 9, tzinfo=UTC)
    days = read_window("7d", None, now=NOW)
    assert days.by == "day" and days.until == datetime(2026, 3, 3, tzinfo=UTC)
    assert [d.day for d in days.starts()] == [24, 25, 26, 27, 28, 1, 2]
    assert len(read_window("30d", "hour", now=NOW).starts()) == 720
    for range_, by in (("1y", None), ("24h", "week")):
        with pytest.raises(ValueError):
            read_window(range_, by, now=NOW)


def test_page_fills_gaps_and_keeps_totals() -> None:
    hour = datetime(2026, 3, 2, 7, tzinfo=UTC)
    rows = [
        StatRow(hour, "issued", "slide", 4),
        StatRow(hour, "passed", "slide", 3),
        StatRow(hour - timedelta(days=2), "verify-failed", "invalid-input-secret", 2),
    ]
    page = build_page(rows, read_window("7d", "day", now=NOW))
    assert len(page.table) == 7
    assert page.table[-1]["issued"] == 4 and page.table[-3]["verify-failed"] == 2
    assert page.totals == {
        "issued": 4,
        "passed": 3,
        "failed": 0,
        "escalated": 0,
        "verified": 0,
        "verify-failed": 2,
        "refused": 0,
    }
    assert page.breakdown["verify-failed"] == {"invalid-input-secret": 2}
    series = {s["metric"]: s["values"] for s in page.chart["series"]}  # type: ignore[attr-defined]
    assert series["issued"] == [0, 0, 0, 0, 0, 0, 4]
    assert len(page.chart["x"]) == 7  # type: ignore[arg-type]


def test_refused_origins_are_bounded_per_unit_and_hour() -> None:
    hour = datetime(2026, 1, 1, 10, tzinfo=UTC)
    counters = UnitCounters(sessions=None, clock=lambda: hour)  # type: ignore[arg-type]
    for n in range(MAX_REFUSED_ORIGINS + 5):
        counters.count_refused_origin(1, f"site{n}.example")
    counters.count_refused_origin(1, "site0.example")  # already among those kept
    counters.count_refused_origin(2, "other-unit.example")  # another unit has its own budget
    refused = {key: n for (unit, _, metric, key), n in counters._counts.items() if unit == 1}
    assert len(refused) == MAX_REFUSED_ORIGINS + 1
    assert refused[OTHER_ORIGINS] == 5 and refused["site0.example"] == 2
    assert (2, hour, "refused", "other-unit.example") in counters._counts
