"""An operator's money actions on an owner's balance: a manual top-up, a signed adjustment (with
a reason) and a refund, each audited (`billing.top-up`, `billing.adjustment`, `billing.refund`)
and posted through the ledger (docs/billing.md, "Top-ups, vouchers and payments").

Each action carries a request id that the form (or the command line) chose before it was sent:
the ledger's reference is built from it, so a form posted twice, or a command retried after a
lost answer, moves the money once. The second attempt answers `False` and records nothing.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Literal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from humangate.accounts import audit
from humangate.billing import ledger
from humangate.billing.plans import open_billing_account
from humangate.db.models import Account
from humangate.errors import InvalidInput, NotFound

OperatorAction = Literal["top-up", "adjustment", "refund"]
MAX_MEMO = 500
_AUDITED: dict[OperatorAction, audit.AuditAction] = {
    "top-up": "billing.top-up",
    "adjustment": "billing.adjustment",
    "refund": "billing.refund",
}
_REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")


def new_request_id() -> str:
    """A request id for one form or one command: 128 random bits."""
    return secrets.token_urlsafe(16)


def check_request_id(request_id: str) -> str:
    if not isinstance(request_id, str) or not _REQUEST_ID.fullmatch(request_id):
        raise InvalidInput(
            "A request id is 8 to 64 letters, digits, dashes or underscores.",
            code="bad-request-id",
        )
    return request_id


def ledger_actor(actor: audit.Actor) -> str:
    """The ledger's actor for an operator: `operator:<admin id>`, or `operator` at the shell."""
    return "operator" if actor.id is None else f"operator:{actor.id}"


def _check_memo(action: OperatorAction, memo: str) -> str:
    memo = memo.strip() if isinstance(memo, str) else ""
    if len(memo) > MAX_MEMO:
        raise InvalidInput(
            f"A reason or memo is at most {MAX_MEMO} characters.",
            code="memo-too-long",
            params={"max": MAX_MEMO},
        )
    if action == "adjustment" and not memo:
        raise InvalidInput("An adjustment needs a reason.", code="reason-required")
    return memo


async def apply(
    session: AsyncSession,
    action: OperatorAction,
    account_id: int,
    amount: int,
    *,
    request_id: str,
    actor: audit.Actor,
    now: datetime,
    memo: str = "",
    ip_prefix: str | None = None,
) -> bool:
    """Top up, adjust or refund the owner `account_id`'s balance by `amount` minor units (an
    adjustment's is signed), audited in the same transaction; commits.

    Args:
        request_id: chosen before the first attempt (`new_request_id`); an attempt that repeats
            it (same action) changes nothing.
        memo: shown on the owner's statement; an adjustment's reason, which it requires.

    Returns:
        True if the money moved now, False if this request id had moved it before.

    Raises:
        InvalidInput: a bad amount, memo or request id, or a refund above the cash balance.
        NotFound: no such account (`unknown-account`).
    """
    if action == "adjustment":
        amount = ledger.check_adjustment(amount)
    else:
        amount = ledger.check_amount(amount, named=f"The amount of a {action}")
    memo = _check_memo(action, memo)
    reference = f"{action}:{check_request_id(request_id)}"
    if await session.get(Account, account_id) is None:
        raise NotFound(
            f"There is no account #{account_id}.",
            code="unknown-account",
            params={"account": account_id},
        )
    await open_billing_account(session, account_id, now=now)
    move = ledger.adjust if action == "adjustment" else ledger.top_up
    move = ledger.refund if action == "refund" else move
    try:
        moved = await move(
            session,
            account_id,
            amount,
            reference=reference,
            actor=ledger_actor(actor),
            now=now,
            memo=memo,
        )
        if moved:
            await audit.record(
                session,
                _AUDITED[action],
                actor=actor,
                account_id=account_id,
                now=now,
                ip_prefix=ip_prefix,
                target=reference,
                details={"amount": amount, "memo": memo},
            )
            await session.commit()
    except InvalidInput:  # a refund above the cash, a debit below what the plan allows
        await session.rollback()
        raise
    except IntegrityError:  # the same request, sent twice at once, moved it in the other one
        await session.rollback()
        return False
    if not moved:
        await session.rollback()
    return moved
