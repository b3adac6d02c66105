"""Asking for a one-time code by e-mail address or phone number: the same steps on every page
that sends one (sign-up resend, login by code, password reset, a blocked owner's access).

The widget is checked, the account core asked, the code sent. A refusal shows the page the
visitor came from again; the answer is the same whether or not an account is waiting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from humangate.accounts import AccountContext, Client, CodeRejected, CodeSent, Throttled
from humangate.console._i18n import Phrase
from humangate.console._outcomes import (
    MAX_IDENTIFIER,
    RESENT,
    WIDGET_FAILED,
    WRONG_CODE,
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


Outcome = TypeVar("Outcome")
Outcome_co = TypeVar("Outcome_co", covariant=True)


class CodeCheck(Protocol[Outcome_co]):
    """An account core function that acts on an identifier given the code sent to it."""

    async def __call__(
        self,
        ctx: AccountContext,
        session: AsyncSession,
        identifier: str,
        code: str,
        *,
        client: Client,
        now: datetime,
    ) -> Outcome_co | CodeRejected: ...


@dataclass(frozen=True, slots=True)
class CodePages:
    """One way of asking for a code: the core function `ask`, the page the request is sent
    from (`came_from`, shown again on a refusal) and the page `waiting` for the code.

    Asking again is resending (`resend`): the new code replaces the earlier one, the throttle
    sentence says when to ask next, and the notice says so. Else the notice is `notice`, or the
    core's.
    """

    ask: CodeRequest
    came_from: str
    waiting: str
    resend: bool = False
    notice: str | None = None


async def ask_for_code(
    request: Request,
    form: FormData,
    db: AsyncSession,
    accounts: AccountContext,
    pages: CodePages,
    *,
    now: datetime,
    **context: object,
) -> Response:
    """Ask `pages.ask` for a code to the form's `identifier`; answer with `pages.waiting`.

    A refusal (widget, malformed identifier, throttle) shows `pages.came_from` again.
    `context` goes to both pages (the identifier always does).
    """
    identifier = form_text(form, "identifier", limit=MAX_IDENTIFIER)
    again = {"identifier": identifier, **context}
    came_from = pages.came_from
    if not await check_widget(request, form):
        return render(request, came_from, {"error": WIDGET_FAILED, **again}, status=400)
    try:
        outcome = await pages.ask(accounts, db, identifier, client=account_client(request), now=now)
    except ValueError as exc:
        return render(request, came_from, {"error": str(exc), **again}, status=400)
    if isinstance(outcome, Throttled):
        wait = resend_wait_message(outcome) if pages.resend else throttled_message(outcome)
        return render(request, came_from, {"error": wait, **again}, status=429)
    await send(request, outcome.outgoing)
    notice = Phrase(RESENT, to=identifier) if pages.resend else pages.notice
    return render(request, pages.waiting, {"notice": notice or outcome.message, **again})


async def enter_code(
    request: Request,
    form: FormData,
    db: AsyncSession,
    accounts: AccountContext,
    check: CodeCheck[Outcome],
    *,
    page: str,
    now: datetime,
    **context: object,
) -> Outcome | Response:
    """Give `check` the form's `identifier` and `code`; its outcome, unless refused.

    A malformed identifier or a wrong (or expired) code answers with `page` again (400), which
    gets `context` and the identifier.
    """
    identifier = form_text(form, "identifier", limit=MAX_IDENTIFIER)
    code = form_text(form, "code", limit=32)
    again = {"identifier": identifier, **context}
    try:
        outcome = await check(
            accounts, db, identifier, code, client=account_client(request), now=now
        )
    except ValueError as exc:
        return render(request, page, {"error": str(exc), **again}, status=400)
    if isinstance(outcome, CodeRejected):
        return render(request, page, {"error": WRONG_CODE, **again}, status=400)
    return outcome
