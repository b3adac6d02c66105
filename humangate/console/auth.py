"""Signing up, logging in (password with step-up, or a one-time code) and logging out.

No page says whether an account exists: sign-up and code requests answer the same way for
known and unknown identifiers, and wrong codes are "wrong or expired" whatever the reason.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from humangate.accounts import (
    AccountBlocked,
    CodeRejected,
    Locked,
    LoggedIn,
    LoginFailed,
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
from humangate.api.deps import get_services
from humangate.console._codes import CodePages, ask_for_code, enter_code
from humangate.console._cookies import clear_session_cookie, set_device_cookie, set_login_cookies
from humangate.console._i18n import N_, browser_language
from humangate.console._outcomes import (
    MAX_IDENTIFIER,
    MAX_PASSWORD,
    PASSWORD_TOO_LONG,
    WIDGET_FAILED,
    WRONG_CODE,
    blocked_message,
    locked_message,
    resend_wait_message,
    throttled_message,
)
from humangate.console.web import (
    AccountsDep,
    CsrfForm,
    DbDep,
    OptionalViewerDep,
    Viewer,
    account_client,
    form_text,
    page,
    redirect,
    render,
    router,
    safe_next,
    send,
    utcnow,
)
from humangate.console.widget import check_widget

TERMS_NOT_ACCEPTED = N_("Accept the terms of service and the privacy policy to create an account.")
CODE_EXHAUSTED = N_("That code was entered wrongly too many times. Send a new code.")
LOGIN_EXPIRED = N_("This login has expired or was started in another browser. Log in again.")
# Asking for a code, first or again (asking again is resending: the new code replaces the earlier).
SIGN_UP_RESEND = CodePages(resend_sign_up_code, "confirm.html", "confirm.html", resend=True)
LOGIN_CODE = CodePages(request_login_code, "login_code.html", "login_code_confirm.html")
LOGIN_CODE_RESEND = dataclasses.replace(LOGIN_CODE, came_from=LOGIN_CODE.waiting, resend=True)


def logged_in(request: Request, outcome: LoggedIn, next_path: str) -> Response:
    """Redirect into the console with the new session (any earlier one is already ended).

    This sends nothing: a caller that may hold `outcome.outgoing` sends it first, or uses
    `enter_console`.
    """
    response = redirect(request, safe_next(next_path))
    tokens = {"session_token": outcome.session_token, "device_token": outcome.device_token}
    set_login_cookies(request, response, **tokens)
    return response


async def enter_console(request: Request, outcome: LoggedIn, next_path: str) -> Response:
    """Send the login's messages (the new-sign-in notice), then `logged_in`.

    A notice that could not be sent is logged and still waits in the inbox; the login stands.
    """
    await send(request, outcome.outgoing, language=outcome.account.language)
    return logged_in(request, outcome, next_path)


# --- sign-up -------------------------------------------------------------------------------------


@router.get("/signup")
async def signup_page(request: Request, viewer: OptionalViewerDep) -> Response:
    return guest_page(request, viewer, "signup.html", home="/console")


@router.post("/signup")
async def signup_submit(
    request: Request, form: CsrfForm, db: DbDep, accounts: AccountsDep
) -> Response:
    identifier = form_text(form, "identifier", limit=MAX_IDENTIFIER)
    password = str(form.get("password") or "")
    if len(password) > MAX_PASSWORD:
        return page(request, "signup.html", 400, identifier=identifier, error=PASSWORD_TOO_LONG)
    terms_version = get_services(request).settings.terms_version
    if terms_version and form.get("accept_terms") != "on":
        error = TERMS_NOT_ACCEPTED
        return page(request, "signup.html", 400, identifier=identifier, error=error)
    if not await check_widget(request, form):
        return page(request, "signup.html", 400, identifier=identifier, error=WIDGET_FAILED)
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
        return page(request, "signup.html", 400, identifier=identifier, error=str(exc))
    if isinstance(outcome, Throttled):
        error = throttled_message(outcome)
        return page(request, "signup.html", 429, identifier=identifier, error=error)
    await send(request, outcome.outgoing)
    return page(request, "confirm.html", identifier=identifier, notice=outcome.message)


@router.post("/signup/confirm")
async def signup_confirm(
    request: Request, form: CsrfForm, db: DbDep, accounts: AccountsDep
) -> Response:
    outcome = await enter_code(
        request, form, db, accounts, confirm_sign_up, page="confirm.html", now=utcnow()
    )
    if isinstance(outcome, Response):
        return outcome
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
    return _login_form(request, viewer, "login.html")


def _login_form(request: Request, viewer: Viewer | None, template: str) -> Response:
    """A login form, empty; a visitor already logged in goes on to `next` at once."""
    next_path = safe_next(request.query_params.get("next"))
    return guest_page(request, viewer, template, home=next_path, next=next_path)


def guest_page(
    request: Request, viewer: Viewer | None, template: str, *, home: str, **context: object
) -> Response:
    """A form for visitors not logged in, its identifier empty; a logged-in one goes `home`."""
    if viewer is not None:
        return redirect(request, home)
    return render(request, template, {"identifier": "", **context})


@router.post("/login")
async def login_submit(
    request: Request, form: CsrfForm, db: DbDep, accounts: AccountsDep
) -> Response:
    identifier = form_text(form, "identifier", limit=MAX_IDENTIFIER)
    next_path = safe_next(form.get("next"))
    password = str(form.get("password") or "")
    again: dict[str, Any] = {"identifier": identifier, "next": next_path}
    if len(password) > MAX_PASSWORD:
        return page(request, "login.html", 400, error=PASSWORD_TOO_LONG, **again)
    if not await check_widget(request, form):
        return page(request, "login.html", 400, error=WIDGET_FAILED, **again)
    try:
        outcome = await log_in(
            accounts, db, identifier, password, client=account_client(request), now=utcnow()
        )
    except ValueError as exc:
        return page(request, "login.html", 400, error=str(exc), **again)
    if isinstance(outcome, StepUpRequired):
        return await _step_up_page(request, outcome, next_path)
    if isinstance(outcome, LoginFailed):
        return page(request, "login.html", 401, error=outcome.message, **again)
    return await _login_answer(request, outcome, "login.html", again)


async def _login_answer(
    request: Request,
    outcome: LoggedIn | Locked | AccountBlocked,
    template: str,
    again: dict[str, Any],
) -> Response:
    """What every way of logging in answers alike: a login enters the console (then `next`), a
    lockout shows `template` again with how long it lasts, a blocked account says why."""
    if isinstance(outcome, LoggedIn):
        return await enter_console(request, outcome, again["next"])
    if isinstance(outcome, Locked):
        return page(request, template, 429, error=locked_message(outcome), **again)
    return blocked_page(request, outcome, again["identifier"])


async def _step_up_page(request: Request, outcome: StepUpRequired, next_path: str) -> Response:
    await send(request, outcome.outgoing)
    notice = N_(
        "This device or network is new to your account: we sent a code to confirm it is you."
    )
    if outcome.resend_after is not None:
        notice = N_(
            "This device or network is new to your account: enter the code we sent earlier."
        )
    response = page(
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
        return page(request, "step_up.html", 400, error=str(exc), **again)
    if not isinstance(outcome, CodeRejected):
        return await _login_answer(request, outcome, "step_up.html", again)
    if outcome.reason in ("expired", "unavailable"):
        return page(request, "login.html", 400, identifier="", next=next_path, error=LOGIN_EXPIRED)
    if outcome.reason == "exhausted":
        return page(request, "step_up.html", 400, error=CODE_EXHAUSTED, **again)
    return page(request, "step_up.html", 400, error=WRONG_CODE, **again)


# --- login by code -------------------------------------------------------------------------------


@router.get("/login/code")
async def code_login_page(request: Request, viewer: OptionalViewerDep) -> Response:
    return _login_form(request, viewer, "login_code.html")


@router.post("/login/code")
async def code_login_request(
    request: Request, form: CsrfForm, db: DbDep, accounts: AccountsDep
) -> Response:
    next_path = safe_next(form.get("next"))
    return await ask_for_code(request, form, db, accounts, LOGIN_CODE, now=utcnow(), next=next_path)


@router.post("/login/code/confirm")
async def code_login_confirm(
    request: Request, form: CsrfForm, db: DbDep, accounts: AccountsDep
) -> Response:
    next_path, template = safe_next(form.get("next")), "login_code_confirm.html"
    outcome: LoggedIn | Locked | AccountBlocked | Response = await enter_code(
        request, form, db, accounts, log_in_with_code, page=template, now=utcnow(), next=next_path
    )
    if isinstance(outcome, Response):
        return outcome
    again = {"identifier": form_text(form, "identifier", limit=MAX_IDENTIFIER), "next": next_path}
    return await _login_answer(request, outcome, template, again)


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

STEP_UP_RESENT = N_(
    "A new code is on its way to the address or number you logged in with. "
    "Only the newest code works."
)


@router.post("/signup/resend")
async def signup_resend(
    request: Request, form: CsrfForm, db: DbDep, accounts: AccountsDep
) -> Response:
    return await ask_for_code(request, form, db, accounts, SIGN_UP_RESEND, now=utcnow())


@router.post("/login/code/resend")
async def code_login_resend(
    request: Request, form: CsrfForm, db: DbDep, accounts: AccountsDep
) -> Response:
    pages, next_path = LOGIN_CODE_RESEND, safe_next(form.get("next"))
    return await ask_for_code(request, form, db, accounts, pages, now=utcnow(), next=next_path)


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
        return page(request, "login.html", 400, identifier="", next=next_path, error=LOGIN_EXPIRED)
    if isinstance(outcome, Throttled):
        return page(request, "step_up.html", 429, error=resend_wait_message(outcome), **again)
    await send(request, outcome.outgoing)
    return page(request, "step_up.html", notice=STEP_UP_RESENT, **again)


# --- a blocked account ---------------------------------------------------------------------------


def blocked_page(request: Request, outcome: AccountBlocked, identifier: str) -> Response:
    """The answer to right credentials on a suspended or banned account: why, and the way to
    its data export and cancellation (`console/blocked.py`), which a blocked owner keeps."""
    context = {"error": blocked_message(outcome), "identifier": identifier}
    return render(request, "login_blocked.html", context, status=403)
