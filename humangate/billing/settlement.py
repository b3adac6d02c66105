"""Settlement and reconciliation of metered usage: the hot store's usage into the ledger.

Every node runs the job every HUMANGATE_BILLING_SETTLE_SECONDS. A round takes each account's
open usage into a batch (an atomic rename), writes it to the ledger as usage transactions whose
references carry the batch's id, so a batch is settled exactly once whoever writes it, then
drops the batch. Every `reconcile_every` rounds (and at the first) it also reconciles:

- a batch older than `orphan_seconds` is settled (its node died between taking and dropping it;
  if it had been settled already, the unique reference writes nothing and it is dropped);
- an allowance not charged for `idle_seconds` is given back to the balance, and every half of
  `ledger.RESERVE_HORIZON` every allowance is, busy or not: a slice reserved against a voucher
  must be spent or returned before the voucher expires (the next charge reserves afresh);
- `reserved` becomes the hot store's total for the account (allowance + open usage + batches +
  pending reservations), read under the account row's lock, which every reservation and
  settlement takes too: it can only ever overstate what is held, never understate it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from humangate.billing import ledger
from humangate.billing.hot import BillingStore, batch_account, batch_time
from humangate.db.models import BillingAccount
from humangate.jobs.base import PeriodicJob

log = logging.getLogger(__name__)

STALE_RESERVATION_SECONDS = 60.0  # far beyond the database's statement and lock timeouts


class SettlementJob(PeriodicJob):
    """Settles usage every `interval` seconds and reconciles every `reconcile_every` rounds."""

    failure = "{job}: a settlement round failed; the usage stays in the hot store"
    round_at_close = True  # a node leaving settles what it can

    def __init__(
        self,
        store: BillingStore,
        sessions: async_sessionmaker[AsyncSession],
        *,
        interval: float,
        reconcile_every: int = 10,
        orphan_seconds: float | None = None,
        idle_seconds: float | None = None,
        settled: Callable[[int], Awaitable[object]] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(interval=interval)
        self._store = store
        self._sessions = sessions
        self._reconcile_every = reconcile_every
        self._orphan_seconds = orphan_seconds or max(10 * interval, 2.0)
        self._idle_seconds = idle_seconds or max(30 * interval, 60.0)
        self._clock = clock
        self._after = settled
        self._rounds = 0
        self._refreshed = clock()
        self._refresh_due: set[int] = set()  # accounts whose allowance a refresh must give back
        self._taken: list[str] = []  # batches this node took and has not settled yet

    async def run_round(self) -> int:
        """Settle every account's open usage (and reconcile when due); the batches settled."""
        settled = await self.settle_open()
        if self._rounds % self._reconcile_every == 0:
            settled += await self.reconcile()
        self._rounds += 1
        return settled

    async def settle_open(self) -> int:
        """Take every account's open usage into batches and settle them; a batch whose write
        failed (the database was busy or away) is tried again first next round, and at close."""
        for account_id in await self._store.accounts_with_state():
            batch = await self._store.take_open(account_id, now=self._clock())
            if batch is not None:
                self._taken.append(batch)
        settled = 0
        accounts: set[int] = set()
        while self._taken:
            await self.settle(self._taken[0])
            accounts.add(batch_account(self._taken.pop(0)))
            settled += 1
        if self._after is not None:
            for account_id in sorted(accounts):
                try:
                    await self._after(account_id)
                except Exception:  # a notice that fails must not stop settling
                    log.exception("After settling account %s's usage", account_id)
        return settled

    async def settle(self, batch: str) -> None:
        """Write one batch to the ledger (once, whoever else tries), then drop it."""
        account_id = batch_account(batch)
        lines = await self._store.batch_lines(batch)
        if lines:
            now = datetime.fromtimestamp(self._clock(), UTC)
            async with self._sessions() as session:
                try:
                    await _lock(session, account_id)
                    await ledger.settle_usage(session, account_id, lines, batch=batch, now=now)
                    await session.commit()
                except IntegrityError:
                    # Another node wrote the same batch at the same moment (or the account was
                    # erased meanwhile): either way there is nothing left to write.
                    await session.rollback()
        await self._store.drop_batch(batch)

    async def reconcile(self) -> int:
        """Settle orphaned batches, give back idle allowances, set `reserved` to the hot
        totals; returns the orphans settled."""
        now = self._clock()
        orphans = [
            batch
            for batch in await self._store.pending_batches()
            if batch_time(batch) < now - self._orphan_seconds
        ]
        for batch in orphans:
            await self.settle(batch)
        hot = set(await self._store.accounts_with_state())
        async with self._sessions() as session:
            held = set(
                await session.scalars(
                    select(BillingAccount.account_id).where(BillingAccount.reserved != 0)
                )
            )
        accounts = hot | held
        if now - self._refreshed >= ledger.RESERVE_HORIZON.total_seconds() / 2:
            self._refresh_due = set(accounts)
            self._refreshed = now
        for account_id in sorted(accounts):
            # Due for a refresh: given back busy or not, in a later round if its row was busy
            # in this one, so no allowance outlives the horizon by another half of it.
            due = account_id in self._refresh_due
            idle_since = now if due else now - self._idle_seconds
            if await self.reconcile_account(account_id, now=now, idle_since=idle_since) is not None:
                self._refresh_due.discard(account_id)
        self._refresh_due &= accounts
        return len(orphans)

    async def reconcile_account(
        self, account_id: int, *, now: float, idle_since: float | None = None
    ) -> int | None:
        """Give back an allowance not charged since `idle_since` (default: `idle_seconds`
        ago) and set `reserved` to the hot total; returns it, or None when the row is busy (a
        reservation or a settlement holds it: next time)."""
        async with self._sessions() as session:
            if not await _lock(session, account_id, skip_locked=True):
                return None
            if idle_since is None:
                idle_since = now - self._idle_seconds
            await self._store.take_allowance(account_id, idle_since=idle_since)
            total = await self._store.totals(
                account_id, stale_before=now - STALE_RESERVATION_SECONDS
            )
            await session.execute(
                update(BillingAccount)
                .where(BillingAccount.account_id == account_id)
                .values(reserved=total)
                .execution_options(synchronize_session=False)
            )
            await session.commit()
        return total


async def _lock(session: AsyncSession, account_id: int, *, skip_locked: bool = False) -> bool:
    """Take the account row's write lock first, so the reads that follow see what every
    reservation committed before: `FOR UPDATE` on PostgreSQL (False at once when another
    holds it and `skip_locked`), a write on SQLite, which locks the database."""
    if session.get_bind().dialect.name == "postgresql":
        query = select(BillingAccount.account_id).where(BillingAccount.account_id == account_id)
        found = await session.scalar(query.with_for_update(skip_locked=skip_locked))
        return found is not None
    await session.execute(
        update(BillingAccount)
        .where(BillingAccount.account_id == account_id)
        .values(reserved=BillingAccount.reserved)
        .execution_options(synchronize_session=False)
    )
    return True
