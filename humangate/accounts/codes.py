"""One-time codes: six digits from `secrets`, kept only as an HMAC with the server key.

A code answers one question (its purpose) for one account and one target identifier, lives ten
minutes, dies after five entries (the right one included) and can be used once. Issuing a new
code for the same account and purpose kills the previous one.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from sqlalchemy.ext.asyncio import AsyncSession

from humangate.accounts._keys import AccountKeys
from humangate.accounts.outcomes import CodeRejected
from humangate.accounts.policy import AccountPolicy
from humangate.db import account_codes as code_db
from humangate.db.models import AccountCode
from humangate.errors import InvalidInput
from humangate.text import is_ascii_digits

Purpose = Literal["signup", "login", "cancel", "contact-change", "new-device", "password-reset"]
PURPOSES: frozenset[str] = frozenset(get_args(Purpose))
CODE_DIGITS = 6


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def read_code(text: str) -> str:
    """Accept a code as typed ("123 456", "123-456"); return its six digits.

    Raises:
        InvalidInput: anything but six digits.
    """
    if not isinstance(text, str) or len(text) > 20:
        raise InvalidInput(f"A code is {CODE_DIGITS} digits.")
    digits = "".join(ch for ch in text if ch not in " -")
    if len(digits) != CODE_DIGITS or not is_ascii_digits(digits):
        raise InvalidInput(f"A code is {CODE_DIGITS} digits.")
    return digits


async def issue_code(
    session: AsyncSession,
    keys: AccountKeys,
    policy: AccountPolicy,
    *,
    account_id: int,
    purpose: Purpose,
    target: str,
    now: datetime,
) -> str:
    """Store a fresh code for (account, purpose, target) and return it in clear, once."""
    if purpose not in PURPOSES:
        raise InvalidInput(f"{purpose!r} is not a code purpose.")
    code = new_code()
    digest = keys.code_digest(account_id=account_id, purpose=purpose, target=target, code=code)
    await code_db.replace_code(
        session,
        AccountCode(
            account_id=account_id,
            purpose=purpose,
            target=target,
            digest=digest,
            created_at=now,
            expires_at=now + policy.code_ttl,
            attempts=0,
        ),
    )
    return code


@dataclass(frozen=True, slots=True)
class CodeCheck:
    """The result of one entry: `target` is the identifier the code was sent to."""

    ok: bool
    reason: Literal["ok", "invalid", "expired", "exhausted"]
    target: str | None = None

    def rejected(self) -> CodeRejected:
        """The outcome to return for a failed check, with its precise reason."""
        return CodeRejected("invalid" if self.reason == "ok" else self.reason)


async def check_code(
    session: AsyncSession,
    keys: AccountKeys,
    policy: AccountPolicy,
    *,
    account_id: int,
    purpose: Purpose,
    code: str,
    now: datetime,
) -> CodeCheck:
    """Count one attempt on the live code and use it if `code` matches (constant-time compare).

    `code` must already have passed `read_code`. The caller commits, whatever the result, so the
    attempt stays counted.
    """
    row = await code_db.find_live_code(session, account_id, purpose, now, policy.code_max_attempts)
    if row is None:
        return CodeCheck(ok=False, reason="expired")
    if not await code_db.claim_code_attempt(session, row.id, now, policy.code_max_attempts):
        return CodeCheck(ok=False, reason="expired")
    expected = keys.code_digest(
        account_id=account_id, purpose=purpose, target=row.target, code=code
    )
    if hmac.compare_digest(expected, row.digest):
        if await code_db.use_code(session, row.id, now):
            return CodeCheck(ok=True, reason="ok", target=row.target)
        return CodeCheck(ok=False, reason="expired")
    await session.refresh(row, ["attempts"])
    exhausted = row.attempts >= policy.code_max_attempts
    return CodeCheck(ok=False, reason="exhausted" if exhausted else "invalid")
