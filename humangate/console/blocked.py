"""A suspended or banned owner's data rights: a one-time code opens their export and their
cancellation, and no other page (see `accounts.blocked`).

The access lives in its own cookie, scoped to /console/blocked, which no other page reads; the
code request answers the same way for any identifier.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from humangate.accounts import (
    AccountView,
    blocked_account,
    cancel_blocked_account,
    end_blocked_access,
    export_blocked_account,
    open_blocked_access,
    request_blocked_code,
)
from humangate.accounts.blocked import ACCESS_TTL, BAN_HOLD
from humangate.console._codes import CodePages, ask_for_code, enter_code
from humangate.console._cookies import secure_cookies
from humangate.console._i18n import N_
from humangate.console.account import export_file
from humangate.console.web import (
    AccountsDep,
    CsrfForm,
    DbDep,
    account_client,
    page,
    redirect,
    router,
    send,
    utcnow,
)

COOKIE = "hg_blocked"
PATH = "/console/blocked"
SENT = N_(
    "If this address or number belongs to a suspended or banned account, a code is on its way."
)
GONE = N_("This access has ended or expired. Ask for a new code to continue.")
NOT_CONFIRMED = N_("Tick the box to confirm that the account should be cancelled for good.")
CODE_PAGES = CodePages(request_blocked_code, "blocked.html", "blocked_code.html", notice=SENT)


def _token(request: Request) -> str | None:
    value = request.cookies.get(COOKIE)
    return value if value and len(value) <= 128 else None


def _forget(request: Request, response: Response) -> Response:
    response.delete_cookie(
        COOKIE, httponly=True, samesite="strict", secure=secure_cookies(request), path=PATH
    )
    return response


def _hold_days(accounts: AccountsDep, account: AccountView) -> int:
    """How long the identifiers stay held after a cancellation: a ban's hold is longer."""
    return BAN_HOLD.days if account.status == "banned" else accounts.policy.hold_period.days


def _gone(request: Request) -> Response:
    return _forget(request, page(request, "blocked.html", 403, identifier="", error=GONE))


@router.get("/blocked")
async def blocked_page(request: Request) -> Response:
    return page(request, "blocked.html", identifier="")


@router.post("/blocked")
async def blocked_request(
    request: Request, form: CsrfForm, db: DbDep, accounts: AccountsDep
) -> Response:
    return await ask_for_code(request, form, db, accounts, CODE_PAGES, now=utcnow())


@router.post("/blocked/confirm")
async def blocked_confirm(
    request: Request, form: CsrfForm, db: DbDep, accounts: AccountsDep
) -> Response:
    outcome = await enter_code(
        request, form, db, accounts, open_blocked_access, page="blocked_code.html", now=utcnow()
    )
    if isinstance(outcome, Response):
        return outcome
    response = redirect(request, f"{PATH}/account")
    response.set_cookie(
        COOKIE,
        outcome.token,
        max_age=int(ACCESS_TTL.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request),
        path=PATH,
    )
    return response


@router.get("/blocked/account")
async def blocked_account_page(request: Request, db: DbDep, accounts: AccountsDep) -> Response:
    account = await blocked_account(accounts, db, _token(request))
    if account is None:
        return _gone(request)
    hold_days = _hold_days(accounts, account)
    return page(request, "blocked_account.html", account=account, hold_days=hold_days)


@router.post("/blocked/export")
async def blocked_export(
    request: Request, form: CsrfForm, db: DbDep, accounts: AccountsDep
) -> Response:
    token = _token(request)
    account = await blocked_account(accounts, db, token)
    data = await export_blocked_account(
        accounts, db, token, client=account_client(request), now=utcnow()
    )
    if account is None or data is None:
        return _gone(request)
    return export_file(request, account.id, data)


@router.post("/blocked/cancel")
async def blocked_cancel(
    request: Request, form: CsrfForm, db: DbDep, accounts: AccountsDep
) -> Response:
    token = _token(request)
    account = await blocked_account(accounts, db, token)
    if account is None:
        return _gone(request)
    if form.get("confirm") != "yes":
        context = {"account": account, "hold_days": _hold_days(accounts, account)}
        return page(request, "blocked_account.html", 400, error=NOT_CONFIRMED, **context)
    done = await cancel_blocked_account(
        accounts, db, token, client=account_client(request), now=utcnow()
    )
    if done is None:
        return _gone(request)
    await send(request, done.outgoing)
    return _forget(request, page(request, "cancelled.html", held_until=done.held_until))


@router.post("/blocked/end")
async def blocked_end(request: Request, form: CsrfForm, accounts: AccountsDep) -> Response:
    await end_blocked_access(accounts, _token(request))
    return _forget(request, redirect(request, "/console/login"))
