"""Asking for a one-time code by e-mail address or phone number: the same steps on every page
that sends one (sign-up resend, login by code, password reset, a blocked owner's access).

The widget is checked, the account core asked, the code sent. A refusal shows the page the
visitor came from again; the answer is the same whether or not an account is waiting.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from humangate.accounts import AccountContext, Client, CodeSent, Throttled
from humangate.console._i18n import Phrase
from humangate.console._outcomes import (
    MAX_IDENTIFIER,
    RESENT,
    WIDGET_FAILED,
    resend_wait_message,
    throttled_message,
)
from humangate.console.web import account_client, form_text, render, send
from humangate.console.widget import check_widget


class CodeRequest(Protocol):
    """An account core function that sends a code to an identifier (or answers as if it did)."""

    async def __call__(
        self,
        ctx: AccountContext,
        session: AsyncSession,
        identifier: str,
        *,
        client: Client,
        now: datetime,
    ) -> CodeSent | Throttled: ...


async def ask_for_code(
    request: Request,
    form: FormData,
    db: AsyncSession,
    accounts: AccountContext,
    ask: CodeRequest,
    *,
    came_from: str,
    waiting: str,
    now: datetime,
    resend: bool = False,
    notice: str | None = None,
    **context: object,
) -> Response:
    """Ask `ask` for a code to the form's `identifier`; answer with the page `waiting` for it.

    A refusal (widget, malformed identifier, throttle) shows `came_from` again. Asking again is
    resending (`resend`): the new code replaces the earlier one, the throttle sentence says
    when to ask next, and the notice says so. Else the notice is `notice`, or the core's.
    `context` goes to both pages (the identifier always does).
    """
    identifier = form_text(form, "identifier", limit=MAX_IDENTIFIER)
    again = {"identifier": identifier, **context}
    if not await check_widget(request, form):
        return render(request, came_from, {"error": WIDGET_FAILED, **again}, status=400)
    try:
        outcome = await ask(accounts, db, identifier, client=account_client(request), now=now)
    except ValueError as exc:
        return render(request, came_from, {"error": str(exc), **again}, status=400)
    if isinstance(outcome, Throttled):
        wait = resend_wait_message(outcome) if resend else throttled_message(outcome)
        return render(request, came_from, {"error": wait, **again}, status=429)
    await send(request, outcome.outgoing)
    if resend:
        notice = Phrase(RESENT, to=identifier)
    return render(request, waiting, {"notice": notice or outcome.message, **again})
