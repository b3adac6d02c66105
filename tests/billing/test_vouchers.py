"""Vouchers (humangate/billing/vouchers.py) on SQLite and PostgreSQL: codes shown once and kept
as keyed digests, redeemed once, expired and voided codes refused with their own codes,
redemption attempts limited per account, direct grants, batches, and the hourly expiry."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from humangate.accounts import audit
from humangate.billing import ledger, vouchers
from humangate.db.models import AuditEntry, Voucher
from humangate.errors import Expired, InvalidInput, RateLimited
from humangate.store import MemoryStore
from tests.billing._db import KEY, NOW, db_url, make_owner, sessions

__all__ = ["db_url", "sessions"]
ADMIN = audit.Actor.admin(1)
WEEK = timedelta(days=7)


async def _issue(
    sessions: async_sessionmaker[AsyncSession], amount: int = 500, **kwargs: object
) -> list[vouchers.IssuedVoucher]:
    async with sessions() as session:
        return await vouchers.issue_codes(
            session,
            server_key=KEY,
            amount=amount,
            expires_at=kwargs.pop("expires_at", NOW + WEEK),  # type: ignore[arg-type]
            actor=ADMIN,
            now=NOW,
            **kwargs,  # type: ignore[arg-type]
        )


async def _redeem(
    sessions: async_sessionmaker[AsyncSession],
    store: MemoryStore,
    owner: int,
    code: str,
    **kwargs: object,
) -> vouchers.VoucherView:
    async with sessions() as session:
        return await vouchers.redeem(
            session,
            store,
            owner,
            code,
            server_key=kwargs.get("server_key", KEY),  # type: ignore[arg-type]
            now=kwargs.get("now", NOW),  # type: ignore[arg-type]
        )


async def _total(sessions: async_sessionmaker[AsyncSession], owner: int) -> int:
    async with sessions() as session:
        return (await ledger.balance(session, owner, now=NOW)).total


async def test_a_code_is_stored_as_a_digest_and_redeemed_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    owner, other = await make_owner(sessions), await make_owner(sessions)
    store = MemoryStore()
    [issued] = await _issue(sessions, 500)
    assert issued.code is not None and issued.code.startswith("HG-")
    async with sessions() as session:
        row = await session.get(Voucher, issued.voucher.id)
        assert row is not None and row.code_digest is not None
        assert str(vouchers.normalize_code(issued.code)) not in row.code_digest
    # Typed in lower case, with spaces for dashes and O for 0: still the code.
    typed = issued.code.lower().replace("-", " ").replace("0", "o")
    redeemed = await _redeem(sessions, store, owner, typed)
    assert redeemed.account_id == owner and redeemed.status(NOW) == "redeemed"
    assert await _total(sessions, owner) == 500
    for who in (owner, other):
        with pytest.raises(Expired) as again:
            await _redeem(sessions, store, who, issued.code)
        assert again.value.code == "voucher-redeemed"
    with pytest.raises(InvalidInput) as wrong_key:  # another server's key knows no code
        await _redeem(sessions, store, other, issued.code, server_key=b"x" * 40)
    assert wrong_key.value.code == "voucher-invalid"
    assert await _total(sessions, owner) == 500 and await _total(sessions, other) == 0
    async with sessions() as session:
        actions = list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["billing.voucher-issued", "billing.voucher-redeemed"]


async def test_expired_voided_and_unknown_codes_are_refused(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    owner = await make_owner(sessions)
    store = MemoryStore()
    [soon] = await _issue(sessions, 100, expires_at=NOW + timedelta(hours=1))
    [voided] = await _issue(sessions, 100)
    async with sessions() as session:
        assert await vouchers.void(session, actor=ADMIN, now=NOW, voucher_id=voided.voucher.id)
    assert soon.code is not None and voided.code is not None
    with pytest.raises(Expired) as expired:
        await _redeem(sessions, store, owner, soon.code, now=NOW + timedelta(hours=1))
    assert expired.value.code == "voucher-expired"
    with pytest.raises(Expired) as gone:
        await _redeem(sessions, store, owner, voided.code)
    assert gone.value.code == "voucher-voided"
    for junk in ("", "HG-", "not a code at all", "HG-AAAA-AAAA-AAAA-AAAA", "Ж" * 16, "9" * 200):
        with pytest.raises(InvalidInput) as unknown:
            await _redeem(sessions, store, owner, junk)
        assert unknown.value.code == "voucher-invalid"
    assert await _total(sessions, owner) == 0


async def test_redemption_attempts_are_limited_per_account(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    owner, other = await make_owner(sessions), await make_owner(sessions)
    store = MemoryStore()
    [issued] = await _issue(sessions, 300)
    assert issued.code is not None
    for _ in range(vouchers.REDEEM_ATTEMPTS):
        with pytest.raises(InvalidInput):
            await _redeem(sessions, store, owner, "HG-0000-0000-0000-0000")
    with pytest.raises(RateLimited) as limited:  # even the right code, now
        await _redeem(sessions, store, owner, issued.code)
    assert limited.value.code == "too-many-attempts" and limited.value.retry_after
    # Another account is not held back, and the window passes.
    await _redeem(sessions, store, other, issued.code)
    [later] = await _issue(sessions, 200, batch="later")
    assert later.code is not None
    await _redeem(sessions, store, owner, later.code, now=NOW + vouchers.REDEEM_WINDOW)
    assert await _total(sessions, owner) == 200


async def test_concurrent_redemptions_grant_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    owners = [await make_owner(sessions) for _ in range(4)]
    store = MemoryStore()
    [issued] = await _issue(sessions, 900)
    assert issued.code is not None
    code = issued.code

    async def attempt(owner: int) -> str:
        try:
            await _redeem(sessions, store, owner, code)
            return "ok"
        except Expired as exc:
            return exc.code

    results = await asyncio.gather(*(attempt(owner) for owner in owners))
    # Every attempt is answered (no error: no 500), one of them redeems.
    assert sorted(results) == ["ok"] + ["voucher-redeemed"] * 3, results
    totals = [await _total(sessions, owner) for owner in owners]
    assert sorted(totals) == [0, 0, 0, 900]


async def test_batches_grants_voiding_and_the_hourly_expiry(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    owner = await make_owner(sessions)
    store = MemoryStore()
    batch = await _issue(sessions, 50, count=5, batch="launch-2026")
    codes = [item.code for item in batch]
    assert len(set(codes)) == 5 and all(codes)
    with pytest.raises(InvalidInput):  # a label is used once
        await _issue(sessions, 50, count=2, batch="launch-2026")
    with pytest.raises(InvalidInput):  # more than one code needs a label
        await _issue(sessions, 50, count=2)
    await _redeem(sessions, store, owner, str(codes[0]))
    async with sessions() as session:
        assert await vouchers.void(session, actor=ADMIN, now=NOW, batch="launch-2026") == 4
        granted = await vouchers.grant(
            session, owner, amount=70, expires_at=NOW + timedelta(days=2), actor=ADMIN, now=NOW
        )
        with pytest.raises(InvalidInput):  # a redeemed voucher is the owner's money
            await vouchers.void(session, actor=ADMIN, now=NOW, voucher_id=granted.id)
    assert granted.kind == "grant" and await _total(sessions, owner) == 120
    async with sessions() as session:
        listed = await vouchers.list_vouchers(session, batch="launch-2026")
        mine = await vouchers.list_vouchers(session, account_id=owner)
    assert sorted(v.status(NOW) for v in listed) == ["redeemed"] + ["voided"] * 4
    assert {v.id for v in mine} == {granted.id, batch[0].voucher.id}

    async with sessions() as session:  # the housekeeping's hourly call, after a week
        assert await vouchers.expire(session, now=NOW + WEEK) == 2
    async with sessions() as session:
        held = await ledger.balance(session, owner, now=NOW + WEEK)
    assert held.total == 0 and held.vouchers == ()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    position=st.integers(0, 18),
    symbol=st.sampled_from("0123456789ABCDEFGHJKMNPQRSTVWXYZ"),
    expires_in=st.integers(-3, 3),
    voided=st.booleans(),
    redeemed=st.booleans(),
)
async def test_redemption_rules(
    sessions: async_sessionmaker[AsyncSession],
    position: int,
    symbol: str,
    expires_in: int,
    voided: bool,
    redeemed: bool,
) -> None:
    """A code redeems only unchanged, unexpired, unvoided and unredeemed; any other attempt is
    refused with the code that says why, and changes no balance."""
    owner = await make_owner(sessions)
    store = MemoryStore()
    [issued] = await _issue(sessions, 10)
    code = str(issued.code)
    at = NOW + timedelta(hours=expires_in) + WEEK
    if redeemed:
        await _redeem(sessions, store, await make_owner(sessions), code)
    if voided and not redeemed:
        async with sessions() as session:
            await vouchers.void(session, actor=ADMIN, now=NOW, voucher_id=issued.voucher.id)
    plain = code.replace("-", "")
    index = 2 + position % 16
    changed = plain[:index] + symbol + plain[index + 1 :]
    expected = (
        "voucher-invalid"
        if changed != plain
        else "voucher-redeemed"
        if redeemed
        else "voucher-voided"
        if voided
        else "voucher-expired"
        if expires_in >= 0
        else "ok"
    )
    try:
        await _redeem(sessions, store, owner, changed, now=at)
        outcome = "ok"
    except (InvalidInput, Expired) as exc:
        outcome = exc.code
    assert outcome == expected
    assert await _total(sessions, owner) == (10 if expected == "ok" else 0)
