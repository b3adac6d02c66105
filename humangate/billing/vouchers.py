"""Vouchers: prepaid credit an operator issues, spent before cash and void at expiry
(docs/billing.md, "Top-ups, vouchers and payments").

A voucher is a single code, one of a labelled batch of codes, or a direct grant to an owner.
Codes are shown once, when issued: the table keeps only a keyed digest (HMAC-SHA256 under a key
derived from the server key), so a dump of it redeems nothing. An owner redeems a code once;
an expired or voided code is refused with its own code, and redemption attempts are counted per
account in the hot-state store, so that nobody guesses codes. The ledger grants the amount
(`ledger.grant_voucher`) and the hourly housekeeping voids what expired vouchers have left
(`ledger.expire_vouchers`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from humangate.accounts import audit
from humangate.accounts.limits import count as count_event
from humangate.billing import ledger
from humangate.billing.plans import MAX_AMOUNT, open_billing_account
from humangate.billing.topups import ledger_actor
from humangate.db.accounts import aware
from humangate.db.models import Account, Voucher
from humangate.errors import Expired, InvalidInput, NotFound, RateLimited
from humangate.store.base import Store

# Crockford's base32 without I, L, O and U: nothing a person misreads. 16 symbols: 80 bits.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_SYMBOLS = 16
CODE_PREFIX = "HG"
MAX_BATCH = 1000
MAX_DAYS = 3660
_BATCH_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,59}")
# Redemption attempts an account may make per window, right or wrong.
REDEEM_ATTEMPTS = 10
REDEEM_WINDOW = timedelta(hours=1)
VoucherStatus = Literal["unredeemed", "redeemed", "expired", "voided"]


@dataclass(frozen=True, slots=True)
class VoucherView:
    """A voucher without its code (which is never stored)."""

    id: int
    batch: str | None
    amount: int
    expires_at: datetime
    account_id: int | None
    created_by: int | None
    created_at: datetime
    redeemed_at: datetime | None
    voided_at: datetime | None
    kind: Literal["code", "grant"]

    def status(self, now: datetime) -> VoucherStatus:
        if self.voided_at is not None:
            return "voided"
        if self.redeemed_at is not None:
            return "redeemed"
        return "expired" if self.expires_at <= now else "unredeemed"

    def as_dict(self, now: datetime) -> dict[str, object]:
        return {
            "id": self.id,
            "kind": self.kind,
            "batch": self.batch,
            "amount": self.amount,
            "expires_at": self.expires_at.isoformat(),
            "account_id": self.account_id,
            "status": self.status(now),
            "created_at": self.created_at.isoformat(),
            "redeemed_at": None if self.redeemed_at is None else self.redeemed_at.isoformat(),
            "voided_at": None if self.voided_at is None else self.voided_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class IssuedVoucher:
    """A voucher just issued and its code, shown this once (None for a direct grant)."""

    voucher: VoucherView
    code: str | None


def voucher_view(row: Voucher) -> VoucherView:
    return VoucherView(
        id=row.id,
        batch=row.batch,
        amount=int(row.amount),
        expires_at=aware(row.expires_at),
        account_id=row.account_id,
        created_by=row.created_by,
        created_at=aware(row.created_at),
        redeemed_at=None if row.redeemed_at is None else aware(row.redeemed_at),
        voided_at=None if row.voided_at is None else aware(row.voided_at),
        kind="grant" if row.code_digest is None else "code",
    )


def new_voucher_code() -> str:
    """A code such as `HG-7K2M-Q9XD-4RTB-WN8C`: 80 random bits in four groups."""
    symbols = "".join(secrets.choice(_ALPHABET) for _ in range(_SYMBOLS))
    groups = [symbols[i : i + 4] for i in range(0, _SYMBOLS, 4)]
    return "-".join([CODE_PREFIX, *groups])


def normalize_code(text: str) -> str | None:
    """The code's symbols as stored (upper case, no spaces or dashes, O read as 0 and I or L as
    1), or None when `text` cannot be a code."""
    if not isinstance(text, str) or len(text) > 64 or not text.isascii():
        return None
    plain = re.sub(r"[\s-]", "", text).upper()
    plain = plain.translate(str.maketrans("OIL", "011"))
    plain = plain.removeprefix(CODE_PREFIX)
    if len(plain) != _SYMBOLS or any(symbol not in _ALPHABET for symbol in plain):
        return None
    return plain


def code_digest(server_key: bytes, code: str) -> str:
    """The keyed digest stored for a normalised code."""
    key = hmac.new(server_key, b"humangate billing\x00voucher code", hashlib.sha256).digest()
    return hmac.new(key, code.encode(), hashlib.sha256).hexdigest()


def _check_issue(amount: int, expires_at: datetime, now: datetime) -> None:
    if not ledger.is_minor_units(amount):
        raise InvalidInput(
            f"A voucher's amount is 1 to {MAX_AMOUNT} minor units.",
            code="bad-voucher-amount",
            params={"max": MAX_AMOUNT},
        )
    if expires_at.tzinfo is None:
        raise InvalidInput("A voucher's expiry needs a time zone.", code="expiry-without-zone")
    if not now < expires_at <= now + timedelta(days=MAX_DAYS):
        raise InvalidInput(
            f"A voucher expires in the future, within {MAX_DAYS} days.",
            code="bad-voucher-expiry",
            params={"days": MAX_DAYS},
        )


def _new_row(amount: int, expires_at: datetime, created_by: int | None, now: datetime) -> Voucher:
    return Voucher(
        amount=amount, expires_at=expires_at, created_by=created_by, created_at=now, batch=None
    )


async def issue_codes(
    session: AsyncSession,
    *,
    server_key: bytes,
    amount: int,
    expires_at: datetime,
    actor: audit.Actor,
    now: datetime,
    count: int = 1,
    batch: str | None = None,
) -> list[IssuedVoucher]:
    """Issue `count` codes worth `amount` each, expiring at `expires_at`; a batch (more than
    one code) needs a label. Audited and committed. The codes are in the result only.

    Raises:
        InvalidInput: a bad amount, expiry, count or label, or a label already used.
    """
    _check_issue(amount, expires_at, now)
    if not 1 <= count <= MAX_BATCH:
        raise InvalidInput(
            f"A batch holds 1 to {MAX_BATCH} codes.",
            code="bad-batch-size",
            params={"max": MAX_BATCH},
        )
    if batch is not None or count > 1:
        if batch is None or not _BATCH_LABEL.fullmatch(batch):
            raise InvalidInput(
                "A batch needs a label of 1 to 60 letters, digits, dots, dashes or underscores.",
                code="bad-batch-label",
            )
        if await session.scalar(select(Voucher.id).where(Voucher.batch == batch).limit(1)):
            raise InvalidInput(
                f"The batch label {batch!r} is taken.",
                code="batch-exists",
                params={"batch": batch},
            )
    issued: list[tuple[Voucher, str]] = []
    for _ in range(count):
        code = new_voucher_code()
        row = _new_row(amount, expires_at, actor.id, now)
        row.batch = batch
        row.code_digest = code_digest(server_key, normalize_code(code) or "")
        session.add(row)
        issued.append((row, code))
    await session.flush()
    await audit.record(
        session,
        "billing.voucher-issued",
        actor=actor,
        account_id=None,
        now=now,
        target=batch or f"voucher:{issued[0][0].id}",
        details={"vouchers": count, "amount": amount, "expires_at": expires_at.isoformat()},
    )
    await session.commit()
    return [IssuedVoucher(voucher_view(row), code) for row, code in issued]


async def grant(
    session: AsyncSession,
    account_id: int,
    *,
    amount: int,
    expires_at: datetime,
    actor: audit.Actor,
    now: datetime,
) -> VoucherView:
    """Give the owner `account_id` a voucher directly (no code); audited and committed.

    Raises:
        InvalidInput: a bad amount or expiry.
        NotFound: no such account (`unknown-account`).
    """
    _check_issue(amount, expires_at, now)
    if await session.get(Account, account_id) is None:
        raise NotFound(
            f"There is no account #{account_id}.",
            code="unknown-account",
            params={"account": account_id},
        )
    await open_billing_account(session, account_id, now=now)
    row = _new_row(amount, expires_at, actor.id, now)
    row.account_id, row.redeemed_at = account_id, now
    session.add(row)
    await session.flush()
    await ledger.grant_voucher(session, row, account_id, actor=ledger_actor(actor), now=now)
    await audit.record(
        session,
        "billing.voucher-granted",
        actor=actor,
        account_id=account_id,
        now=now,
        target=f"voucher:{row.id}",
        details={"amount": amount, "expires_at": expires_at.isoformat()},
    )
    await session.commit()
    return voucher_view(row)


async def redeem(
    session: AsyncSession,
    store: Store,
    account_id: int,
    code: str,
    *,
    server_key: bytes,
    now: datetime,
    ip_prefix: str | None = None,
) -> VoucherView:
    """Redeem `code` for the owner `account_id`: its amount is granted to them; committed.

    Raises:
        RateLimited: more than REDEEM_ATTEMPTS attempts in REDEEM_WINDOW (`too-many-attempts`).
        InvalidInput: no voucher has this code (`voucher-invalid`).
        Expired: the code was redeemed (`voucher-redeemed`), voided (`voucher-voided`), or
            expired (`voucher-expired`).
    """
    hits, left = await count_event(store, f"voucher-redeem:{account_id}", REDEEM_WINDOW, now)
    if hits > REDEEM_ATTEMPTS:
        raise RateLimited(
            "Too many voucher codes tried; try again later.",
            code="too-many-attempts",
            retry_after=left,
        )
    # Opened first: its commit (or its rollback, when another request opened it) must not
    # expire the voucher read below.
    await open_billing_account(session, account_id, now=now)
    plain = normalize_code(code)
    row = None
    if plain is not None:
        digest = code_digest(server_key, plain)
        row = await session.scalar(select(Voucher).where(Voucher.code_digest == digest))
    if row is None:
        raise InvalidInput("No voucher has this code.", code="voucher-invalid")
    _refuse_spent(voucher_view(row), now)
    # One redemption wins even when two run at once: the update is conditional.
    won = await session.execute(
        update(Voucher)
        .where(
            Voucher.id == row.id,
            Voucher.redeemed_at.is_(None),
            Voucher.voided_at.is_(None),
            Voucher.expires_at > now,
        )
        .values(account_id=account_id, redeemed_at=now),
        execution_options={"synchronize_session": False},
    )
    if not won.rowcount:  # type: ignore[attr-defined]
        await session.rollback()
        await session.refresh(row)
        _refuse_spent(voucher_view(row), now)
        raise Expired("This voucher has been redeemed.", code="voucher-redeemed")
    await session.refresh(row)
    await ledger.grant_voucher(session, row, account_id, actor=f"owner:{account_id}", now=now)
    await audit.record(
        session,
        "billing.voucher-redeemed",
        actor=audit.Actor.account(account_id),
        account_id=account_id,
        now=now,
        ip_prefix=ip_prefix,
        target=f"voucher:{row.id}",
        details={"amount": int(row.amount), "batch": row.batch or ""},
    )
    await session.commit()
    return voucher_view(row)


def _refuse_spent(voucher: VoucherView, now: datetime) -> None:
    status = voucher.status(now)
    if status == "redeemed":
        raise Expired("This voucher has been redeemed.", code="voucher-redeemed")
    if status == "voided":
        raise Expired("This voucher has been voided.", code="voucher-voided")
    if status == "expired":
        raise Expired("This voucher has expired.", code="voucher-expired")


async def void(
    session: AsyncSession,
    *,
    actor: audit.Actor,
    now: datetime,
    voucher_id: int | None = None,
    batch: str | None = None,
) -> int:
    """Void one voucher or a batch's codes not yet redeemed; audited and committed. Returns how
    many were voided. A redeemed voucher is the owner's money: adjust the balance instead.

    Raises:
        NotFound: no such voucher or batch (`unknown-voucher`).
        InvalidInput: neither or both named (`void-what`), or the one voucher named was
            redeemed (`voucher-in-balance`).
    """
    if (voucher_id is None) == (batch is None):
        raise InvalidInput("Name one voucher or one batch to void.", code="void-what")
    where = Voucher.id == voucher_id if batch is None else Voucher.batch == batch
    rows = list(await session.scalars(select(Voucher).where(where)))
    if not rows:
        raise NotFound("There is no such voucher or batch.", code="unknown-voucher")
    if voucher_id is not None and rows[0].redeemed_at is not None:
        raise InvalidInput(
            "A redeemed voucher is the owner's: adjust their balance instead.",
            code="voucher-in-balance",
        )
    voided = await session.execute(
        update(Voucher)
        .where(where, Voucher.redeemed_at.is_(None), Voucher.voided_at.is_(None))
        .values(voided_at=now),
        execution_options={"synchronize_session": False},
    )
    done = int(voided.rowcount)  # type: ignore[attr-defined]
    await audit.record(
        session,
        "billing.voucher-voided",
        actor=actor,
        account_id=None,
        now=now,
        target=batch or f"voucher:{voucher_id}",
        details={"vouchers": done},
    )
    await session.commit()
    return done


async def list_vouchers(
    session: AsyncSession,
    *,
    batch: str | None = None,
    account_id: int | None = None,
    limit: int = 1000,
) -> list[VoucherView]:
    """Vouchers, newest first, of one batch or one owner when given."""
    statement = select(Voucher)
    if batch is not None:
        statement = statement.where(Voucher.batch == batch)
    if account_id is not None:
        statement = statement.where(Voucher.account_id == account_id)
    rows = await session.scalars(statement.order_by(Voucher.id.desc()).limit(limit))
    return [voucher_view(row) for row in rows]


async def expire(session: AsyncSession, *, now: datetime) -> int:
    """The hourly expiry: what expired vouchers have left is voided (`ledger.expire_vouchers`,
    which commits). Returns how many vouchers it voided."""
    return await ledger.expire_vouchers(session, now=now)
