"""The owner's verification units: list, create, edit, rotate the secret, disable, delete.

Every query is scoped to the viewer's account (`owner=`), so another owner's unit answers 404
exactly like a unit that does not exist. Secrets are shown once, on the page that made them.
The form and its check are in `_unit_form`; the operations in `humangate.units.service`.

Leaving the HumanGate mark out of the widget (`hide_mark`) is offered on the edit form only
with billing on and an owner of the enterprise edition (humangate/billing/editions.py); an
owner without it who sends the box anyway is refused (403 `edition-required`) and nothing
changes. With billing off the form leaves the setting to the command line.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from humangate.accounts.audit import AuditAction
from humangate.accounts.delivery import send_rendered
from humangate.api.deps import ServicesDep, get_services
from humangate.billing.editions import edition_required
from humangate.console import _reveal
from humangate.console._audit import changed_fields, record_unit_action
from humangate.console._billing_refusals import refusal_message
from humangate.console._i18n import N_, message_of
from humangate.console._unit_form import (
    CRAWLER_LABELS,
    FORM_CONTEXT,
    KIND_LABELS,
    MODE_HELP,
    MODE_LABELS,
    NEW_UNIT_VALUES,
    embed_snippet,
    form_values,
    read_unit_form,
    siteverify_example,
    unit_values,
)
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
from humangate.db import accounts as account_db
from humangate.errors import AccessDenied, EditionRequired, InvalidInput, NotFound
from humangate.messaging import DeliveryError, RenderedMessage
from humangate.risk.fingerprint import model_fingerprint
from humangate.services import Services
from humangate.units import VISUAL_KINDS, UnitView
from humangate.units import service as units

# Importers of the labels from here (the statistics pages, the catalogue's test) keep working.
__all__ = ["CRAWLER_LABELS", "KIND_LABELS", "MODE_HELP", "MODE_LABELS", "VISUAL_KINDS"]

log = logging.getLogger(__name__)

add_nav(N_("Units"), "/console/units", order=10)

NO_SUCH_UNIT = N_("There is no such verification unit in your account.")


def public_url(request: Request, services: Services) -> str:
    """Where browsers reach this service: HUMANGATE_PUBLIC_URL, else this request's origin."""
    return (services.settings.public_url or str(request.base_url)).rstrip("/")


def _form_page(
    request: Request,
    viewer: Viewer,
    values: dict[str, Any],
    *,
    unit: UnitView | None,
    error: str,
    mark_offered: bool = False,
) -> HTMLResponse:
    context = {
        "unit": unit,
        "values": values,
        "error": error or None,
        "mark_offered": mark_offered,
        **FORM_CONTEXT,
    }
    return render(request, "unit_form.html", context, viewer=viewer, status=400 if error else 200)


async def _mark_offered(services: Services, viewer: Viewer) -> bool:
    """Whether the form offers leaving the mark out: billing on, and the enterprise edition."""
    if not services.settings.billing:
        return False
    return (await services.editions.of_account(viewer.account.id)).hide_mark


async def _mark_choice(services: Services, viewer: Viewer, box: bool | None) -> bool | None:
    """The mark's box (as `form_values` reads it) where the form offers it; None (left as it
    is) where it does not.

    Raises:
        EditionRequired: billing is on, the owner's edition lacks the feature, and the form
            sent the box anyway.
    """
    if await _mark_offered(services, viewer):
        return box is True
    if services.settings.billing and box is not None:
        refused = edition_required("hide-mark")
        raise EditionRequired(refusal_message(refused), params=refused.params)
    return None


async def _owned(db: DbDep, sitekey: str, viewer: Viewer) -> UnitView:
    unit = await units.get_unit(db, sitekey, owner=viewer.account.id)
    if unit is None:
        raise NotFound(NO_SUCH_UNIT)
    return unit


@router.get("/units")
async def units_page(request: Request, viewer: ViewerDep, db: DbDep) -> Response:
    listed = await units.list_units(db, owner=viewer.account.id)
    return render(
        request, "units.html", {"units": listed, "mode_labels": MODE_LABELS}, viewer=viewer
    )


@router.get("/units/new")
async def new_unit_page(request: Request, viewer: ViewerDep) -> Response:
    return _form_page(request, viewer, dict(NEW_UNIT_VALUES), unit=None, error="")


@router.post("/units")
async def create_unit(request: Request, viewer: ViewerDep, db: DbDep, form: CsrfForm) -> Response:
    values = form_values(form)
    try:
        settings = read_unit_form(values)
    except InvalidInput as exc:
        return _form_page(request, viewer, values, unit=None, error=message_of(exc))
    created = await units.create_unit(db, settings, account_id=viewer.account.id)
    unit = created.unit
    details = {"name": unit.name, "mode": unit.mode}
    await record_unit_action(request, db, viewer, "unit.created", unit.sitekey, details)
    revealed = _reveal.Revealed(secret=created.secret, created=True, grace_hours=0.0)
    return await _redirect_to_secret(request, viewer, unit.sitekey, revealed)


async def _redirect_to_secret(
    request: Request, viewer: Viewer, sitekey: str, revealed: _reveal.Revealed
) -> Response:
    """Post/redirect/get: the secret is shown by the GET this redirect leads to, once."""
    store = get_services(request).store
    reveal_id = await _reveal.stash(store, viewer, sitekey, revealed)
    return redirect(request, f"/console/units/{sitekey}/secret?reveal={reveal_id}")


@router.get("/units/{sitekey}/secret")
async def secret_page(
    request: Request, sitekey: str, viewer: ViewerDep, db: DbDep, reveal: str = ""
) -> Response:
    """The new secret, once; a reload shows how to get another instead of creating one."""
    unit = await _owned(db, sitekey, viewer)
    revealed = await _reveal.take(get_services(request).store, viewer, unit.sitekey, reveal)
    context = {"unit": unit, "revealed": revealed}
    return render(request, "unit_secret.html", context, viewer=viewer)


@router.get("/units/{sitekey}")
async def unit_page(
    request: Request, sitekey: str, viewer: ViewerDep, db: DbDep, services: ServicesDep
) -> Response:
    unit = await _owned(db, sitekey, viewer)
    base = public_url(request, services)
    context = {
        "unit": unit,
        "snippet": embed_snippet(unit.sitekey, base),
        "siteverify": siteverify_example(base),
        "mode_help": MODE_HELP,
        "mode_labels": MODE_LABELS,
        "kind_labels": KIND_LABELS,
        "crawlers": CRAWLER_LABELS,
        "threshold_outdated": unit.threshold_outdated(model_fingerprint()),
    }
    return render(request, "unit.html", context, viewer=viewer)


@router.get("/units/{sitekey}/edit")
async def edit_unit_page(
    request: Request, sitekey: str, viewer: ViewerDep, db: DbDep, services: ServicesDep
) -> Response:
    unit = await _owned(db, sitekey, viewer)
    offered = await _mark_offered(services, viewer)
    return _form_page(request, viewer, unit_values(unit), unit=unit, error="", mark_offered=offered)


@router.post("/units/{sitekey}/edit")
async def edit_unit(
    request: Request,
    sitekey: str,
    viewer: ViewerDep,
    db: DbDep,
    form: CsrfForm,
    services: ServicesDep,
) -> Response:
    unit = await _owned(db, sitekey, viewer)
    values = form_values(form)
    hide_mark = await _mark_choice(services, viewer, values["hide_mark"])
    try:
        changes = read_unit_form(values, hide_mark=hide_mark)
    except InvalidInput as exc:
        error = message_of(exc)
        offered = hide_mark is not None
        return _form_page(request, viewer, values, unit=unit, error=error, mark_offered=offered)
    updated = await units.update_unit(db, unit.sitekey, changes, owner=viewer.account.id)
    if changed := changed_fields(unit, updated):
        details = {"name": changes.name, "changed": changed}
        await record_unit_action(request, db, viewer, "unit.updated", unit.sitekey, details)
    return redirect(request, f"/console/units/{unit.sitekey}")


@router.post("/units/{sitekey}/rotate")
async def rotate_secret(
    request: Request,
    sitekey: str,
    viewer: ViewerDep,
    db: DbDep,
    form: CsrfForm,
    services: ServicesDep,
) -> Response:
    unit = await _owned(db, sitekey, viewer)
    hours = services.settings.secret_grace_hours
    grace = timedelta(hours=hours)
    secret = await units.rotate_secret(db, unit.sitekey, grace=grace, owner=viewer.account.id)
    if secret is None:
        raise NotFound(NO_SUCH_UNIT)
    details = {"name": unit.name, "grace_hours": hours}
    await record_unit_action(request, db, viewer, "unit.secret_rotated", unit.sitekey, details)
    message = services.message_templates.secret_rotated(
        viewer.account.language,
        unit=unit.name,
        sitekey=unit.sitekey,
        old_valid_until=utcnow() + grace if hours else None,
        link_path=f"/console/units/{unit.sitekey}",
    )
    await _notify(db, services, viewer, message)
    revealed = _reveal.Revealed(secret=secret, created=False, grace_hours=hours)
    return await _redirect_to_secret(request, viewer, unit.sitekey, revealed)


@router.post("/units/{sitekey}/disable")
async def disable_unit(
    request: Request,
    sitekey: str,
    viewer: ViewerDep,
    db: DbDep,
    form: CsrfForm,
    services: ServicesDep,
) -> Response:
    return await _set_disabled(request, sitekey, viewer, db, services, disabled=True)


@router.post("/units/{sitekey}/enable")
async def enable_unit(
    request: Request,
    sitekey: str,
    viewer: ViewerDep,
    db: DbDep,
    form: CsrfForm,
    services: ServicesDep,
) -> Response:
    if viewer.account.status != "active":
        raise AccessDenied(N_("Units stay disabled while the account is suspended."))
    return await _set_disabled(request, sitekey, viewer, db, services, disabled=False)


async def _set_disabled(
    request: Request,
    sitekey: str,
    viewer: Viewer,
    db: DbDep,
    services: Services,
    *,
    disabled: bool,
) -> Response:
    unit = await _owned(db, sitekey, viewer)
    await units.set_disabled(db, unit.sitekey, disabled=disabled, owner=viewer.account.id)
    if unit.disabled != disabled:
        action: AuditAction = "unit.disabled" if disabled else "unit.enabled"
        await record_unit_action(request, db, viewer, action, unit.sitekey, {"name": unit.name})
    link = f"/console/units/{unit.sitekey}"
    if disabled and not unit.disabled:
        message = services.message_templates.unit_disabled(
            viewer.account.language, unit=unit.name, sitekey=unit.sitekey, link_path=link
        )
        await _notify(db, services, viewer, message)
    return redirect(request, link)


async def _notify(db: DbDep, services: Services, viewer: Viewer, message: RenderedMessage) -> None:
    """A security event: a note in the owner's inbox, and the same by e-mail (or SMS).

    Delivery failures are logged and do not undo the change the owner asked for.
    """
    account = viewer.account
    await account_db.add_notification(
        db, account.id, kind="security", subject=message.subject, body=message.text, now=utcnow()
    )
    await db.commit()
    kind, to = ("email", account.email) if account.email else ("sms", account.phone)
    if not to:
        return
    try:
        await send_rendered(services.channels, message, kind=kind, to=to)
    except (DeliveryError, ValueError) as exc:
        log.warning("A security notice was not delivered: %s", exc)


@router.get("/units/{sitekey}/delete")
async def delete_unit_page(
    request: Request, sitekey: str, viewer: ViewerDep, db: DbDep
) -> Response:
    unit = await _owned(db, sitekey, viewer)
    return render(request, "unit_delete.html", {"unit": unit}, viewer=viewer)


@router.post("/units/{sitekey}/delete")
async def delete_unit(
    request: Request, sitekey: str, viewer: ViewerDep, db: DbDep, form: CsrfForm
) -> Response:
    unit = await _owned(db, sitekey, viewer)
    if form_text(form, "confirm", limit=200) != unit.sitekey:
        error = N_("Type the unit's site key to confirm; the unit was not deleted.")
        context = {"unit": unit, "error": error}
        return render(request, "unit_delete.html", context, viewer=viewer, status=400)
    await units.delete_unit(db, unit.sitekey, owner=viewer.account.id)
    details = {"name": unit.name}
    await record_unit_action(request, db, viewer, "unit.deleted", unit.sitekey, details)
    return redirect(request, "/console/units")
