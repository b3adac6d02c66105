"""The owner's verification API apps: list, create, settings, rotate the secret, disable,
delete, the log of verifications, conversion per country, and the pumping alerts.

Every query is scoped to the viewer's account, so another owner's app answers 404 exactly like
an app that does not exist. Secrets are shown once, after a redirect (see `_reveal`). The form
and its check are in `_app_form`; the settings' rules in `humangate.verify.apps`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import Path, Request
from fastapi.responses import HTMLResponse, Response

from humangate.accounts.audit import AuditAction
from humangate.api.deps import ServicesDep, get_services
from humangate.console import _reveal
from humangate.console._app_form import (
    CHANNEL_LABELS,
    DEFAULT_OVERLAP_HOURS,
    DELIVERY_LABELS,
    FORM_CONTEXT,
    MAX_OVERLAP_HOURS,
    NEW_APP_VALUES,
    STATUS_LABELS,
    app_values,
    form_values,
    read_app_form,
    read_overlap,
)
from humangate.console._audit import record_unit_action
from humangate.console._billing import currency_of
from humangate.console._conversion import build_conversion
from humangate.console._i18n import N_, message_of
from humangate.console.web import (
    CsrfForm,
    DbDep,
    Viewer,
    ViewerDep,
    add_nav,
    form_text,
    redirect,
    render,
    router,
    utcnow,
)
from humangate.db import verify_apps as app_db
from humangate.db import verify_reports as reports
from humangate.errors import AccessDenied, InvalidInput, NotFound
from humangate.text import is_ascii_digits
from humangate.units import service as units
from humangate.verify.apps import AppChanges, AppView

add_nav(N_("Verify apps"), "/console/apps", order=15)

NO_SUCH_APP = N_("There is no such app in your account.")
_PAGE_LIMIT = 10_000
# A block's id as the database holds it (32 bits): a larger number is a 400, not a database error.
BlockId = Annotated[int, Path(ge=1, le=2**31 - 1)]


async def _owned(db: DbDep, app_key: str, viewer: Viewer) -> AppView:
    app = await app_db.get_app(db, app_key[:64], account_id=viewer.account.id)
    if app is None:
        raise NotFound(NO_SUCH_APP)
    return app


async def _form_context(db: DbDep, viewer: Viewer, values: dict[str, Any]) -> dict[str, Any]:
    owned = await units.list_units(db, owner=viewer.account.id)
    return {"values": values, "units": owned, **FORM_CONTEXT}


async def _new_form(
    request: Request, viewer: Viewer, db: DbDep, values: dict[str, Any], *, error: str
) -> HTMLResponse:
    context = {**await _form_context(db, viewer, values), "error": error or None}
    return render(request, "app_form.html", context, viewer=viewer, status=400 if error else 200)


async def _app_page(
    request: Request,
    viewer: Viewer,
    db: DbDep,
    app: AppView,
    *,
    values: dict[str, Any] | None = None,
    error: str = "",
) -> HTMLResponse:
    context = {
        **await _form_context(db, viewer, values or app_values(app)),
        "app": app,
        "error": error or None,
        "blocks": await reports.list_prefix_blocks(db, app.id),
        "now": utcnow(),
        "default_overlap": DEFAULT_OVERLAP_HOURS,
        "max_overlap": MAX_OVERLAP_HOURS,
    }
    return render(request, "app.html", context, viewer=viewer, status=400 if error else 200)


@router.get("/apps")
async def apps_page(request: Request, viewer: ViewerDep, db: DbDep) -> Response:
    listed = await app_db.list_apps(db, account_id=viewer.account.id)
    context = {"apps": listed, "channel_labels": CHANNEL_LABELS}
    return render(request, "apps.html", context, viewer=viewer)


@router.get("/apps/new")
async def new_app_page(request: Request, viewer: ViewerDep, db: DbDep) -> Response:
    return await _new_form(request, viewer, db, dict(NEW_APP_VALUES), error="")


@router.post("/apps")
async def create_app(
    request: Request, viewer: ViewerDep, db: DbDep, form: CsrfForm, services: ServicesDep
) -> Response:
    values = form_values(form)
    try:
        owned = await units.list_units(db, owner=viewer.account.id)
        changes = read_app_form(values, owned)
        created = await app_db.create_app(
            db, changes, account_id=viewer.account.id, server_key=services.key, now=utcnow()
        )
    except InvalidInput as exc:
        return await _new_form(request, viewer, db, values, error=message_of(exc))
    app = created.app
    await record_unit_action(request, db, viewer, "app.created", app.app_key, {"name": app.name})
    revealed = _reveal.Revealed(secret=created.secret, created=True, grace_hours=0.0)
    return await _redirect_to_secret(request, viewer, app.app_key, revealed)


async def _redirect_to_secret(
    request: Request, viewer: Viewer, app_key: str, revealed: _reveal.Revealed
) -> Response:
    """Post/redirect/get: the secret is shown by the GET this redirect leads to, once."""
    reveal_id = await _reveal.stash(get_services(request).store, viewer, app_key, revealed)
    return redirect(request, f"/console/apps/{app_key}/secret?reveal={reveal_id}")


@router.get("/apps/{app_key}/secret")
async def secret_page(
    request: Request, app_key: str, viewer: ViewerDep, db: DbDep, reveal: str = ""
) -> Response:
    """The new secret, once; a reload shows how to get another instead."""
    app = await _owned(db, app_key, viewer)
    revealed = await _reveal.take(get_services(request).store, viewer, app.app_key, reveal)
    return render(request, "app_secret.html", {"app": app, "revealed": revealed}, viewer=viewer)


@router.get("/apps/{app_key}")
async def app_page(request: Request, app_key: str, viewer: ViewerDep, db: DbDep) -> Response:
    app = await _owned(db, app_key, viewer)
    return await _app_page(request, viewer, db, app)


@router.post("/apps/{app_key}")
async def update_app(
    request: Request, app_key: str, viewer: ViewerDep, db: DbDep, form: CsrfForm
) -> Response:
    app = await _owned(db, app_key, viewer)
    values = form_values(form)
    try:
        changes = read_app_form(values, await units.list_units(db, owner=viewer.account.id))
        updated = await app_db.update_app(db, app.app_key, changes, account_id=viewer.account.id)
    except InvalidInput as exc:
        await db.rollback()
        return await _app_page(request, viewer, db, app, values=values, error=message_of(exc))
    if changed := _changed(app, updated):
        details = {"name": updated.name, "changed": changed}
        await record_unit_action(request, db, viewer, "app.updated", app.app_key, details)
    return redirect(request, f"/console/apps/{app.app_key}")


def _changed(before: AppView, after: AppView) -> list[str]:
    """The names of the settings that differ (the values may hold templates: names only)."""
    names = [
        "name",
        "channels",
        "countries",
        "three_carriers_only",
        "allow_virtual",
        "code_length",
        "code_ttl",
        "templates",
        "require_token",
        "sitekey",
        "daily_cap",
        "destination_daily_cap",
        "prefix_hourly_cap",
        "network_hourly_cap",
    ]
    return [name for name in names if getattr(before, name) != getattr(after, name)]


@router.post("/apps/{app_key}/rotate")
async def rotate_secret(
    request: Request,
    app_key: str,
    viewer: ViewerDep,
    db: DbDep,
    form: CsrfForm,
    services: ServicesDep,
) -> Response:
    app = await _owned(db, app_key, viewer)
    hours = read_overlap(form)
    secret = await app_db.rotate_app_secret(
        db,
        app.app_key,
        server_key=services.key,
        now=utcnow(),
        grace_hours=float(hours),
        account_id=viewer.account.id,
    )
    details = {"name": app.name, "grace_hours": hours}
    await record_unit_action(request, db, viewer, "app.secret_rotated", app.app_key, details)
    revealed = _reveal.Revealed(secret=secret, created=False, grace_hours=float(hours))
    return await _redirect_to_secret(request, viewer, app.app_key, revealed)


@router.post("/apps/{app_key}/disable")
async def disable_app(
    request: Request, app_key: str, viewer: ViewerDep, db: DbDep, form: CsrfForm
) -> Response:
    return await _set_disabled(request, app_key, viewer, db, disabled=True)


@router.post("/apps/{app_key}/enable")
async def enable_app(
    request: Request, app_key: str, viewer: ViewerDep, db: DbDep, form: CsrfForm
) -> Response:
    if viewer.account.status != "active":
        raise AccessDenied(N_("Apps stay disabled while the account is suspended."))
    return await _set_disabled(request, app_key, viewer, db, disabled=False)


async def _set_disabled(
    request: Request, app_key: str, viewer: Viewer, db: DbDep, *, disabled: bool
) -> Response:
    app = await _owned(db, app_key, viewer)
    changes = AppChanges(disabled=disabled)
    await app_db.update_app(db, app.app_key, changes, account_id=viewer.account.id)
    if app.disabled != disabled:
        action: AuditAction = "app.disabled" if disabled else "app.enabled"
        await record_unit_action(request, db, viewer, action, app.app_key, {"name": app.name})
    return redirect(request, f"/console/apps/{app.app_key}")


@router.get("/apps/{app_key}/delete")
async def delete_app_page(request: Request, app_key: str, viewer: ViewerDep, db: DbDep) -> Response:
    app = await _owned(db, app_key, viewer)
    return render(request, "app_delete.html", {"app": app}, viewer=viewer)


@router.post("/apps/{app_key}/delete")
async def delete_app(
    request: Request, app_key: str, viewer: ViewerDep, db: DbDep, form: CsrfForm
) -> Response:
    app = await _owned(db, app_key, viewer)
    if form_text(form, "confirm", limit=200) != app.app_key:
        error = N_("Type the app key to confirm; the app was not deleted.")
        context = {"app": app, "error": error}
        return render(request, "app_delete.html", context, viewer=viewer, status=400)
    await app_db.delete_app(db, app.app_key, account_id=viewer.account.id)
    await record_unit_action(request, db, viewer, "app.deleted", app.app_key, {"name": app.name})
    return redirect(request, "/console/apps")


@router.post("/apps/{app_key}/blocks/{block_id}/unblock")
async def unblock_prefix(
    request: Request, app_key: str, block_id: BlockId, viewer: ViewerDep, db: DbDep, form: CsrfForm
) -> Response:
    app = await _owned(db, app_key, viewer)
    block = await reports.delete_prefix_block(db, app.id, block_id)
    if block is None:
        raise NotFound(N_("There is no such block on this app."))
    details = {"name": app.name, "prefix": block.prefix}
    await record_unit_action(request, db, viewer, "app.unblocked", app.app_key, details)
    return redirect(request, f"/console/apps/{app.app_key}#blocks")


def _page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    if not is_ascii_digits(raw) or not 1 <= int(raw) <= _PAGE_LIMIT:
        raise InvalidInput(N_("The page must be a whole number from 1 to 10000."))
    return int(raw)


@router.get("/apps/{app_key}/log")
async def log_page(request: Request, app_key: str, viewer: ViewerDep, db: DbDep) -> Response:
    app = await _owned(db, app_key, viewer)
    page = await reports.list_verifications(db, app.id, page=_page_number(request))
    # The cost column exists with billing on only: with it off nothing is ever priced.
    billing = get_services(request).settings.billing
    context = {
        "app": app,
        "page": page,
        "status_labels": STATUS_LABELS,
        "delivery_labels": DELIVERY_LABELS,
        "channel_labels": CHANNEL_LABELS,
        "currency": currency_of(request) if billing else None,
    }
    return render(request, "app_log.html", context, viewer=viewer)


@router.get("/apps/{app_key}/conversion")
async def conversion_page(request: Request, app_key: str, viewer: ViewerDep, db: DbDep) -> Response:
    app = await _owned(db, app_key, viewer)
    country = request.query_params.get("country", "").strip().upper()[:2]
    today = utcnow().date()
    since = today - timedelta(days=29)
    rows = await reports.list_usage(db, app.id, since=since, until=today + timedelta(days=1))
    conversion = build_conversion(rows, since=since, days=30, country=country or None)
    return render(request, "app_conversion.html", {"app": app, "conv": conversion}, viewer=viewer)
