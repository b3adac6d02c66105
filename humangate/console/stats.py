"""Statistics pages: one unit's or all of the account's units, as a chart, tables and CSV.

The counters are hourly rows (see `humangate.stats`); a page reads the window asked for, fills
the empty periods with zeros, and hands the same numbers to the chart (as JSON, drawn by
static/console/charts.js) and to the HTML tables, which work without JavaScript.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import Request
from fastapi.responses import Response

from humangate.console._i18n import N_, message_of
from humangate.console._series import (
    METRIC_LABELS,
    RANGE_LABELS,
    RANGES,
    Window,
    build_page,
    read_window,
)
from humangate.console.units import KIND_LABELS
from humangate.console.web import (
    DbDep,
    Viewer,
    ViewerDep,
    add_nav,
    download,
    render,
    router,
    utcnow,
)
from humangate.db import stats as stats_db
from humangate.db import units as unit_db
from humangate.db.stats import StatRow
from humangate.errors import InvalidInput, NotFound
from humangate.stats import METRICS, to_csv
from humangate.units import UnitView

add_nav(N_("Statistics"), "/console/stats", order=20)


def _window(request: Request) -> Window:
    try:
        return read_window(
            request.query_params.get("range"), request.query_params.get("by"), now=utcnow()
        )
    except ValueError as exc:
        raise InvalidInput(message_of(exc)) from exc


async def _units(db: DbDep, viewer: Viewer, sitekey: str | None) -> Sequence[UnitView]:
    """The account's units, or only the one with `sitekey` (404 unless the viewer owns it)."""
    if sitekey is None:
        return await unit_db.list_units(db, owner=viewer.account.id)
    unit = await unit_db.get_unit_by_sitekey(db, sitekey, owner=viewer.account.id)
    if unit is None:
        raise NotFound(N_("There is no such verification unit in your account."))
    return [unit]


async def _read(
    request: Request, viewer: Viewer, db: DbDep, sitekey: str | None
) -> tuple[Window, Sequence[UnitView], list[StatRow]]:
    """The window the query asks for, the units it covers and their counter rows in it."""
    window = _window(request)
    units = await _units(db, viewer, sitekey)
    rows = await stats_db.unit_stats(
        db, [u.id for u in units], since=window.since, until=window.until
    )
    return window, units, rows


async def _page(request: Request, viewer: Viewer, db: DbDep, sitekey: str | None) -> Response:
    window, units, rows = await _read(request, viewer, db, sitekey)
    base = f"/console/units/{sitekey}/stats" if sitekey else "/console/stats"
    context = {
        "unit": units[0] if sitekey else None,
        "units": units,
        "page": build_page(rows, window),
        "base": base,
        "ranges": [(name, RANGE_LABELS[name]) for name in RANGES],
        "metrics": METRICS,
        "metric_labels": METRIC_LABELS,
        "kind_labels": KIND_LABELS,
    }
    return render(request, "stats.html", context, viewer=viewer)


@router.get("/stats")
async def account_stats(request: Request, viewer: ViewerDep, db: DbDep) -> Response:
    return await _page(request, viewer, db, None)


@router.get("/units/{sitekey}/stats")
async def unit_stats(request: Request, sitekey: str, viewer: ViewerDep, db: DbDep) -> Response:
    return await _page(request, viewer, db, sitekey)


async def _csv(request: Request, viewer: Viewer, db: DbDep, sitekey: str | None) -> Response:
    window, _, rows = await _read(request, viewer, db, sitekey)
    name = f"humangate-{sitekey or 'account'}-{window.range}.csv"
    return download(request, to_csv(rows), media_type="text/csv; charset=utf-8", filename=name)


@router.get("/stats.csv")
async def account_stats_csv(request: Request, viewer: ViewerDep, db: DbDep) -> Response:
    return await _csv(request, viewer, db, None)


@router.get("/units/{sitekey}/stats.csv")
async def unit_stats_csv(request: Request, sitekey: str, viewer: ViewerDep, db: DbDep) -> Response:
    return await _csv(request, viewer, db, sitekey)
