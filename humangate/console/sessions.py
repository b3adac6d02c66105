"""The owner's sessions: where the account is logged in, and logging the others out."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from humangate.accounts import list_sessions, revoke_other_sessions, revoke_session
from humangate.console._i18n import N_, Phrase
from humangate.console.web import (
    AccountsDep,
    CsrfForm,
    DbDep,
    Viewer,
    ViewerDep,
    account_client,
    add_nav,
    form_text,
    render,
    router,
    utcnow,
)
from humangate.errors import InvalidInput, NotFound
from humangate.text import is_ascii_digits

add_nav(N_("Sessions"), "/console/sessions", order=82)


async def _sessions(
    request: Request, viewer: Viewer, db: DbDep, notice: str | None = None
) -> Response:
    rows = await list_sessions(db, viewer.account.id, current_token=viewer.token, now=utcnow())
    context = {"sessions": rows, "notice": notice}
    return render(request, "sessions.html", context, viewer=viewer)


@router.get("/sessions")
async def sessions_page(request: Request, viewer: ViewerDep, db: DbDep) -> Response:
    return await _sessions(request, viewer, db)


@router.post("/sessions/revoke-others")
async def sessions_revoke_others(
    request: Request, viewer: ViewerDep, form: CsrfForm, db: DbDep, accounts: AccountsDep
) -> Response:
    client = account_client(request)
    ended = await revoke_other_sessions(
        accounts, db, viewer.account.id, viewer.token, ip=client.ip, now=utcnow()
    )
    return await _sessions(
        request, viewer, db, notice=Phrase("%(ended)s other session(s) logged out.", ended=ended)
    )


@router.post("/sessions/revoke")
async def sessions_revoke(
    request: Request, viewer: ViewerDep, form: CsrfForm, db: DbDep, accounts: AccountsDep
) -> Response:
    raw = form_text(form, "id", limit=18)
    if not (is_ascii_digits(raw) and int(raw) < 2**31) or int(raw) == viewer.session_id:
        raise InvalidInput(N_("Choose another of your sessions (log out to end this one)."))
    client = account_client(request)
    gone = await revoke_session(
        accounts, db, viewer.account.id, int(raw), ip=client.ip, now=utcnow()
    )
    if not gone:
        raise NotFound(N_("That session has already ended."))
    return await _sessions(request, viewer, db, notice=N_("The session was logged out."))
