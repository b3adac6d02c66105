"""The owner's inbox: notices from the operator and the account core, read or unread."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from humangate.accounts import list_inbox, mark_read
from humangate.console._i18n import N_
from humangate.console.web import (
    CsrfForm,
    DbDep,
    ViewerDep,
    add_nav,
    redirect,
    render,
    router,
    utcnow,
)
from humangate.errors import InvalidInput
from humangate.text import is_ascii_digits

add_nav(N_("Inbox"), "/console/inbox", order=80)

# What each message is about, as the inbox tags it in the page's language.
KIND_LABELS = {"account": N_("Account"), "security": N_("Security"), "notice": N_("Notice")}


@router.get("/inbox")
async def inbox_page(request: Request, viewer: ViewerDep, db: DbDep) -> Response:
    messages = await list_inbox(db, viewer.account.id, limit=100)
    return render(
        request, "inbox.html", {"messages": messages, "kind_labels": KIND_LABELS}, viewer=viewer
    )


@router.post("/inbox/read")
async def inbox_read(request: Request, viewer: ViewerDep, form: CsrfForm, db: DbDep) -> Response:
    raw = form.get("id")
    ids: list[int] | None = None
    if raw is not None:
        if not isinstance(raw, str) or not is_ascii_digits(raw) or len(raw) > 9:
            raise InvalidInput(N_("That is not a message of your inbox."))
        ids = [int(raw)]
    await mark_read(db, viewer.account.id, ids, now=utcnow())
    return redirect(request, "/console/inbox")
