"""The owner's own account: home, profile and password, contact, export, cancellation.

The inbox and the sessions have their own modules (`inbox`, `sessions`).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from humangate.accounts import (
    CodeRejected,
    CodeSent,
    ContactChanged,
    Locked,
    LoginFailed,
    Throttled,
    change_password,
    confirm_cancellation,
    confirm_contact_change,
    export_account,
    list_inbox,
    request_cancellation,
    request_contact_change,
    resend_contact_code,
    update_profile,
)
from humangate.accounts.profile import set_code_login
from humangate.console._cookies import clear_session_cookie
from humangate.console._i18n import N_, Phrase
from humangate.console._outcomes import (
    MAX_IDENTIFIER,
    MAX_PASSWORD,
    PASSWORD_TOO_LONG,
    WRONG_CODE,
    locked_message,
    resend_wait_message,
    throttled_message,
)
from humangate.console.web import (
    AccountsDep,
    CsrfForm,
    DbDep,
    Viewer,
    ViewerDep,
    account_client,
    add_nav,
    download,
    form_text,
    redirect,
    render,
    router,
    send,
    utcnow,
)
from humangate.units import service as units

LANGUAGES = (("en", "English"), ("zh-CN", "简体中文"))

add_nav(N_("Profile"), "/console/profile", order=81)


def _page(
    request: Request, template: str, viewer: Viewer, status: int = 200, **context: Any
) -> Response:
    return render(request, template, context, viewer=viewer, status=status)


@router.get("")
async def home(request: Request, viewer: ViewerDep, db: DbDep) -> Response:
    unread = await list_inbox(db, viewer.account.id, unread_only=True, limit=5)
    first_unit = not await units.list_units(db, owner=viewer.account.id)
    return _page(request, "home.html", viewer, unread=unread, first_unit=first_unit)


# --- profile and password ------------------------------------------------------------------------


def _profile(request: Request, viewer: Viewer, status: int = 200, **context: Any) -> Response:
    return _page(request, "profile.html", viewer, status, languages=LANGUAGES, **context)


@router.get("/profile")
async def profile_page(request: Request, viewer: ViewerDep) -> Response:
    return _profile(request, viewer, notice=request.query_params.get("saved") and N_("Saved."))


@router.post("/profile")
async def profile_submit(
    request: Request, viewer: ViewerDep, form: CsrfForm, db: DbDep, accounts: AccountsDep
) -> Response:
    name = form_text(form, "display_name", limit=200)
    language = form_text(form, "language", limit=35)
    if language not in dict(LANGUAGES):
        return _profile(request, viewer, 400, error=N_("Choose one of the languages offered."))
    try:
        await update_profile(
            accounts,
            db,
            viewer.account.id,
            display_name=name,
            language=language,
            client=account_client(request),
            now=utcnow(),
        )
    except ValueError as exc:
        return _profile(request, viewer, 400, error=str(exc))
    return redirect(request, "/console/profile?saved=1")


@router.post("/profile/password")
async def password_submit(
    request: Request, viewer: ViewerDep, form: CsrfForm, db: DbDep, accounts: AccountsDep
) -> Response:
    current = str(form.get("current_password") or "")
    new = str(form.get("new_password") or "")
    if len(current) > MAX_PASSWORD or len(new) > MAX_PASSWORD:
        return _profile(request, viewer, 400, password_error=PASSWORD_TOO_LONG)
    try:
        outcome = await change_password(
            accounts,
            db,
            viewer.account.id,
            current,
            new,
            client=account_client(request),
            now=utcnow(),
        )
    except ValueError as exc:
        return _profile(request, viewer, 400, password_error=str(exc))
    if isinstance(outcome, Locked):
        return _profile(request, viewer, 429, password_error=locked_message(outcome))
    if isinstance(outcome, LoginFailed):
        return _profile(request, viewer, 400, password_error=outcome.message)
    await send(request, outcome.outgoing, language=viewer.account.language)
    ended = outcome.sessions_revoked
    notice = Phrase(
        "Your password was changed; %(ended)s other session(s) were logged out.", ended=ended
    )
    return _profile(request, viewer, password_notice=notice)


@router.post("/profile/contact")
async def contact_submit(
    request: Request, viewer: ViewerDep, form: CsrfForm, db: DbDep, accounts: AccountsDep
) -> Response:
    identifier = form_text(form, "identifier", limit=MAX_IDENTIFIER)
    password = str(form.get("password") or "")
    again: dict[str, Any] = {"contact_identifier": identifier}
    if len(password) > MAX_PASSWORD:
        return _profile(request, viewer, 400, contact_error=PASSWORD_TOO_LONG, **again)
    try:
        outcome = await request_contact_change(
            accounts,
            db,
            viewer.account.id,
            identifier,
            password,
            client=account_client(request),
            now=utcnow(),
        )
    except ValueError as exc:
        return _profile(request, viewer, 400, contact_error=str(exc), **again)
    if isinstance(outcome, Throttled):
        error = throttled_message(outcome)
        return _profile(request, viewer, 429, contact_error=error, **again)
    if isinstance(outcome, Locked):
        return _profile(request, viewer, 429, contact_error=locked_message(outcome), **again)
    if isinstance(outcome, LoginFailed):
        return _profile(request, viewer, 400, contact_error=outcome.message, **again)
    await send(request, outcome.outgoing, language=viewer.account.language)
    return _page(request, "contact_confirm.html", viewer, identifier=identifier)


@router.post("/profile/contact/confirm")
async def contact_confirm(
    request: Request, viewer: ViewerDep, form: CsrfForm, db: DbDep, accounts: AccountsDep
) -> Response:
    identifier = form_text(form, "identifier", limit=MAX_IDENTIFIER)
    code = form_text(form, "code", limit=32)
    again: dict[str, Any] = {"identifier": identifier}
    try:
        outcome = await confirm_contact_change(
            accounts, db, viewer.account.id, code, client=account_client(request), now=utcnow()
        )
    except ValueError as exc:
        return _page(request, "contact_confirm.html", viewer, 400, error=str(exc), **again)
    if isinstance(outcome, ContactChanged):
        await send(request, outcome.outgoing, language=viewer.account.language)
        return redirect(request, "/console/profile?saved=1")
    if outcome.reason == "unavailable":
        error = N_("That address or number cannot be used: it belongs to another account.")
    else:
        error = WRONG_CODE
    return _page(request, "contact_confirm.html", viewer, 400, error=error, **again)


# --- export and cancellation ---------------------------------------------------------------------


@router.get("/export")
async def export_page(request: Request, viewer: ViewerDep) -> Response:
    return _page(request, "export.html", viewer)


@router.post("/export")
async def export_download(
    request: Request, viewer: ViewerDep, form: CsrfForm, db: DbDep, accounts: AccountsDep
) -> Response:
    data = await export_account(
        accounts, db, viewer.account.id, client=account_client(request), now=utcnow()
    )
    return export_file(request, viewer.account.id, data)


def export_file(request: Request, account_id: int, data: object) -> Response:
    """An account's export as the JSON file the browser saves."""
    body = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    name = f"humangate-account-{account_id}.json"
    return download(request, body, media_type="application/json", filename=name)


@router.get("/cancel")
async def cancel_page(request: Request, viewer: ViewerDep) -> Response:
    return _page(request, "cancel.html", viewer)


@router.post("/cancel")
async def cancel_request(
    request: Request, viewer: ViewerDep, form: CsrfForm, db: DbDep, accounts: AccountsDep
) -> Response:
    outcome = await request_cancellation(
        accounts, db, viewer.account.id, client=account_client(request), now=utcnow()
    )
    if isinstance(outcome, Throttled):
        return _page(request, "cancel.html", viewer, 429, error=throttled_message(outcome))
    await send(request, outcome.outgoing, language=viewer.account.language)
    return _page(request, "cancel_confirm.html", viewer)


@router.post("/cancel/confirm")
async def cancel_confirm(
    request: Request, viewer: ViewerDep, form: CsrfForm, db: DbDep, accounts: AccountsDep
) -> Response:
    code = form_text(form, "code", limit=32)
    try:
        outcome = await confirm_cancellation(
            accounts, db, viewer.account.id, code, client=account_client(request), now=utcnow()
        )
    except ValueError as exc:
        return _page(request, "cancel_confirm.html", viewer, 400, error=str(exc))
    if isinstance(outcome, CodeRejected):
        return _page(request, "cancel_confirm.html", viewer, 400, error=WRONG_CODE)
    await send(request, outcome.outgoing, language=viewer.account.language)
    response = render(request, "cancelled.html", {"held_until": outcome.held_until})
    clear_session_cookie(request, response)
    return response


# --- sending a code again ------------------------------------------------------------------------


@router.post("/profile/contact/resend")
async def contact_resend(
    request: Request, viewer: ViewerDep, form: CsrfForm, db: DbDep, accounts: AccountsDep
) -> Response:
    """A new code for the open contact change; nothing says whether the identifier is free."""
    identifier = form_text(form, "identifier", limit=MAX_IDENTIFIER)
    notice = Phrase(
        "If %(identifier)s can be used and the change is still open, a new code is on its way; "
        "only the newest code works. If none comes, start the change again from your profile.",
        identifier=identifier,
    )
    client, now = account_client(request), utcnow()
    resent = resend_contact_code(
        accounts, db, viewer.account.id, identifier, client=client, now=now
    )
    return await _resent(
        request, viewer, "contact_confirm.html", resent, notice, identifier=identifier
    )


@router.post("/cancel/resend")
async def cancel_resend(
    request: Request, viewer: ViewerDep, form: CsrfForm, db: DbDep, accounts: AccountsDep
) -> Response:
    """Asking for the cancellation code again sends a new one that replaces the first."""
    client, now = account_client(request), utcnow()
    resent = request_cancellation(accounts, db, viewer.account.id, client=client, now=now)
    notice = N_("A new code is on its way. Only the newest code works.")
    return await _resent(request, viewer, "cancel_confirm.html", resent, notice)


async def _resent(
    request: Request,
    viewer: Viewer,
    template: str,
    resent: Awaitable[CodeSent | Throttled],
    notice: str,
    **again: Any,
) -> Response:
    """Send the code `resent` gives, and show `template` again with `notice`, or with why not
    (a malformed input, or when to ask again)."""
    try:
        outcome = await resent
    except ValueError as exc:
        return _page(request, template, viewer, 400, error=str(exc), **again)
    if isinstance(outcome, Throttled):
        return _page(request, template, viewer, 429, error=resend_wait_message(outcome), **again)
    await send(request, outcome.outgoing, language=viewer.account.language)
    return _page(request, template, viewer, notice=notice, **again)


@router.post("/profile/code-login")
async def code_login_submit(
    request: Request, viewer: ViewerDep, form: CsrfForm, db: DbDep, accounts: AccountsDep
) -> Response:
    value = form_text(form, "code_login", limit=10)
    if value not in ("", "on"):
        return _profile(request, viewer, 400, error=N_("The login-by-code setting is on or off."))
    await set_code_login(
        accounts,
        db,
        viewer.account.id,
        value == "on",
        client=account_client(request),
        now=utcnow(),
    )
    return redirect(request, "/console/profile?saved=code-login")
