"""Telling an owner that their balance is running out: a notice in the console's inbox and the
same notice by mail (or SMS) to the owner's first contact, once per crossing.

The operator sets the thresholds (HUMANGATE_BILLING_NOTICE_THRESHOLDS, minor units); zero is
always one. A balance below a threshold (at or below zero, for zero) has reached it. Only the
lowest threshold reached is told, and only if it is lower than the one told last
(`billing_accounts.notified_below`); a balance that rises again (a top-up, a voucher) re-arms
the thresholds above it. Whoever changes a balance calls `announce_balance` after committing:
the settlement of usage, top-ups, refunds, adjustments and voucher grants.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from humangate.accounts._notices import BALANCE_EMPTY, BALANCE_LOW, notice_locale
from humangate.accounts._views import contacts
from humangate.accounts.delivery import deliver
from humangate.accounts.outcomes import Outgoing
from humangate.db import inbox as inbox_db
from humangate.db._rows import run_bulk
from humangate.db.models import Account, BillingAccount
from humangate.errors import ConfigError
from humangate.messaging import Channels, MessageTemplates
from humangate.text import is_ascii_digits

if TYPE_CHECKING:
    from humangate.config import Settings

log = logging.getLogger(__name__)

MAX_THRESHOLDS = 20


def parse_thresholds(text: str) -> tuple[int, ...]:
    """The thresholds of a comma list of minor units, highest first, zero always included.

    Raises:
        ConfigError: an entry is not a whole number from 0 to 10^12, or there are too many.
    """
    found = {0}
    for entry in text.split(","):
        entry = entry.strip()
        if not entry:
            continue
        if not is_ascii_digits(entry) or len(entry) > 13 or int(entry) > 10**12:
            raise ConfigError(
                f"HUMANGATE_BILLING_NOTICE_THRESHOLDS: {entry[:20]!r} is not a whole number "
                "of minor units."
            )
        found.add(int(entry))
    if len(found) > MAX_THRESHOLDS:
        raise ConfigError(f"HUMANGATE_BILLING_NOTICE_THRESHOLDS: at most {MAX_THRESHOLDS}.")
    return tuple(sorted(found, reverse=True))


def lowest_reached(balance: int, thresholds: Sequence[int]) -> int | None:
    """The lowest threshold `balance` has reached (below it; at or below zero for zero)."""
    reached = [t for t in thresholds if balance < t or (t == 0 and balance <= 0)]
    return min(reached) if reached else None


def next_notice(
    balance: int, notified_below: int | None, thresholds: Sequence[int]
) -> tuple[int | None, int | None]:
    """What to tell and what to remember: (the threshold to announce now, or None; the new
    `notified_below`). Pure: the once-per-crossing rule in one place."""
    reached = lowest_reached(balance, thresholds)
    if reached is None:
        return None, None  # above every threshold: all re-armed
    if notified_below is None or reached < notified_below:
        return reached, reached
    return None, reached  # told already, or re-armed above a lower one told before


@dataclass(frozen=True, slots=True, kw_only=True)
class BalanceNotices:
    """How balance notices are worded and sent: the thresholds, the currency, the channels."""

    thresholds: tuple[int, ...]
    currency: str
    templates: MessageTemplates
    channels: Channels

    @classmethod
    def from_settings(
        cls, settings: Settings, templates: MessageTemplates, channels: Channels
    ) -> BalanceNotices:
        return cls(
            thresholds=parse_thresholds(settings.billing_notice_thresholds),
            currency=settings.billing_currency,
            templates=templates,
            channels=channels,
        )


async def _claim(session: AsyncSession, account_id: int, old: int | None, new: int | None) -> bool:
    """Set `notified_below` from `old` to `new` if no other node changed it meanwhile."""
    same = (
        BillingAccount.notified_below.is_(None)
        if old is None
        else BillingAccount.notified_below == old
    )
    changed = await run_bulk(
        session,
        update(BillingAccount)
        .where(BillingAccount.account_id == account_id, same)
        .values(notified_below=new),
    )
    return changed == 1


async def announce_balance(
    session: AsyncSession,
    account_id: int,
    balance: int,
    *,
    now: datetime,
    notices: BalanceNotices,
) -> int | None:
    """Tell the owner their balance reached a threshold, once per crossing; re-arm the
    thresholds above a balance that rose. Call it after committing a change of the balance.

    Writes the inbox notice and `notified_below` in one commit of `session` (so two nodes
    announcing the same crossing tell it once), then sends the mail; a failed send is logged.

    Args:
        balance: the owner's balance now, in minor units (`ledger.balance(...).total`).

    Returns:
        The threshold announced, or None when nothing was told.
    """
    row = await session.get(BillingAccount, account_id, populate_existing=True)
    if row is None:
        return None
    told, remember = next_notice(balance, row.notified_below, notices.thresholds)
    if remember == row.notified_below:
        return None
    if not await _claim(session, account_id, row.notified_below, remember) or told is None:
        await session.commit()
        return None
    account = await session.get(Account, account_id)
    if account is None:
        await session.rollback()
        return None
    params = _params(told, balance, notices.currency)
    texts = BALANCE_EMPTY if told == 0 else BALANCE_LOW
    title, body = texts[notice_locale(account.language)]
    await inbox_db.add_notification(
        session,
        account.id,
        kind="billing",
        subject=title.format(**params),
        body=body.format(**params),
        now=now,
    )
    found, language = contacts(account), account.language
    await session.commit()
    if found:
        template = "balance-empty" if told == 0 else "balance-low"
        message = Outgoing(found[0].channel, found[0].value, template, params, language)
        if not await deliver(notices.templates, notices.channels, [message]):
            log.warning("A balance notice to account %s was not delivered", account_id)
    return told


def _params(threshold: int, balance: int, currency: str) -> dict[str, str]:
    from humangate.billing.statements import format_minor

    return {
        "balance": format_minor(balance, currency),
        "threshold": format_minor(threshold, currency),
        "currency": currency,
    }


async def announce_account(
    sessions: async_sessionmaker[AsyncSession],
    account_id: int,
    *,
    now: datetime,
    notices: BalanceNotices,
) -> int | None:
    """`announce_balance` with the owner's balance read from the ledger, in a session of its
    own: what a settlement round, a top-up or a voucher redemption calls after its commit."""
    from humangate.billing import ledger

    async with sessions() as session:
        total = (await ledger.balance(session, account_id, now=now)).total
        return await announce_balance(session, account_id, total, now=now, notices=notices)


def balance_announcer(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    templates: MessageTemplates,
    channels: Channels,
) -> Callable[[int], Awaitable[int | None]]:
    """`announce_account` for one account at a time, as settlement and the operator's money
    actions call it after their commit."""
    notices = BalanceNotices.from_settings(settings, templates, channels)

    async def announce(account_id: int) -> int | None:
        now = datetime.now(UTC)
        return await announce_account(sessions, account_id, now=now, notices=notices)

    return announce
