"""The seeds' rules for billing records: the owner's export carries the ledger, vouchers and
statements; cancellation clears the balance, vouchers and transaction records, except that an
operator who must keep the ledger by law keeps its transactions apart, then purges them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from humangate.accounts import Client, cancel_account_as_operator, export_account
from humangate.billing import ledger
from humangate.billing.erasure import purge_ledger_archive
from humangate.config import Settings
from humangate.db.models import (
    BillingAccount,
    LedgerArchive,
    LedgerPosting,
    LedgerTransaction,
    Statement,
    Voucher,
)
from humangate.services import account_policy
from tests.accounts.conftest import T0, Harness

OPERATOR = "operator:1"


async def _with_money(accounts: Harness) -> int:
    """An owner with a top-up of 50.00, a redeemed voucher of 20.00, usage of 3.00 and a
    statement; returns the account id."""
    owner = (await accounts.signed_up()).account.id
    async with accounts.sessions() as session:
        await ledger.top_up(session, owner, 5000, reference="pay-1", actor="stripe", now=T0)
        voucher = Voucher(
            code_digest="d" * 64,
            batch="spring",
            amount=2000,
            expires_at=T0 + timedelta(days=30),
            account_id=owner,
            created_at=T0,
            redeemed_at=T0,
        )
        session.add(voucher)
        await session.flush()
        await ledger.grant_voucher(session, voucher, owner, actor=f"owner:{owner}", now=T0)
        line = ledger.UsageLine(hour=T0, unit_id=None, item="challenge", quantity=300, amount=300)
        await ledger.settle_usage(session, owner, [line], batch="b1", now=T0)
        session.add(
            Statement(
                number="HG-202603-000001",
                account_id=owner,
                period="2026-03",
                opening=0,
                closing=6700,
                created_at=T0,
            )
        )
        await session.commit()
    return owner


async def _count(accounts: Harness, column: Any, *where: Any) -> int:
    async with accounts.sessions() as session:
        return int(await session.scalar(select(func.count(column)).where(*where)) or 0)


async def test_the_export_includes_the_ledger_vouchers_and_statements(accounts: Harness) -> None:
    owner = await _with_money(accounts)
    exported = await accounts.run(export_account, owner, client=Client(), now=T0)
    billing = exported["billing"]
    assert isinstance(billing, dict)
    assert billing["balance"] == 6700
    assert [t["kind"] for t in billing["ledger"]] == ["top-up", "voucher-grant", "usage"]
    for transaction in billing["ledger"]:
        assert sum(p["amount"] for p in transaction["postings"]) == 0
    assert [(v["amount"], v["batch"]) for v in billing["vouchers"]] == [(2000, "spring")]
    assert "code_digest" not in billing["vouchers"][0]
    assert [s["number"] for s in billing["statements"]] == ["HG-202603-000001"]


async def _remaining(accounts: Harness, owner: int) -> dict[str, int]:
    return {
        "transactions": await _count(
            accounts, LedgerTransaction.id, LedgerTransaction.account_id == owner
        ),
        "postings": await _count(accounts, LedgerPosting.id, LedgerPosting.account_id == owner),
        "vouchers": await _count(accounts, Voucher.id, Voucher.account_id == owner),
        "statements": await _count(accounts, Statement.id, Statement.account_id == owner),
        "billing_account": await _count(
            accounts, BillingAccount.account_id, BillingAccount.account_id == owner
        ),
    }


async def test_cancellation_clears_balance_vouchers_and_transactions(accounts: Harness) -> None:
    owner = await _with_money(accounts)
    assert all((await _remaining(accounts, owner)).values())
    await accounts.run(cancel_account_as_operator, owner, reason="asked", now=T0)
    assert set((await _remaining(accounts, owner)).values()) == {0}
    assert await _count(accounts, LedgerArchive.id) == 0  # nothing kept unless configured


async def test_a_ledger_kept_by_law_is_detached_and_purged_after(accounts: Harness) -> None:
    keeping = accounts.with_policy(keep_ledger=timedelta(days=30))
    owner = await _with_money(keeping)
    await keeping.run(cancel_account_as_operator, owner, reason="asked", now=T0)
    assert set((await _remaining(keeping, owner)).values()) == {0}
    async with keeping.sessions() as session:
        kept = (await session.scalars(select(LedgerArchive).order_by(LedgerArchive.id))).all()
        assert [row.kind for row in kept] == ["top-up", "voucher-grant", "usage"]
        assert {row.former_account_id for row in kept} == {owner}
        assert all(sum(int(str(p["amount"])) for p in row.postings) == 0 for row in kept)
        assert await purge_ledger_archive(session, now=T0 + timedelta(days=29)) == 0
    assert await _count(keeping, LedgerArchive.id) == 3
    async with keeping.sessions() as session:
        assert await purge_ledger_archive(session, now=T0 + timedelta(days=31)) == 3
    assert await _count(keeping, LedgerArchive.id) == 0


def test_the_keeping_period_comes_from_the_settings(tmp_path: Path) -> None:
    def policy(days: int) -> timedelta | None:
        settings = Settings(data_dir=tmp_path, billing_keep_ledger_days=days)
        return account_policy(settings).keep_ledger

    assert policy(0) is None
    assert policy(30) == timedelta(days=30)
