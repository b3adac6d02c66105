"""An operator's top-up, adjustment and refund (humangate/billing/topups.py) on SQLite and
PostgreSQL: audited, checked, and moved once per request id however often the form is sent."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from humangate.accounts import audit
from humangate.billing import ledger, topups
from humangate.db.models import AuditEntry, LedgerTransaction
from humangate.errors import InvalidInput, NotFound
from tests.billing._db import NOW, db_url, make_owner, sessions

__all__ = ["db_url", "sessions"]
ADMIN = audit.Actor.admin(7)


async def _balance(sessions: async_sessionmaker[AsyncSession], owner: int) -> ledger.Balance:
    async with sessions() as session:
        return await ledger.balance(session, owner, now=NOW)


async def _entries(sessions: async_sessionmaker[AsyncSession]) -> list[AuditEntry]:
    async with sessions() as session:
        return list(await session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


async def test_top_up_adjust_refund_are_audited_and_happen_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    owner = await make_owner(sessions)
    steps: list[tuple[topups.OperatorAction, int, str]] = [
        ("top-up", 10_000, "paid by bank transfer"),
        ("adjustment", -2_500, "double charge on 1 Dec"),
        ("refund", 1_500, ""),
    ]
    for action, amount, memo in steps:
        request_id = topups.new_request_id()
        for attempt in range(3):  # the form posted three times
            async with sessions() as session:
                moved = await topups.apply(
                    session,
                    action,
                    owner,
                    amount,
                    request_id=request_id,
                    actor=ADMIN,
                    now=NOW,
                    memo=memo,
                    ip_prefix="192.0.2.0/24",
                )
            assert moved == (attempt == 0)
    held = await _balance(sessions, owner)
    assert held.cash == held.total == 10_000 - 2_500 - 1_500
    entries = await _entries(sessions)
    assert [(e.action, e.actor_kind, e.actor_id, e.account_id) for e in entries] == [
        ("billing.top-up", "admin", 7, owner),
        ("billing.adjustment", "admin", 7, owner),
        ("billing.refund", "admin", 7, owner),
    ]
    assert entries[1].details == {"amount": -2_500, "memo": "double charge on 1 Dec"}
    async with sessions() as session:
        actors = set(await session.scalars(select(LedgerTransaction.actor)))
    assert actors == {"operator:7"}


async def test_concurrent_retries_move_the_money_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    owner = await make_owner(sessions)
    # No billing account yet: the first uses race to open it (and the default plan) too.

    async def attempt() -> bool:
        async with sessions() as session:
            return await topups.apply(
                session,
                "top-up",
                owner,
                700,
                request_id="same-form-0001",
                actor=audit.OPERATOR,
                now=NOW,
            )

    results = await asyncio.gather(*(attempt() for _ in range(6)))
    # Every attempt gets an answer (no error: no 500 for a form sent twice), one moves it.
    assert sorted(results) == [False] * 5 + [True], results
    assert (await _balance(sessions, owner)).cash == 700
    assert [e.action for e in await _entries(sessions)] == ["billing.top-up"]


async def test_bad_requests_are_refused_and_change_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    owner = await make_owner(sessions)
    cases: list[tuple[topups.OperatorAction, int, str, str]] = [
        ("top-up", 0, "", "good-request-1"),
        ("top-up", -5, "", "good-request-2"),
        ("refund", 1, "", "good-request-3"),  # no cash to refund
        ("adjustment", 100, "", "good-request-4"),  # no reason
        ("adjustment", 0, "why", "good-request-5"),
        ("adjustment", -1, "why", "good-request-6"),  # below what the plan allows
        ("top-up", 100, "", "short"),
        ("top-up", 100, "", "has spaces in it"),
        ("top-up", 100, "m" * 501, "good-request-7"),
    ]
    for action, amount, memo, request_id in cases:
        async with sessions() as session:
            with pytest.raises(InvalidInput):
                await topups.apply(
                    session,
                    action,
                    owner,
                    amount,
                    request_id=request_id,
                    actor=ADMIN,
                    now=NOW,
                    memo=memo,
                )
    async with sessions() as session:
        with pytest.raises(NotFound):
            await topups.apply(
                session, "top-up", 999_999, 5, request_id="good-request-8", actor=ADMIN, now=NOW
            )
    assert (await _balance(sessions, owner)).total == 0
    assert await _entries(sessions) == []
