"""Signing up, logging in (password with step-up, or a one-time code) and logging out.

No page says whether an account exists: sign-up and code requests answer the same way for
known and unknown identifiers, and wrong codes are "wrong or expired" whatever the reason.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from humangate.accounts import (
    AccountBlocked,
    AccountContext,
    CodeRejected,
    Locked,
    LoggedIn,
    StepUpRequired,
    Throttled,
    complete_step_up,
    confirm_sign_up,
    log_in,
    log_in_with_code,
    log_out,
    request_login_code,
    resend_sign_up_code,
    resend_step_up_code,
    sign_up,
    update_profile,
)
from humangate.console._i18n import N_, Phrase, browser_language
from humangate.console.web import (
    AccountsDep,
    CsrfForm,
    DbDep,
    OptionalViewerDep,
    account_client,
    clear_session_cookie,
    form_text,
    redirect,
    render,
    router,
    safe_next,
    send,
    set_device_cookie,
    set_session_cookie,
    utcnow,
)
from humangate.console.widget import check_widget
from humangate.services import get_services

MAX_IDENTIFIER = 320
MAX_PASSWORD = 1024
WIDGET_FAILED = N_("The human verification did not pass. Complete it and send the form again.")
WRONG_CODE = N_("The code is wrong or has expired. Check it, or ask for a new one.")
TERMS_NOT_ACCEPTED = N_("Accept the terms of service and the privacy policy to create an account.")
CODE_EXHAUSTED = N_("That code was entered wrongly too many times. Send a new code.")
LOGIN_EXPIRED = N_("This login has expired or was started in another browser. Log in again.")


def minutes(seconds: int) -> int:
    return max(1, -(-seconds // 60))


def locked_message(outcome: Locked) -> str:
    return Phrase(
        "%(message)s (about %(minutes)s minutes)",
        message=Phrase(outcome.message),
        minutes=minutes(outcome.retry_after),
    )


def throttled_message(outcome: Throttled) -> str:
    return Phrase(
        "Too many codes were sent to this address or number. "
        "Ask again in about %(minutes)s minutes.",
        minutes=minutes(outcome.retry_after),
    )


BLOCKED = {
    "suspended": N_("This account is suspended."),
    "banned": N_("This account is banned."),
}


def blocked_message(outcome: AccountBlocked) -> str:
    known = BLOCKED.get(outcome.status)
    status = (
        Phrase(known) if known else Phrase("This account is %(status)s.", status=outcome.status)
    )
    if not outcome.reason:
        return status
    return Phrase(
        "%(blocked)s Reason given by the operator: %(reason)s",
        blocked=status,
        reason=outcome.reason,
    )


def logged_in(request: Request, outcome: LoggedIn, next_path: str) -> Response:
    """Redirect into the console with the new session (any earlier one is already ended).

    This sends nothing: a caller that may hold `outcome.outgoing` sends it first, or uses
    `enter_console`.
    """
    response = redirect(request, safe_next(next_path))
    set_session_cookie(request, response, outcome.session_token)
    set_device_cookie(request, response, outcome.device_token)
    return response


async def enter_console(request: Request, outcome: LoggedIn, next_path: str) -> Response:
    """Send the login's messages (the new-sign-in notice), then `logged_in`.

    A notice that could not be sent is logged and still waits in the inbox; the login stands.
    """
    await send(request, outcome.outgoing, language=outcome.account.language)
    return logged_in(request, outcome, next_path)


def _page(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    return render(request, template, context, status=status)


# --- sign-up -------------------------------------------------------------------------------------


@router.get("/signup")
async def signup_page(request: Request, viewer: OptionalViewerDep) -> Response:
    if viewer is not None:
        return redirect(request, "/console")
    return _page(request, "signup.html", identifier="")


@router.post("/signup")
async def signup_submit(
    request: Request, form: CsrfForm, db: DbDep, accounts: AccountsDep
) -> Response:
    identifier = form_text(form, "identifier", limit=MAX_IDENTIFIER)
    password = str(form.get("password") or "")
    if len(password) > MAX_PASSWORD:
        error = N_("The password is too long.")
        return _page(request, "signup.html", 400, identifier=identifier, error=error)
    terms_version = get_services(request).settings.terms_version
    if terms_version and form.get("accept_terms") != "on":
        error = TERMS_NOT_ACCEPTED
        return _page(request, "signup.html", 400, identifier=identifier, error=error)
    if not await check_widget(request, form):
        return _page(request, "signup.html", 400, identifier=identifier, error=WIDGET_FAILED)
    try:
        outcome = await sign_up(
            accounts,
            db,
            identifier,
            password,
            client=account_client(request),
            now=utcnow(),
            terms_version=terms_version or None,
        )
    except ValueError as exc:
        return _page(request, "signup.html", 400, identifier=identifier, error=str(exc))
    if isinstance(outcome, Throttled):
        error = throttled_message(outcome)
        return _page(request, "signup.html", 429, identifier=identifier, error=error)
    await send(request, outcome.outgoing)
    return _page(request, "confirm.html", identifier=identifier, notice=outcome.message)


@router.post("/signup/confirm")
async def signup_confirm(
    request: Request, form: CsrfForm, db: DbDep, accounts: AccountsDep
) -> Response:
    identifier = form_text(form, "identifier", limit=MAX_IDENTIFIER)
    code = form_text(form, "code", limit=32)
    try:
        outcome = await confirm_sign_up(
            accounts, db, identifier, code, client=account_client(request), now=utcnow()
        )
    except ValueError as exc:
        return _page(request, "confirm.html", 400, identifier=identifier, error=str(exc))
    if isinstance(outcome, CodeRejected):
        return _page(request, "confirm.html", 400, identifier=identifier, error=WRONG_CODE)
    outcome = await adopt_browser_language(request, db, accounts, outcome)
    return await enter_console(request, outcome, "/console")


async def adopt_browser_language(
    request: Request, db: DbDep, accounts: AccountsDep, outcome: LoggedIn
) -> LoggedIn:
    """A new account speaks the console language its browser asked for (else stays English)."""
    language = browser_language(request.headers.get("accept-language"))
    if language is None or language == outcome.account.language:
        return outcome
    account = await update_profile(
        accounts,
        db,
        outcome.account.id,
        language=language,
        client=account_client(request),
        now=utcnow(),
    )
    return dataclasses.replace(outcome, account=account)


# --- password login and step-up ------------------------------------------------------------------


@router.get("/login")
async def login_page(request: Request, viewer: OptionalViewerDep) -> Response:
    next_path = safe_next(request.query_params.get("next"))
    if viewer is not None:
        return redirect(request, next_path)
    return _page(request, "login.html", identifier="", next=next_path)


@router.post("/login")
async def login_submit(
    request: Request, form: CsrfForm, db: DbDep, accounts: AccountsDep
) -> Response:
    identifier = form_text(form, "identifier", limit=MAX_IDENTIFIER)
    next_path = safe_next(form.get("next"))
    password = str(form.get("password") or "")
    again: dict[str, Any] = {"identifier": identifier, "next": next_path}
    if len(password) > MAX_PASSWORD:
        return _page(request, "login.html", 400, error=N_("The password is too long."), **again)
    if not await check_widget(request, form):
        return _page(request, "login.html", 400, error=WIDGET_FAILED, **again)
    try:
        outcome = await log_in(
            accounts, db, identifier, password, client=account_client(request), now=utcnow()
        )
    except ValueError as exc:
        return _page(request, "login.html", 400, error=str(exc), **again)
    if isinstance(outcome, LoggedIn):
        return await enter_console(request, outcome, next_path)
    if isinstance(outcome, StepUpRequired):
        return await _step_up_page(request, outcome, next_path)
    if isinstance(outcome, Locked):
        return _page(request, "login.html", 429, error=locked_message(outcome), **again)
    if isinstance(outcome, AccountBlocked):
        return blocked_page(request, outcome, identifier)
    return _page(request, "login.html", 401, error=outcome.message, **again)


async def _step_up_page(request: Request, outcome: StepUpRequired, next_path: str) -> Response:
    await send(request, outcome.outgoing)
    notice = N_(
        "This device or network is new to your account: we sent a code to confirm it is you."
    )
    if outcome.resend_after is not None:
        notice = N_(
            "This device or network is new to your account: enter the code we sent earlier."
        )
    response = _page(
        request, "step_up.html", token=outcome.step_up_token, next=next_path, notice=notice
    )
    set_device_cookie(request, response, outcome.device_token)
    return response


@router.post("/login/step-up")
async def step_up_submit(
    request: Request, form: CsrfForm, db: DbDep, accounts: AccountsDep
) -> Response:
    token = form_text(form, "token", limit=200)
    code = form_text(form, "code", limit=32)
    next_path = safe_next(form.get("next"))
    again: dict[str, Any] = {"token": token, "next": next_path}
    try:
        outcome = await complete_step_up(
            accounts, db, token, code, client=account_client(request), now=utcnow()
        )
    except ValueError as exc:
        return _page(request, "step_up.html", 400, error=str(exc), **again)
    if isinstance(outcome, LoggedIn):
        return await enter_console(request, outcome, next_path)
    if isinstance(outcome, Locked):
        return _page(request, "step_up.html", 429, error=locked_message(outcome), **again)
    if outcome.reason in ("expired", "unavailable"):
        return _page(request, "login.html", 400, identifier="", next=next_path, error=LOGIN_EXPIRED)
    if outcome.reason == "exhausted":
        return _page(request, "step_up.html", 400, error=CODE_EXHAUSTED, **again)
    return _page(request, "step_up.html", 400, error=WRONG_CODE, **again)


# --- login by code -------------------------------------------------------------------------------


@router.get("/login/code")
async def code_login_page(request: Request, viewer: OptionalViewerDep) -> Response:
    next_path = safe_next(request.query_params.get("next"))
    if viewer is not None:
        return redirect(request, next_path)
    return _page(request, "login_code.html", identifier="", next=next_path)


@router.post("/login/code")
async def code_login_request(
    request: Request, form: CsrfForm, db: DbDep, accounts: AccountsDep
) -> Response:
    return await _send_login_code(request, form, db, accounts, resend=False)


async def _send_login_code(
    request: Request, form: FormData, db: AsyncSession, accounts: AccountContext, *, resend: bool
) -> Response:
    """Ask for a login code, first from the login-code page, or again from the page that waits
    for it (asking again is resending: the new code replaces the earlier one). A refusal shows
    the page the visitor came from."""
    identifier = form_text(form, "identifier", limit=MAX_IDENTIFIER)
    again: dict[str, Any] = {"identifier": identifier, "next": safe_next(form.get("next"))}
    came_from = "login_code_confirm.html" if resend else "login_code.html"
    if not await check_widget(request, form):
        return _page(request, came_from, 400, error=WIDGET_FAILED, **again)
    try:
        outcome = await request_login_code(
            accounts, db, identifier, client=account_client(request), now=utcnow()
        )
    except ValueError as exc:
        return _page(request, came_from, 400, error=str(exc), **again)
    if isinstance(outcome, Throttled):
        wait = resend_wait_message(outcome) if resend else throttled_message(outcome)
        return _page(request, came_from, 429, error=wait, **again)
    await send(request, outcome.outgoing)
    notice = Phrase(RESENT, to=identifier) if resend else outcome.message
    return _page(request, "login_code_confirm.html", notice=notice, **again)


@router.post("/login/code/confirm")
async def code_login_confirm(
    request: Request, form: CsrfForm, db: DbDep, accounts: AccountsDep
) -> Response:
    identifier = form_text(form, "identifier", limit=MAX_IDENTIFIER)
    code = form_text(form, "code", limit=32)
    next_path = safe_next(form.get("next"))
    again: dict[str, Any] = {"identifier": identifier, "next": next_path}
    try:
        outcome = await log_in_with_code(
            accounts, db, identifier, code, client=account_client(request), now=utcnow()
        )
    except ValueError as exc:
        return _page(request, "login_code_confirm.html", 400, error=str(exc), **again)
    if isinstance(outcome, LoggedIn):
        return await enter_console(request, outcome, next_path)
    if isinstance(outcome, Locked):
        error = locked_message(outcome)
        return _page(request, "login_code_confirm.html", 429, error=error, **again)
    if isinstance(outcome, AccountBlocked):
        return blocked_page(request, outcome, identifier)
    return _page(request, "login_code_confirm.html", 400, error=WRONG_CODE, **again)


# --- logout --------------------------------------------------------------------------------------


@router.post("/logout")
async def logout(request: Request, form: CsrfForm, db: DbDep, accounts: AccountsDep) -> Response:
    client = account_client(request)
    await log_out(accounts, db, client.session_token, ip=client.ip, now=utcnow())
    response = redirect(request, "/console/login")
    clear_session_cookie(request, response)
    return response


# --- sending a code again ------------------------------------------------------------------------
# Each waiting page has a "Send a new code" form. A new code replaces the one sent before, and the
# answer is the same whether or not an account is waiting: only the outbox differs.

RESENT = N_("If %(to)s is waiting for a code, a new one is on its way. Only the newest code works.")
STEP_UP_RESENT = N_(
    "A new code is on its way to the address or number you logged in with. "
    "Only the newest code works."
)


def resend_wait_message(outcome: Throttled) -> str:
    """When a throttled resend may be asked for again, in seconds while that is under 2 minutes."""
    wait = outcome.retry_after
    if wait < 120:
        return Phrase(
            "A code was sent to this address or number a moment ago. "
            "Ask again in %(seconds)s seconds.",
            seconds=wait,
        )
    return Phrase(
        "A code was sent to this address or number a moment ago. "
        "Ask again in about %(minutes)s minutes.",
        minutes=minutes(wait),
    )


@router.post("/signup/resend")
async def signup_resend(
    request: Request, form: CsrfForm, db: DbDep, accounts: AccountsDep
) -> Response:
    identifier = form_text(form, "identifier", limit=MAX_IDENTIFIER)
    if not await check_widget(request, form):
        return _page(request, "confirm.html", 400, identifier=identifier, error=WIDGET_FAILED)
    try:
        outcome = await resend_sign_up_code(
            accounts, db, identifier, client=account_client(request), now=utcnow()
        )
    except ValueError as exc:
        return _page(request, "confirm.html", 400, identifier=identifier, error=str(exc))
    if isinstance(outcome, Throttled):
        error = resend_wait_message(outcome)
        return _page(request, "confirm.html", 429, identifier=identifier, error=error)
    await send(request, outcome.outgoing)
    notice = Phrase(RESENT, to=identifier)
    return _page(request, "confirm.html", identifier=identifier, notice=notice)


@router.post("/login/code/resend")
async def code_login_resend(
    request: Request, form: CsrfForm, db: DbDep, accounts: AccountsDep
) -> Response:
    return await _send_login_code(request, form, db, accounts, resend=True)


@router.post("/login/step-up/resend")
async def step_up_resend(
    request: Request, form: CsrfForm, db: DbDep, accounts: AccountsDep
) -> Response:
    token = form_text(form, "token", limit=200)
    next_path = safe_next(form.get("next"))
    again: dict[str, Any] = {"token": token, "next": next_path}
    outcome = await resend_step_up_code(
        accounts, db, token, client=account_client(request), now=utcnow()
    )
    if isinstance(outcome, CodeRejected):
        return _page(request, "login.html", 400, identifier="", next=next_path, error=LOGIN_EXPIRED)
    if isinstance(outcome, Throttled):
        return _page(request, "step_up.html", 429, error=resend_wait_message(outcome), **again)
    await send(request, outcome.outgoing)
    return _page(request, "step_up.html", notice=STEP_UP_RESENT, **again)


# --- a blocked account ---------------------------------------------------------------------------


def blocked_page(request: Request, outcome: AccountBlocked, identifier: str) -> Response:
    """The answer to right credentials on a suspended or banned account: why, and the way to
    its data export and cancellation (`console/blocked.py`), which a blocked owner keeps."""
    context = {"error": blocked_message(outcome), "identifier": identifier}
    return render(request, "login_blocked.html", context, status=403)
