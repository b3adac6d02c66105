"""The console's web plumbing: templates, security headers, viewer, CSRF, messages.

Every console page module (auth, account, units, admin, …) builds on these names, and on the
private modules beside it (`_cookies`, `_csrf`, `_outcomes`, `_codes`):

- `router`: the APIRouter all console routes hang on (prefix `/console`).
- `render(request, template, context, *, viewer=None, status=200)`: a page with the CSRF
  token, the viewer, the language and strict security headers; `page(request, template,
  status, **context)` is the same for the pages before login.
- `ViewerDep` / `AdminDep`: the logged-in `Viewer` (redirects to the login page when there is
  none) and the same for admins only (403 otherwise).
- `CsrfForm`: the POSTed form, after its `csrf` field was checked (403 page otherwise; `_csrf`).
- `DbDep`, `AccountsDep`, `account_client(request)`, `utcnow()`: what the account core needs.
- `send(request, outgoing, *, language=None)`: deliver `Outgoing` messages.
- `redirect(request, path)`, `download(request, body, ...)`: other answers, with the same headers.
- Refusals (`humangate.errors`: InvalidInput, AccessDenied, NotFound, …) raised by a page are
  answered with the console's error page by `humangate/http_errors.py`, which calls `render`.
- `page_language(request, viewer)`: the language a page speaks (see `_i18n`); `N_` and `Phrase`
  mark Python sentences that pages show, so the catalogue translates them.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.types import Scope

from humangate.accounts import AccountContext, AccountView, Client, authenticate
from humangate.api.assets import (
    COMPRESSIBLE,
    SHORT_CACHE,
    asset_response,
    compress_page,
    load_asset,
    widget_src,
)
from humangate.api.deps import ServicesDep, get_services
from humangate.console._agent import device_label
from humangate.console._cookies import (
    DEVICE_COOKIE,
    SESSION_COOKIE,
    read_cookie,
    set_device_cookie,
)
from humangate.console._csrf import CsrfForm as CsrfForm  # re-exported for the page modules
from humangate.console._csrf import csrf_token
from humangate.console._i18n import N_, Phrase, gettext_callables, pick_language, translate_filter
from humangate.console._messages import send as send  # re-exported: page modules use web.send
from humangate.errors import (
    AccessDenied,
    InvalidInput,
    LoginRequired,
    NotFound,
    TermsRequired,
)

PACKAGE = Path(__file__).resolve().parent.parent
TEMPLATES = PACKAGE / "templates" / "console"
STATIC = PACKAGE / "static" / "console"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'; "
    # The widget on the login and sign-up forms compares a worker's view of the browser with
    # the page's (humangate/risk/integrity.py); its worker is a blob of the widget's own code.
    "worker-src blob:"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

router = APIRouter(prefix="/console", include_in_schema=False)
# The logged-in navigation: (order, label, path, admins only); page modules add theirs.
NAV: list[tuple[int, str, str, bool]] = []


# Links shown only while a boolean setting is on (path -> the Settings field's name).
NAV_SETTINGS: dict[str, str] = {}


def add_nav(
    label: str, path: str, *, admin: bool = False, order: int = 50, setting: str | None = None
) -> None:
    """Show a link in the console's navigation (for admins only if `admin`; only while the
    boolean `setting` is on, if given), lowest order first.

    The owner's own pages (inbox, profile, sessions) use 80 and up, so work pages come first.
    """
    if setting is not None:
        NAV_SETTINGS[path] = setting
    if all(existing[2] != path for existing in NAV):
        NAV.append((order, label, path, admin))
        NAV.sort(key=lambda item: item[0])


environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(("html",), default=True),
    trim_blocks=True,
    lstrip_blocks=True,
    extensions=["jinja2.ext.i18n"],
)
# English unless render() passes the page's own callables; newstyle escapes the values.
environment.globals.update(gettext_callables("en"))
environment.globals["widget_src"] = widget_src
environment.newstyle_gettext = True  # type: ignore[attr-defined]
environment.filters["translate"] = translate_filter


@dataclass(frozen=True, slots=True, repr=False)
class Viewer:
    """The logged-in account, its session (and when that began) and the token its browser holds."""

    account: AccountView
    session_id: int
    token: str
    session_started: datetime

    @property
    def is_admin(self) -> bool:
        return self.account.role == "admin"

    def __repr__(self) -> str:
        return f"Viewer(account_id={self.account.id})"


# --- app state -----------------------------------------------------------------------------------


def utcnow() -> datetime:
    """The moment every account call receives (timezone-aware UTC)."""
    return datetime.now(UTC)


async def get_accounts(services: ServicesDep) -> AccountContext:
    # A coroutine, so that FastAPI resolves it on the event loop, not in its thread pool.
    return services.accounts


async def db_session(services: ServicesDep) -> AsyncIterator[AsyncSession]:
    """One database session per request; account functions commit it themselves."""
    async with services.sessions() as session:
        yield session


DbDep = Annotated[AsyncSession, Depends(db_session)]
AccountsDep = Annotated[AccountContext, Depends(get_accounts)]


def account_client(request: Request) -> Client:
    """What the account core may know about this browser: address, cookies and a device label."""
    return Client(
        ip=request.client.host if request.client else None,
        device_token=read_cookie(request, DEVICE_COOKIE),
        device_label=device_label(request.headers.get("user-agent", "")),
        session_token=read_cookie(request, SESSION_COOKIE),
    )


# --- viewer --------------------------------------------------------------------------------------


async def current_viewer(request: Request, db: DbDep, accounts: AccountsDep) -> Viewer:
    """The logged-in viewer; without a valid session, a 303 to /console/login?next=<this page>.

    Raises:
        LoginRequired: turned into the redirect by humangate/http_errors.py.
        TermsRequired: likewise, to the terms page, when the operator's terms changed.
    """
    token = read_cookie(request, SESSION_COOKIE)
    info = await authenticate(accounts, db, token, now=utcnow()) if token else None
    if info is None or token is None:
        raise LoginRequired(_back_path(request))
    viewer = Viewer(
        account=info.account,
        session_id=info.session.id,
        token=token,
        session_started=info.session.created_at,
    )
    request.state.viewer = viewer  # error pages show the navigation too
    if _terms_pending(request, viewer):
        raise TermsRequired(_back_path(request))
    if get_services(request).settings.billing and not viewer.is_admin:
        from humangate.console._billing import used_up  # imports this module

        # base.html's banner on every page: new challenges are refused.
        request.state.balance_used_up = await used_up(db, viewer.account.id)
    return viewer


def _back_path(request: Request) -> str:
    """Where to come back to after logging in or accepting terms: this page if it is a GET."""
    if request.method != "GET":
        return "/console"
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


# Pages an owner reaches before accepting new terms: the terms themselves, leaving, and the
# rights that must never depend on accepting (export, cancellation).
TERMS_EXEMPT = ("/console/terms", "/console/logout", "/console/export", "/console/cancel")


def _terms_pending(request: Request, viewer: Viewer) -> bool:
    """The operator's terms changed since this owner accepted them (admins are the operator)."""
    version = get_services(request).settings.terms_version
    if not version or viewer.is_admin or viewer.account.terms_version == version:
        return False
    return not request.url.path.startswith(TERMS_EXEMPT)


async def admin_viewer(viewer: Annotated[Viewer, Depends(current_viewer)]) -> Viewer:
    """The logged-in viewer if an admin.

    Raises:
        AccessDenied: for everyone else (a 403 page).
    """
    if not viewer.is_admin:
        raise AccessDenied(N_("This page is for the operators of this service."))
    return viewer


async def optional_viewer(request: Request, db: DbDep, accounts: AccountsDep) -> Viewer | None:
    """The logged-in viewer, or None (for pages such as the login page)."""
    try:
        return await current_viewer(request, db, accounts)
    except LoginRequired:
        return None


ViewerDep = Annotated[Viewer, Depends(current_viewer)]
AdminDep = Annotated[Viewer, Depends(admin_viewer)]
OptionalViewerDep = Annotated[Viewer | None, Depends(optional_viewer)]


def safe_next(value: object, default: str = "/console") -> str:
    """`value` if it is a path inside the console (no scheme, host or `//`), else `default`."""
    if not isinstance(value, str) or len(value) > 500:
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or "\\" in value or any(ord(ch) < 32 for ch in value):
        return default
    if value == "/console" or value.startswith(("/console/", "/console?")):
        return value
    return default


# --- forms ---------------------------------------------------------------------------------------


def form_text(form: FormData, name: str, *, limit: int = 1000) -> str:
    """A text field of the form, stripped; longer than `limit` raises InvalidInput (a 400 page)."""
    value = form.get(name)
    text = value.strip() if isinstance(value, str) else ""
    if len(text) > limit:
        message = Phrase(
            "The field %(name)s is too long (at most %(limit)s characters).",
            name=repr(name),
            limit=limit,
        )
        raise InvalidInput(message)
    return text


# --- responses -----------------------------------------------------------------------------


def nav_for(viewer: Viewer | None, settings: object = None) -> list[tuple[str, str]]:
    """The navigation links this viewer sees with these settings: (label, path)."""
    if viewer is None:
        return []
    return [
        (label, path)
        for _, label, path, admin in NAV
        if (viewer.is_admin or not admin)
        and (path not in NAV_SETTINGS or getattr(settings, NAV_SETTINGS[path], False))
    ]


def page_language(request: Request, viewer: Viewer | None = None) -> str:
    """The language of this page: the viewer's account's, else the browser's, else English.

    Without `viewer`, the one this request logged in as (error pages) is used, if any.
    """
    viewer = viewer or getattr(request.state, "viewer", None)
    account_language = viewer.account.language if viewer is not None else None
    return pick_language(account_language, request.headers.get("accept-language"))


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    viewer: Viewer | None = None,
    status: int = 200,
) -> HTMLResponse:
    """A console page from `templates/console/<template>`.

    The template also receives `request`, `viewer`, `csrf` (put it in a hidden field named
    `csrf` in every POST form), `lang` (see `page_language`), the gettext callables of that
    language, and `widget` (the console unit's site key, or None when the widget is off; include
    `_widget.html` in a form to protect it), and `terms` (the settings naming the operator's
    terms and privacy policy).
    """
    services = get_services(request)
    unit = services.console_unit
    lang = page_language(request, viewer)
    values = {
        "request": request,
        "viewer": viewer,
        "csrf": csrf_token(request),
        "widget": unit.sitekey if unit is not None else None,
        "nav": nav_for(viewer, services.settings),
        "terms": services.settings,
        **(context or {}),
        "lang": lang,
        **gettext_callables(lang),
    }
    html = environment.get_template(template).render(values)
    response = HTMLResponse(html, status_code=status)
    response.headers["Content-Language"] = lang
    finish(request, response)
    return response


def page(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """`render` for the pages before login (no viewer), the context given as keywords."""
    return render(request, template, context, status=status)


def finish(request: Request, response: Response) -> Response:
    """Add the security headers, and the device cookie if this request minted one; gzip a page."""
    response.headers.update(SECURITY_HEADERS)
    minted = getattr(request.state, "new_device", None)
    if minted:
        set_device_cookie(request, response, minted)
    if isinstance(response, HTMLResponse):
        compress_page(request, response)
    return response


def redirect(request: Request, path: str) -> RedirectResponse:
    """A 303 to a console path, with the security headers."""
    response = RedirectResponse(path, status_code=303)
    finish(request, response)
    return response


def download(request: Request, body: str, *, media_type: str, filename: str) -> Response:
    """A file to save as `filename` (an export, a CSV), with the security headers."""
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return finish(request, Response(body, media_type=media_type, headers=headers))


# --- installation --------------------------------------------------------------------------------


def install(app: FastAPI) -> None:
    """Mount the console's routes and its static files on `app` (humangate/http_errors.py
    answers the refusals they raise)."""
    app.include_router(router)

    async def _not_found(request: Request, path: str) -> Response:
        if not path:  # /console/
            return redirect(request, "/console")
        raise NotFound(N_("There is no such page in the console."))

    # Registered after every page, so it only catches what no page matched.
    app.add_api_route("/console/{path:path}", _not_found, methods=["GET"], include_in_schema=False)
    # Console assets (console.css, console.js, vendored htmx and uPlot) at /static/console/.
    app.mount("/static/console", CompressedStatic(directory=STATIC), name="console-static")


class CompressedStatic(StaticFiles):
    """Scripts and styles compressed once per version and revalidated by ETag."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        path = Path(full_path)
        if path.suffix not in COMPRESSIBLE or status_code != 200:
            return super().file_response(full_path, stat_result, scope, status_code)
        return asset_response(Request(scope), load_asset(path), cache_control=SHORT_CACHE)
