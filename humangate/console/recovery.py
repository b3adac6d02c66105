"""A forgotten password: ask for a code, then enter it with a new password (and be logged in).

Like the other code pages, nothing here says whether an account exists.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from humangate.accounts import CodeRejected, Locked, Throttled
from humangate.accounts.recovery import request_password_reset, reset_password
from humangate.console._i18n import N_
from humangate.console.auth import (
    MAX_IDENTIFIER,
    MAX_PASSWORD,
    WIDGET_FAILED,
    WRONG_CODE,
    enter_console,
    locked_message,
    throttled_message,
)
from humangate.console.web import (
    AccountsDep,
    CsrfForm,
    DbDep,
    OptionalViewerDep,
    account_client,
    form_text,
    redirect,
    render,
    router,
    send,
    utcnow,
)
from humangate.console.widget import check_widget


def _page(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    return render(request, template, context, status=status)


@router.get("/login/reset")
async def reset_page(request: Request, viewer: OptionalViewerDep) -> Response:
    if viewer is not None:
        return redirect(request, "/console/profile")
    return _page(request, "reset.html", identifier="")


@router.post("/login/reset")
async def reset_request(
    request: Request, form: CsrfForm, db: DbDep, accounts: AccountsDep
) -> Response:
    """Send a code (the first or a new one: the newest replaces the one before)."""
    identifier = form_text(form, "identifier", limit=MAX_IDENTIFIER)
    if not await check_widget(request, form):
        return _page(request, "reset.html", 400, identifier=identifier, error=WIDGET_FAILED)
    try:
        outcome = await request_password_reset(
            accounts, db, identifier, client=account_client(request), now=utcnow()
        )
    except ValueError as exc:
        return _page(request, "reset.html", 400, identifier=identifier, error=str(exc))
    if isinstance(outcome, Throttled):
        error = throttled_message(outcome)
        return _page(request, "reset.html", 429, identifier=identifier, error=error)
    await send(request, outcome.outgoing)
    return _page(request, "reset_confirm.html", identifier=identifier, notice=outcome.message)


@router.post("/login/reset/confirm")
async def reset_confirm(
    request: Request, form: CsrfForm, db: DbDep, accounts: AccountsDep
) -> Response:
    identifier = form_text(form, "identifier", limit=MAX_IDENTIFIER)
    code = form_text(form, "code", limit=32)
    password = str(form.get("password") or "")
    again: dict[str, Any] = {"identifier": identifier}
    if len(password) > MAX_PASSWORD:
        return _page(
            request, "reset_confirm.html", 400, error=N_("The password is too long."), **again
        )
    try:
        outcome = await reset_password(
            accounts, db, identifier, code, password, client=account_client(request), now=utcnow()
        )
    except ValueError as exc:
        return _page(request, "reset_confirm.html", 400, error=str(exc), **again)
    if isinstance(outcome, Locked):
        return _page(request, "reset_confirm.html", 429, error=locked_message(outcome), **again)
    if isinstance(outcome, CodeRejected):
        return _page(request, "reset_confirm.html", 400, error=WRONG_CODE, **again)
    return await enter_console(request, outcome, "/console")
