"""Running out: a notice in the inbox and by mail at each operator-set threshold and at zero,
once per crossing (however many nodes announce it), re-armed after a top-up."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from humangate.billing import ledger
from humangate.billing.running_out import (
    BalanceNotices,
    announce_account,
    announce_balance,
    next_notice,
    parse_thresholds,
)
from humangate.config import Settings
from humangate.db.models import Account, Notification
from humangate.errors import ConfigError
from humangate.messaging import MessageTemplates, channels_from_settings
from humangate.messaging.outbox import read_outbox
from tests.billing._db import NOW, db_url, make_owner, sessions

__all__ = ["db_url", "sessions"]  # fixtures

THRESHOLDS = (1000, 500, 0)


def test_thresholds_are_read_highest_first_with_zero_always() -> None:
    assert parse_thresholds("500, 1000,,") == THRESHOLDS
    assert parse_thresholds("") == (0,)
    for bad in ("ten", "-5", "1.5", "9" * 14):
        with pytest.raises(ConfigError, match="NOTICE_THRESHOLDS"):
            parse_thresholds(bad)


def test_each_crossing_is_told_once_and_a_top_up_re_arms() -> None:
    told: list[int | None] = []
    remembered: int | None = None
    for balance in (5000, 1200, 999, 800, 450, 450, 0, -30, 700, 300, 2000, 990):
        notice, remembered = next_notice(balance, remembered, THRESHOLDS)
        told.append(notice)
    # 999 crosses 1000; 450 crosses 500; 0 is zero; a top-up to 700 re-arms 500 and 0 (not
    # 1000, still below it); 300 crosses 500 again; 2000 re-arms all; 990 crosses 1000 again.
    assert told == [None, None, 1000, None, 500, None, 0, None, None, 500, None, 1000]


def test_a_fall_past_several_thresholds_tells_the_lowest() -> None:
    assert next_notice(-1, None, THRESHOLDS) == (0, 0)


@pytest.fixture
def notices(tmp_path: Path) -> BalanceNotices:
    settings = Settings(data_dir=tmp_path, billing_notice_thresholds="1000,500")
    return BalanceNotices.from_settings(
        settings, MessageTemplates.from_settings(settings), channels_from_settings(settings)
    )


async def _owner(sessions: async_sessionmaker[AsyncSession], language: str = "en") -> int:
    owner = await make_owner(sessions)
    async with sessions() as session:
        account = await session.get(Account, owner)
        assert account is not None
        account.language = language
        await ledger.ensure_billing_account(session, owner, now=NOW)
        await session.commit()
    return owner


async def _announce(
    sessions: async_sessionmaker[AsyncSession], owner: int, balance: int, notices: BalanceNotices
) -> int | None:
    async with sessions() as session:
        return await announce_balance(session, owner, balance, now=NOW, notices=notices)


async def _email(sessions: async_sessionmaker[AsyncSession], owner: int) -> str:
    async with sessions() as session:
        account = await session.get(Account, owner)
        assert account is not None and account.email
        return account.email


async def _inbox(sessions: async_sessionmaker[AsyncSession], owner: int) -> list[str]:
    async with sessions() as session:
        rows = await session.scalars(
            select(Notification.subject)
            .where(Notification.account_id == owner, Notification.kind == "billing")
            .order_by(Notification.id)
        )
        return list(rows)


async def test_notices_reach_the_inbox_and_the_mail_once_per_crossing(
    sessions: async_sessionmaker[AsyncSession], notices: BalanceNotices, tmp_path: Path
) -> None:
    owner = await _owner(sessions)
    for balance in (900, 850, 0, -20, 5000, 400):
        await _announce(sessions, owner, balance, notices)
    assert await _inbox(sessions, owner) == [
        "Your HumanGate balance is below 10.00 CNY",
        "Your HumanGate balance has run out",
        "Your HumanGate balance is below 5.00 CNY",
    ]
    mails = [m for m in read_outbox(tmp_path) if m.to == await _email(sessions, owner)]
    assert [m.subject for m in mails] == [
        "Your HumanGate balance is below 10.00 CNY",
        "Your HumanGate balance has run out",
        "Your HumanGate balance is below 5.00 CNY",
    ]
    assert "0.00 CNY" in mails[1].text and "Top up" in mails[1].text
    assert "insufficient" not in mails[1].text  # the owner reads sentences, not codes


async def test_the_notice_speaks_the_owners_language(
    sessions: async_sessionmaker[AsyncSession], notices: BalanceNotices, tmp_path: Path
) -> None:
    owner = await _owner(sessions, language="zh-CN")
    assert await _announce(sessions, owner, -5, notices) == 0
    assert await _inbox(sessions, owner) == ["您的 HumanGate 余额已用尽"]
    (mail,) = [m for m in read_outbox(tmp_path) if m.to == await _email(sessions, owner)]
    assert "余额" in mail.text


async def test_nodes_announcing_one_crossing_at_once_tell_it_once(
    sessions: async_sessionmaker[AsyncSession], notices: BalanceNotices
) -> None:
    owner = await _owner(sessions)
    told = await asyncio.gather(*(_announce(sessions, owner, 0, notices) for _ in range(8)))
    assert sorted(told, key=lambda t: t is None) == [0] + [None] * 7
    assert await _inbox(sessions, owner) == ["Your HumanGate balance has run out"]


async def test_an_owner_without_a_billing_account_is_not_told(
    sessions: async_sessionmaker[AsyncSession], notices: BalanceNotices
) -> None:
    owner = await make_owner(sessions)
    assert await _announce(sessions, owner, 0, notices) is None
    assert await _inbox(sessions, owner) == []


async def test_the_balance_is_read_from_the_ledger(
    sessions: async_sessionmaker[AsyncSession], notices: BalanceNotices
) -> None:
    owner = await _owner(sessions)
    async with sessions() as session:
        await ledger.top_up(session, owner, 700, reference="t1", actor="system", now=NOW)
        await session.commit()
    assert await announce_account(sessions, owner, now=NOW, notices=notices) == 1000
    assert await announce_account(sessions, owner, now=NOW, notices=notices) is None
