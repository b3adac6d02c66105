"""A forgotten password: ask for a code, then enter it with a new password (and be logged in).

Like the other code pages, nothing here says whether an account exists.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from humangate.accounts import CodeRejected, Locked
from humangate.accounts.recovery import request_password_reset, reset_password
from humangate.console._codes import CodePages, ask_for_code
from humangate.console._outcomes import (
    MAX_IDENTIFIER,
    MAX_PASSWORD,
    PASSWORD_TOO_LONG,
    WRONG_CODE,
    locked_message,
)
from humangate.console.auth import enter_console, guest_page
from humangate.console.web import (
    AccountsDep,
    CsrfForm,
    DbDep,
    OptionalViewerDep,
    account_client,
    form_text,
    page,
    router,
    utcnow,
)

CODE_PAGES = CodePages(request_password_reset, "reset.html", "reset_confirm.html")


@router.get("/login/reset")
async def reset_page(request: Request, viewer: OptionalViewerDep) -> Response:
    return guest_page(request, viewer, "reset.html", home="/console/profile")


@router.post("/login/reset")
async def reset_request(
    request: Request, form: CsrfForm, db: DbDep, accounts: AccountsDep
) -> Response:
    """Send a code (the first or a new one: the newest replaces the one before)."""
    return await ask_for_code(request, form, db, accounts, CODE_PAGES, now=utcnow())


@router.post("/login/reset/confirm")
async def reset_confirm(
    request: Request, form: CsrfForm, db: DbDep, accounts: AccountsDep
) -> Response:
    identifier = form_text(form, "identifier", limit=MAX_IDENTIFIER)
    code = form_text(form, "code", limit=32)
    password = str(form.get("password") or "")
    again: dict[str, Any] = {"identifier": identifier}
    if len(password) > MAX_PASSWORD:
        return page(request, "reset_confirm.html", 400, error=PASSWORD_TOO_LONG, **again)
    try:
        outcome = await reset_password(
            accounts, db, identifier, code, password, client=account_client(request), now=utcnow()
        )
    except ValueError as exc:
        return page(request, "reset_confirm.html", 400, error=str(exc), **again)
    if isinstance(outcome, Locked):
        return page(request, "reset_confirm.html", 429, error=locked_message(outcome), **again)
    if isinstance(outcome, CodeRejected):
        return page(request, "reset_confirm.html", 400, error=WRONG_CODE, **again)
    return await enter_console(request, outcome, "/console")
