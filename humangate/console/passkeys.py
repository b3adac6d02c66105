"""Passkeys in the console: the owner's list (add, remove) and "Log in with a passkey".

The browser side is humangate/static/console/passkeys.js: it asks for options, calls
`navigator.credentials`, and posts the answer back as a form field. The ceremony endpoints answer
JSON (`{"error": code, "message": sentence}` with a 4xx when refused); the pages are HTML.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import timedelta
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from humangate.accounts import AccountBlocked, LoggedIn, limits
from humangate.accounts.passkeys import (
    MAX_CREDENTIAL,
    MAX_NAME,
    PasskeyRejected,
    RelyingParty,
    begin_login,
    begin_registration,
    finish_registration,
    list_passkeys,
    log_in_with_passkey,
    remove_passkey,
)
from humangate.api.deps import get_services
from humangate.console._cookies import set_login_cookies
from humangate.console._i18n import N_, translate
from humangate.console._outcomes import blocked_message
from humangate.console.web import (
    AccountsDep,
    CsrfForm,
    DbDep,
    Viewer,
    ViewerDep,
    account_client,
    add_nav,
    finish,
    form_text,
    page_language,
    redirect,
    render,
    router,
    safe_next,
    send,
    utcnow,
)
from humangate.netaddr import ip_prefix

add_nav(N_("Passkeys"), "/console/passkeys", order=83)

# Login options are cheap to ask for but each holds a challenge in the store for minutes.
LOGIN_OPTIONS_PER_MINUTE = 30
_MINUTE = timedelta(minutes=1)
NOTICES = {
    "added": N_("The passkey was added. You can now log in with it on this device."),
    "removed": N_("The passkey was removed. It no longer opens your account."),
}


def relying_party(request: Request) -> RelyingParty:
    """The console's host and origin: HUMANGATE_PUBLIC_URL's, else this request's.

    Browsers put the true origin in what they sign, so a forged Host header only makes the
    check fail; behind a proxy, set HUMANGATE_PUBLIC_URL.
    """
    configured = get_services(request).settings.public_url
    return RelyingParty.from_origin(configured or str(request.base_url))


def _json(request: Request, body: object, status: int = 200) -> JSONResponse:
    response = JSONResponse(body, status_code=status)
    finish(request, response)
    return response


def _refused(request: Request, code: str, message: str, status: int = 400) -> JSONResponse:
    """A JSON refusal for passkeys.js, its sentence in the page's language."""
    text = translate(message, page_language(request))
    return _json(request, {"error": code, "message": text}, status)


Checked = TypeVar("Checked")


async def _checked(
    request: Request, ceremony: Awaitable[Checked | PasskeyRejected]
) -> Checked | Response:
    """The outcome of a passkey ceremony's second step, or the JSON refusal: a malformed
    credential is `bad-request`, a rejected one says why."""
    try:
        outcome = await ceremony
    except ValueError as exc:
        return _refused(request, "bad-request", str(exc))
    if isinstance(outcome, PasskeyRejected):
        return _refused(request, outcome.reason, outcome.message)
    return outcome


def _options(request: Request, options_json: str) -> Response:
    response = Response(options_json, media_type="application/json")
    finish(request, response)
    return response


def _credential(form: Any) -> str:
    value = form.get("credential")
    return value if isinstance(value, str) and len(value) <= MAX_CREDENTIAL else ""


# --- the owner's passkeys ------------------------------------------------------------------------


@router.get("/passkeys")
async def passkeys_page(
    request: Request, viewer: ViewerDep, db: DbDep, accounts: AccountsDep
) -> Response:
    fresh = utcnow() - viewer.session_started <= accounts.policy.fresh_login
    notice = NOTICES.get(request.query_params.get("done", ""))
    context = await _passkeys_context(db, viewer, accounts, fresh=fresh, notice=notice)
    return render(request, "passkeys.html", context, viewer=viewer)


async def _passkeys_context(
    db: DbDep, viewer: Viewer, accounts: AccountsDep, *, fresh: bool, **extra: object
) -> dict[str, object]:
    """What the passkeys page shows: the owner's passkeys, the limits, and `extra`."""
    return {
        "passkeys": await list_passkeys(db, viewer.account.id),
        "fresh": fresh,
        "limit": accounts.policy.max_passkeys,
        "max_name": MAX_NAME,
        **extra,
    }


@router.post("/passkeys/options")
async def registration_options(
    request: Request, viewer: ViewerDep, db: DbDep, accounts: AccountsDep, form: CsrfForm
) -> Response:
    outcome = await begin_registration(
        accounts,
        db,
        viewer.account.id,
        relying_party(request),
        session_started=viewer.session_started,
        now=utcnow(),
    )
    if isinstance(outcome, PasskeyRejected):
        status = 403 if outcome.reason == "not-fresh" else 409
        return _refused(request, outcome.reason, outcome.message, status)
    return _options(request, outcome)


@router.post("/passkeys")
async def add_passkey(
    request: Request, viewer: ViewerDep, db: DbDep, accounts: AccountsDep, form: CsrfForm
) -> Response:
    name = form_text(form, "name", limit=MAX_NAME * 4)
    outcome = await _checked(
        request,
        finish_registration(
            accounts,
            db,
            viewer.account.id,
            _credential(form),
            name=name,
            rp=relying_party(request),
            client=account_client(request),
            now=utcnow(),
        ),
    )
    if isinstance(outcome, Response):
        return outcome
    await send(request, outcome.outgoing, language=viewer.account.language)
    return _json(request, {"redirect": "/console/passkeys?done=added"}, 201)


@router.post("/passkeys/{passkey_id}/delete")
async def delete_passkey(
    request: Request,
    passkey_id: int,
    viewer: ViewerDep,
    db: DbDep,
    accounts: AccountsDep,
    form: CsrfForm,
) -> Response:
    removed = await remove_passkey(
        db, viewer.account.id, passkey_id, client=account_client(request), now=utcnow()
    )
    if not removed:
        error = N_("There is no such passkey in your account.")
        context = await _passkeys_context(db, viewer, accounts, fresh=False, error=error)
        return render(request, "passkeys.html", context, viewer=viewer, status=404)
    return redirect(request, "/console/passkeys?done=removed")


# --- logging in ----------------------------------------------------------------------------------


@router.post("/login/passkey/options")
async def login_options(request: Request, accounts: AccountsDep, form: CsrfForm) -> Response:
    now = utcnow()
    network = ip_prefix(request.client.host if request.client else None)
    hits, retry = await limits.count(accounts.store, f"passkey-options:{network}", _MINUTE, now)
    if hits > LOGIN_OPTIONS_PER_MINUTE:
        response = _refused(
            request,
            "rate-limited",
            N_("Too many passkey prompts from your network; wait a minute."),
            429,
        )
        response.headers["Retry-After"] = str(retry)
        return response
    return _options(request, await begin_login(accounts, relying_party(request), now=now))


@router.post("/login/passkey")
async def login_with_passkey(
    request: Request, db: DbDep, accounts: AccountsDep, form: CsrfForm
) -> Response:
    next_path = safe_next(form.get("next"))
    outcome: LoggedIn | AccountBlocked | Response = await _checked(
        request,
        log_in_with_passkey(
            accounts,
            db,
            _credential(form),
            rp=relying_party(request),
            client=account_client(request),
            now=utcnow(),
        ),
    )
    if isinstance(outcome, Response):
        return outcome
    if isinstance(outcome, AccountBlocked):
        return _refused(request, "blocked", blocked_message(outcome), 403)
    return await _logged_in(request, outcome, next_path)


async def _logged_in(request: Request, outcome: LoggedIn, next_path: str) -> Response:
    await send(request, outcome.outgoing, language=outcome.account.language)
    response = _json(request, {"redirect": next_path})
    tokens = {"session_token": outcome.session_token, "device_token": outcome.device_token}
    set_login_cookies(request, response, **tokens)
    return response
