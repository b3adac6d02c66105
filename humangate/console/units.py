"""The owner's verification units: list, create, edit, rotate the secret, disable, delete.

Every query is scoped to the viewer's account (`owner=`), so another owner's unit answers 404
exactly like a unit that does not exist. Secrets are shown once, on the page that made them.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from humangate.accounts.audit import AuditAction
from humangate.console._audit import changed_fields, record_unit_action
from humangate.console._i18n import N_, Phrase, message_of
from humangate.console.web import (
    ConsoleError,
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
from humangate.db import units as unit_db
from humangate.messaging import Channels, DeliveryError, MessageTemplates, RenderedMessage
from humangate.risk.access import CRAWLERS, MAX_ENTRIES, MAX_LINE, parse_networks
from humangate.units import (
    DEFAULT_DIFFICULTY,
    DEFAULT_KINDS,
    DEFAULT_POW_DIFFICULTY,
    MAX_DIFFICULTY,
    MAX_POW_DIFFICULTY,
    MODES,
    VISUAL_KINDS,
    Mode,
    UnitView,
    check_difficulty,
    check_domains,
    check_mode,
    check_name,
    check_pow_difficulty,
    check_threshold,
    normalize_kinds,
)

log = logging.getLogger(__name__)

add_nav(N_("Units"), "/console/units", order=10)

# The modes by name, as the page shows them (the catalogue translates them).
MODE_LABELS = {
    "managed": N_("managed"),
    "interactive": N_("interactive"),
    "invisible": N_("invisible"),
    "score": N_("score"),
}
MODE_HELP = {
    "managed": N_("a proof of work, and a visual challenge only when the risk score asks for one"),
    "interactive": N_("always a visual challenge"),
    "invisible": N_("a proof of work only; nothing to click"),
    "score": N_("no challenge; siteverify returns a risk score for your server to judge"),
}
KIND_LABELS = {
    "slide": N_("Slide a piece into place"),
    "rotate": N_("Turn an image upright"),
    "click": N_("Click the named icons"),
    "text": N_("Type distorted characters"),
    # Not chosen on the form, but counted in the statistics.
    "pow": N_("Proof of work"),
    "audio": N_("Audio (the accessible alternative)"),
}
# Each declared crawler by the name its User-Agent gives, such as "Googlebot".
CRAWLER_LABELS = {name: crawler.ua_tokens[0] for name, crawler in CRAWLERS.items()}
# An access list's text box: its longest lists, with room for a comment on each line.
MAX_LIST_TEXT = MAX_ENTRIES * (MAX_LINE + 1) * 2


@dataclass(frozen=True, slots=True)
class UnitForm:
    """A checked create or edit form."""

    name: str
    domains: list[str]
    mode: Mode
    kinds: tuple[str, ...]
    difficulty: int
    threshold: float | None
    pow_difficulty: int = DEFAULT_POW_DIFFICULTY
    allow_networks: tuple[str, ...] = ()
    deny_networks: tuple[str, ...] = ()
    good_bots: tuple[str, ...] = ()


def form_values(form: FormData) -> dict[str, Any]:
    """The raw fields, to show the form again as the owner typed it."""
    return {
        "name": form_text(form, "name"),
        "domains": form_text(form, "domains", limit=5000),
        "mode": form_text(form, "mode", limit=20),
        "kinds": [k for k in form.getlist("kinds") if isinstance(k, str)][:10],
        "difficulty": form_text(form, "difficulty", limit=10),
        "threshold": form_text(form, "threshold", limit=20),
        "pow_difficulty": form_text(form, "pow_difficulty", limit=20),
        "allow_networks": form_text(form, "allow_networks", limit=MAX_LIST_TEXT),
        "deny_networks": form_text(form, "deny_networks", limit=MAX_LIST_TEXT),
        "good_bots": [b for b in form.getlist("good_bots") if isinstance(b, str)][:20],
    }


def read_unit_form(values: dict[str, Any]) -> UnitForm:
    """Check the raw fields with the same rules as the CLI; raises ValueError with a sentence."""
    try:
        difficulty = int(values["difficulty"])
    except ValueError:
        message = Phrase(
            "The difficulty must be a whole number from 0 to %(max)s.", max=MAX_DIFFICULTY
        )
        raise ValueError(message) from None
    threshold: float | None = None
    if values["threshold"]:
        try:
            threshold = check_threshold(float(values["threshold"]))
        except ValueError:
            threshold_error = N_("The threshold must be a number between 0 and 1, or empty.")
            raise ValueError(threshold_error) from None
    return UnitForm(
        name=check_name(values["name"]),
        domains=check_domains([d for d in re.split(r"[\s,]+", values["domains"]) if d]),
        mode=check_mode(values["mode"]),
        kinds=normalize_kinds(values["kinds"]),
        difficulty=check_difficulty(difficulty),
        threshold=threshold,
        pow_difficulty=read_pow_difficulty(values["pow_difficulty"]),
        allow_networks=read_networks(values["allow_networks"], N_("allow list")),
        deny_networks=read_networks(values["deny_networks"], N_("deny list")),
        good_bots=read_good_bots(values["good_bots"]),
    )


def read_pow_difficulty(text: str) -> int:
    """The proof-of-work difficulty as typed (empty: the default), checked like the CLI's."""
    if not text:
        return DEFAULT_POW_DIFFICULTY
    try:
        value = int(text)
    except ValueError:
        message = Phrase(
            "The proof-of-work difficulty must be a whole number from 1 to %(max)s.",
            max=MAX_POW_DIFFICULTY,
        )
        raise ValueError(message) from None
    return check_pow_difficulty(value)


def read_networks(text: str, name: str) -> tuple[str, ...]:
    """An access list, one network a line, parsed and normalised as `humangate unit` does."""
    try:
        return tuple(str(network) for network in parse_networks(text))
    except ValueError as exc:
        message = Phrase("The %(name)s: %(error)s", name=Phrase(name), error=str(exc))
        raise ValueError(message) from None


def read_good_bots(names: list[str]) -> tuple[str, ...]:
    """Declared crawlers from the catalogue, sorted and without repeats, as the CLI keeps them."""
    unknown = sorted(set(names) - set(CRAWLERS))
    if unknown:
        known = ", ".join(CRAWLERS)
        message = N_("%(value)s is not a known crawler; choose from %(known)s.")
        raise ValueError(Phrase(message, value=repr(unknown[0][:40]), known=known))
    return tuple(sorted(set(names)))


def risk_changes(fields: UnitForm) -> unit_db.UnitChanges:
    """The settings `create_unit` does not take: the threshold and the access rules."""
    return unit_db.UnitChanges(
        score_threshold=fields.threshold,
        allow_networks=fields.allow_networks,
        deny_networks=fields.deny_networks,
        good_bots=fields.good_bots,
    )


def unit_values(unit: UnitView) -> dict[str, Any]:
    threshold = "" if unit.score_threshold is None else f"{unit.score_threshold:g}"
    return {
        "name": unit.name,
        "domains": "\n".join(unit.domains),
        "mode": unit.mode,
        "kinds": list(unit.kinds),
        "difficulty": str(unit.difficulty),
        "threshold": threshold,
        "pow_difficulty": str(unit.pow_difficulty),
        "allow_networks": "\n".join(unit.allow_networks),
        "deny_networks": "\n".join(unit.deny_networks),
        "good_bots": list(unit.good_bots),
    }


def public_url(request: Request) -> str:
    """Where browsers reach this service: HUMANGATE_PUBLIC_URL, else this request's origin."""
    configured: str = request.app.state.settings.public_url
    return (configured or str(request.base_url)).rstrip("/")


def embed_snippet(sitekey: str, base: str) -> str:
    return (
        f'<div class="humangate" data-sitekey="{sitekey}"></div>\n'
        f'<script src="{base}/humangate.js" async defer></script>'
    )


def siteverify_example(base: str) -> str:
    return (
        f"curl -s {base}/siteverify \\\n"
        '  -d "secret=$HUMANGATE_SECRET" \\\n'
        '  -d "response=$TOKEN_FROM_THE_FORM"\n'
        '# => {"success": true, "challenge_ts": "…", "hostname": "…", …}'
    )


def _form_page(
    request: Request, viewer: Viewer, values: dict[str, Any], *, unit: UnitView | None, error: str
) -> HTMLResponse:
    context = {
        "unit": unit,
        "values": values,
        "error": error or None,
        "modes": MODES,
        "mode_help": MODE_HELP,
        "mode_labels": MODE_LABELS,
        "kinds": VISUAL_KINDS,
        "kind_labels": KIND_LABELS,
        "max_difficulty": MAX_DIFFICULTY,
        "crawlers": CRAWLER_LABELS,
        "default_pow_difficulty": DEFAULT_POW_DIFFICULTY,
        "max_pow_difficulty": MAX_POW_DIFFICULTY,
        "max_entries": MAX_ENTRIES,
    }
    return render(request, "unit_form.html", context, viewer=viewer, status=400 if error else 200)


async def _owned(db: DbDep, sitekey: str, account_id: int) -> UnitView:
    unit = await unit_db.get_unit_by_sitekey(db, sitekey, owner=account_id)
    if unit is None:
        raise ConsoleError(404, N_("There is no such verification unit in your account."))
    return unit


@router.get("/units")
async def units_page(request: Request, viewer: ViewerDep, db: DbDep) -> Response:
    units = await unit_db.list_units(db, owner=viewer.account.id)
    return render(
        request, "units.html", {"units": units, "mode_labels": MODE_LABELS}, viewer=viewer
    )


@router.get("/units/new")
async def new_unit_page(request: Request, viewer: ViewerDep) -> Response:
    values = {
        "name": "",
        "domains": "",
        "mode": "managed",
        "kinds": list(DEFAULT_KINDS),
        "difficulty": str(DEFAULT_DIFFICULTY),
        "threshold": "",
        "pow_difficulty": str(DEFAULT_POW_DIFFICULTY),
        "allow_networks": "",
        "deny_networks": "",
        "good_bots": [],
    }
    return _form_page(request, viewer, values, unit=None, error="")


@router.post("/units")
async def create_unit(request: Request, viewer: ViewerDep, db: DbDep, form: CsrfForm) -> Response:
    values = form_values(form)
    try:
        fields = read_unit_form(values)
    except ValueError as exc:
        return _form_page(request, viewer, values, unit=None, error=message_of(exc))
    created = await unit_db.create_unit(
        db,
        name=fields.name,
        domains=fields.domains,
        mode=fields.mode,
        pow_difficulty=fields.pow_difficulty,
        kinds=fields.kinds,
        difficulty=fields.difficulty,
        account_id=viewer.account.id,
    )
    unit = created.unit
    changes = risk_changes(fields)
    unit = await unit_db.update_unit(db, unit.sitekey, changes, owner=viewer.account.id) or unit
    details = {"name": unit.name, "mode": unit.mode}
    await record_unit_action(request, db, viewer, "unit.created", unit.sitekey, details)
    context = {"unit": unit, "secret": created.secret, "created": True}
    return render(request, "unit_secret.html", context, viewer=viewer, status=201)


@router.get("/units/{sitekey}")
async def unit_page(request: Request, sitekey: str, viewer: ViewerDep, db: DbDep) -> Response:
    unit = await _owned(db, sitekey, viewer.account.id)
    base = public_url(request)
    context = {
        "unit": unit,
        "snippet": embed_snippet(unit.sitekey, base),
        "siteverify": siteverify_example(base),
        "mode_help": MODE_HELP,
        "mode_labels": MODE_LABELS,
        "kind_labels": KIND_LABELS,
        "crawlers": CRAWLER_LABELS,
    }
    return render(request, "unit.html", context, viewer=viewer)


@router.get("/units/{sitekey}/edit")
async def edit_unit_page(request: Request, sitekey: str, viewer: ViewerDep, db: DbDep) -> Response:
    unit = await _owned(db, sitekey, viewer.account.id)
    return _form_page(request, viewer, unit_values(unit), unit=unit, error="")


@router.post("/units/{sitekey}/edit")
async def edit_unit(
    request: Request, sitekey: str, viewer: ViewerDep, db: DbDep, form: CsrfForm
) -> Response:
    unit = await _owned(db, sitekey, viewer.account.id)
    values = form_values(form)
    try:
        fields = read_unit_form(values)
    except ValueError as exc:
        return _form_page(request, viewer, values, unit=unit, error=message_of(exc))
    changes = unit_db.UnitChanges(
        name=fields.name,
        domains=fields.domains,
        mode=fields.mode,
        kinds=fields.kinds,
        difficulty=fields.difficulty,
        score_threshold=fields.threshold,
        clear_threshold=fields.threshold is None,
        pow_difficulty=fields.pow_difficulty,
        allow_networks=fields.allow_networks,
        deny_networks=fields.deny_networks,
        good_bots=fields.good_bots,
    )
    updated = await unit_db.update_unit(db, unit.sitekey, changes, owner=viewer.account.id)
    if changed := changed_fields(unit, updated):
        details = {"name": fields.name, "changed": changed}
        await record_unit_action(request, db, viewer, "unit.updated", unit.sitekey, details)
    return redirect(request, f"/console/units/{unit.sitekey}")


@router.post("/units/{sitekey}/rotate")
async def rotate_secret(
    request: Request, sitekey: str, viewer: ViewerDep, db: DbDep, form: CsrfForm
) -> Response:
    unit = await _owned(db, sitekey, viewer.account.id)
    hours: float = request.app.state.settings.secret_grace_hours
    secret = await unit_db.rotate_secret(
        db, unit.sitekey, grace=timedelta(hours=hours), owner=viewer.account.id
    )
    if secret is None:
        raise ConsoleError(404, N_("There is no such verification unit in your account."))
    details = {"name": unit.name, "grace_hours": hours}
    await record_unit_action(request, db, viewer, "unit.secret_rotated", unit.sitekey, details)
    until = utcnow() + timedelta(hours=hours) if hours else None
    templates: MessageTemplates = request.app.state.message_templates
    link = f"/console/units/{unit.sitekey}"
    message = templates.secret_rotated(
        viewer.account.language,
        unit=unit.name,
        sitekey=unit.sitekey,
        old_valid_until=until,
        link_path=link,
    )
    await _notify(request, db, viewer, message)
    context = {"unit": unit, "secret": secret, "created": False, "grace_hours": hours}
    return render(request, "unit_secret.html", context, viewer=viewer)


@router.post("/units/{sitekey}/disable")
async def disable_unit(
    request: Request, sitekey: str, viewer: ViewerDep, db: DbDep, form: CsrfForm
) -> Response:
    return await _set_disabled(request, sitekey, viewer, db, disabled=True)


@router.post("/units/{sitekey}/enable")
async def enable_unit(
    request: Request, sitekey: str, viewer: ViewerDep, db: DbDep, form: CsrfForm
) -> Response:
    if viewer.account.status != "active":
        raise ConsoleError(403, N_("Units stay disabled while the account is suspended."))
    return await _set_disabled(request, sitekey, viewer, db, disabled=False)


async def _set_disabled(
    request: Request, sitekey: str, viewer: Viewer, db: DbDep, *, disabled: bool
) -> Response:
    unit = await _owned(db, sitekey, viewer.account.id)
    changes = unit_db.UnitChanges(disabled=disabled)
    await unit_db.update_unit(db, unit.sitekey, changes, owner=viewer.account.id)
    if unit.disabled != disabled:
        action: AuditAction = "unit.disabled" if disabled else "unit.enabled"
        await record_unit_action(request, db, viewer, action, unit.sitekey, {"name": unit.name})
    link = f"/console/units/{unit.sitekey}"
    if disabled and not unit.disabled:
        templates: MessageTemplates = request.app.state.message_templates
        message = templates.unit_disabled(
            viewer.account.language, unit=unit.name, sitekey=unit.sitekey, link_path=link
        )
        await _notify(request, db, viewer, message)
    return redirect(request, link)


async def _notify(request: Request, db: DbDep, viewer: Viewer, message: RenderedMessage) -> None:
    """A security event: a note in the owner's inbox, and the same by e-mail (or SMS).

    Delivery failures are logged and do not undo the change the owner asked for.
    """
    await account_db.add_notification(
        db,
        viewer.account.id,
        kind="security",
        subject=message.subject,
        body=message.text,
        now=utcnow(),
    )
    await db.commit()
    channels: Channels = request.app.state.channels
    try:
        if viewer.account.email:
            await channels.mailer.send(message.email(viewer.account.email))
        elif viewer.account.phone:
            await channels.sms.send(message.sms_message(viewer.account.phone))
    except (DeliveryError, ValueError) as exc:
        log.warning("A security notice was not delivered: %s", exc)


@router.get("/units/{sitekey}/delete")
async def delete_unit_page(
    request: Request, sitekey: str, viewer: ViewerDep, db: DbDep
) -> Response:
    unit = await _owned(db, sitekey, viewer.account.id)
    return render(request, "unit_delete.html", {"unit": unit}, viewer=viewer)


@router.post("/units/{sitekey}/delete")
async def delete_unit(
    request: Request, sitekey: str, viewer: ViewerDep, db: DbDep, form: CsrfForm
) -> Response:
    unit = await _owned(db, sitekey, viewer.account.id)
    if form_text(form, "confirm", limit=200) != unit.sitekey:
        error = N_("Type the unit's site key to confirm; the unit was not deleted.")
        context = {"unit": unit, "error": error}
        return render(request, "unit_delete.html", context, viewer=viewer, status=400)
    await unit_db.delete_unit(db, unit.sitekey, owner=viewer.account.id)
    details = {"name": unit.name}
    await record_unit_action(request, db, viewer, "unit.deleted", unit.sitekey, details)
    return redirect(request, "/console/units")
