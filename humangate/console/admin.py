"""The operator's pages: find accounts, suspend, ban, restore or cancel them, send notices, read
the audit log (the notice to every owner is in `notices`). Every route needs an admin
(`AdminDep`, 403 for owners); changes go through the account core, which checks the admin again
and writes the audit entry.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable

from fastapi import Request
from fastapi.responses import Response

from humangate.accounts import (
    AuditPage,
    StatusChanged,
    audit,
    cancel_account,
    list_entries,
    parse_identifier,
    restore_account,
    suspend_account,
)
from humangate.accounts._views import contacts
from humangate.accounts.audit import ACTIONS
from humangate.accounts.delivery import send_rendered
from humangate.accounts.identifiers import Identifier
from humangate.api.deps import ServicesDep
from humangate.console._directory import AccountRow, get_account, search_accounts
from humangate.console._i18n import N_, Phrase, message_of
from humangate.console.notices import MAX_BODY, MAX_TITLE, check_notice
from humangate.console.web import (
    AccountsDep,
    AdminDep,
    CsrfForm,
    DbDep,
    account_client,
    add_nav,
    form_text,
    redirect,
    render,
    router,
    send,
    utcnow,
)
from humangate.db import accounts as account_db
from humangate.errors import InvalidInput, NotFound
from humangate.messaging import DeliveryError
from humangate.netaddr import ip_prefix
from humangate.services import Services
from humangate.text import is_ascii_digits

log = logging.getLogger(__name__)

add_nav(N_("Accounts"), "/console/admin/accounts", admin=True, order=60)
add_nav(N_("Audit log"), "/console/admin/audit", admin=True, order=70)

PAGE = 50
NOTICES = {
    "suspended": N_("The account is suspended and its owner was told why."),
    "banned": N_("The account is banned and its owner was told why."),
    "restored": N_("The account is active again."),
    "notice": N_("The notice is in the account's inbox and on its way by e-mail or SMS."),
    "notice-undelivered": N_("The notice is in the account's inbox, but it could not be sent."),
    "cancelled": N_(
        "The account is cancelled: everything it held is erased and its owner was told."
    ),
}
CONFIRM_MISMATCH = N_(
    "To confirm, type the account's e-mail address or phone number exactly as shown."
)


def _int(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    if not is_ascii_digits(value) or len(value) > 12:
        raise InvalidInput(Phrase("The %(name)s must be a whole number.", name=Phrase(name)))
    return int(value)


async def _account_or_404(db: DbDep, account_id: int) -> AccountRow:
    row = await get_account(db, account_id)
    if row is None:
        raise NotFound(N_("There is no such account."))
    return row


@router.get("/admin")
async def admin_home(request: Request, viewer: AdminDep) -> Response:
    return redirect(request, "/console/admin/accounts")


@router.get("/admin/accounts")
async def accounts_page(request: Request, viewer: AdminDep, db: DbDep) -> Response:
    query = request.query_params.get("q", "")
    try:
        rows = await search_accounts(db, query)
    except ValueError as exc:
        raise InvalidInput(message_of(exc)) from exc
    notice = NOTICES.get(request.query_params.get("done", ""))
    context = {"q": query, "rows": rows, "notice": notice}
    return render(request, "admin_accounts.html", context, viewer=viewer)


@router.get("/admin/accounts/{account_id}")
async def account_page(request: Request, account_id: int, viewer: AdminDep, db: DbDep) -> Response:
    row = await _account_or_404(db, account_id)
    units = await account_db.list_account_units(db, account_id)
    recent = await list_entries(db, account_id=account_id, limit=10)
    context = {
        "row": row,
        "units": units,
        "recent": recent.entries,
        "notice": NOTICES.get(request.query_params.get("done", "")),
        "is_self": account_id == viewer.account.id,
    }
    return render(request, "admin_account.html", context, viewer=viewer)


@router.post("/admin/accounts/{account_id}/suspend")
async def suspend(
    request: Request,
    account_id: int,
    viewer: AdminDep,
    db: DbDep,
    accounts: AccountsDep,
    form: CsrfForm,
) -> Response:
    await _account_or_404(db, account_id)
    ban = form_text(form, "action", limit=10) == "ban"
    change = suspend_account(
        accounts,
        db,
        account_id,
        admin_id=viewer.account.id,
        reason=form_text(form, "reason", limit=2000),
        ban=ban,
        client=account_client(request),
        now=utcnow(),
    )
    return await _status_changed(request, account_id, change, "banned" if ban else "suspended")


@router.post("/admin/accounts/{account_id}/restore")
async def restore(
    request: Request,
    account_id: int,
    viewer: AdminDep,
    db: DbDep,
    accounts: AccountsDep,
    form: CsrfForm,
) -> Response:
    await _account_or_404(db, account_id)
    client, now = account_client(request), utcnow()
    change = restore_account(
        accounts, db, account_id, admin_id=viewer.account.id, client=client, now=now
    )
    return await _status_changed(request, account_id, change, "restored")


async def _status_changed(
    request: Request, account_id: int, change: Awaitable[StatusChanged], done: str
) -> Response:
    """Make the change of status, tell the owner, and show the account with the `done` notice.

    Raises:
        InvalidInput: the account core refused the change (a 400 page).
    """
    try:
        changed = await change
    except (ValueError, PermissionError) as exc:
        raise InvalidInput(message_of(exc)) from exc
    await send(request, changed.outgoing, language=changed.account.language)
    return redirect(request, f"/console/admin/accounts/{account_id}?done={done}")


@router.get("/admin/accounts/{account_id}/cancel")
async def cancel_page(request: Request, account_id: int, viewer: AdminDep, db: DbDep) -> Response:
    row = await _cancellable(db, account_id, viewer)
    return render(request, "admin_cancel.html", {"row": row, "reason": ""}, viewer=viewer)


@router.post("/admin/accounts/{account_id}/cancel")
async def cancel(
    request: Request,
    account_id: int,
    viewer: AdminDep,
    db: DbDep,
    accounts: AccountsDep,
    form: CsrfForm,
) -> Response:
    """Cancel an account for good, once the admin typed its identifier and gave a reason."""
    row = await _cancellable(db, account_id, viewer)
    reason = form_text(form, "reason", limit=2000)
    again = {"row": row, "reason": reason}
    if not _confirms(accounts.policy.default_region, row, form_text(form, "confirm", limit=320)):
        again["error"] = CONFIRM_MISMATCH
        return render(request, "admin_cancel.html", again, viewer=viewer, status=400)
    try:
        done = await cancel_account(
            accounts, db, account_id, admin_id=viewer.account.id, reason=reason, now=utcnow()
        )
    except (ValueError, PermissionError) as exc:
        again["error"] = str(exc)
        return render(request, "admin_cancel.html", again, viewer=viewer, status=400)
    await send(request, done.outgoing)
    return redirect(request, "/console/admin/accounts?done=cancelled")


async def _cancellable(db: DbDep, account_id: int, viewer: AdminDep) -> AccountRow:
    row = await _account_or_404(db, account_id)
    if row.account.status == "pending":
        raise NotFound(N_("There is no such account."))
    if account_id == viewer.account.id:
        raise InvalidInput(N_("An administrator cannot cancel their own account here."))
    return row


def _confirms(region: str, row: AccountRow, typed: str) -> bool:
    """Whether `typed` is the account's e-mail address or phone number (in any usual form)."""
    try:
        ident = parse_identifier(typed, default_region=region)
    except ValueError:
        return False
    account = row.account
    if ident.kind == "email":
        return account.email is not None and ident.key == account.email.strip().lower()
    return account.phone is not None and ident.key == account.phone


@router.post("/admin/accounts/{account_id}/notice")
async def notice(
    request: Request,
    account_id: int,
    viewer: AdminDep,
    db: DbDep,
    form: CsrfForm,
    services: ServicesDep,
) -> Response:
    try:
        title, body = check_notice(
            form_text(form, "title", limit=MAX_TITLE), form_text(form, "body", limit=MAX_BODY)
        )
    except ValueError as exc:
        raise InvalidInput(message_of(exc)) from exc
    account = await account_db.get_account(db, account_id)
    if account is None:
        raise NotFound(N_("There is no such account."))
    now = utcnow()
    await account_db.add_notification(
        db, account_id, kind="notice", subject=title, body=body, now=now
    )
    await audit.record(
        db,
        "notice.sent",
        actor=audit.Actor.admin(viewer.account.id),
        account_id=account_id,
        now=now,
        ip_prefix=ip_prefix(account_client(request).ip),
        details={"title": title},
    )
    language, targets = account.language, contacts(account)[:1]
    await db.commit()
    delivered = await _deliver_notice(services, targets, language, title=title, body=body)
    done = "notice" if delivered else "notice-undelivered"
    return redirect(request, f"/console/admin/accounts/{account_id}?done={done}")


async def _deliver_notice(
    services: Services, targets: list[Identifier], language: str, *, title: str, body: str
) -> bool:
    """Send an operator notice by the account's first channel; False if that failed.

    `web.send` renders only the account core's fixed templates, so a notice with the operator's
    own title and text is rendered here with `MessageTemplates.operator_notice`.
    """
    rendered = services.message_templates.operator_notice(
        language, title=title, body=body, link_path="/console"
    )
    ok = True
    for target in targets:
        try:
            await send_rendered(services.channels, rendered, kind=target.kind, to=target.value)
        except (DeliveryError, ValueError) as exc:
            ok = False
            log.warning("An operator notice was not delivered: %s", exc)
    return ok


@router.get("/admin/audit")
async def audit_page(request: Request, viewer: AdminDep, db: DbDep) -> Response:
    params = request.query_params
    account_id = _int(params.get("account"), N_("account id"))
    before = _int(params.get("before"), N_("page marker"))
    action = params.get("action") or None
    try:
        page: AuditPage = await list_entries(
            db, account_id=account_id, action=action, before_id=before, limit=PAGE
        )
    except ValueError as exc:
        raise InvalidInput(message_of(exc)) from exc
    prefixes = sorted({a.split(".")[0] + "." for a in ACTIONS})
    context = {
        "page": page,
        "account": "" if account_id is None else str(account_id),
        "action": action or "",
        "actions": prefixes + sorted(ACTIONS),
    }
    return render(request, "admin_audit.html", context, viewer=viewer)
