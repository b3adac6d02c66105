"""The meter of a billing deployment: each billable event charged in real time, no DB write.

A charge takes the price from the account's allowance in the hot store (humangate/billing/hot.py)
in one atomic step. When the allowance cannot pay, the node reserves a slice of the balance in
the database (one write per slice, under the account row's lock; one reservation at a time per
account and node) and charges again; when not even the price is available the charge is refused
with `insufficient-balance` (402). A node reserves the next slice in the background once the
allowance falls below a slice (so it holds at most two): under load a reservation waits for many
turns of the event loop and for settlement's writes, and a whole slice of headroom keeps a busy
account's charges from ever waiting for it. A busy account's slice grows with its pace
(humangate/billing/pace.py) so that the headroom lasts seconds, not a fraction of one.

Charges that find the allowance empty all wait for the one reservation under way (started by
the first of them, or ahead in the background), sized for what they ask together, and charge
again together in one script: none of them holds a lock while it talks to a store.

What is free: units of no account (made by the CLI or the demo), the published test units, and
items the account's plan does not price. A successful siteverify is charged `verify` after the
fact and never refused: a token minted before the balance ran out still verifies, and when no
allowance can be had (or the stores fail) that verification is simply not charged.

A charge whose answer is lost (Redis dies between running the script and answering) refuses the
request yet may have been taken: the owner pays for one event that did not happen, at most one
per request in flight at the failure, never one twice. A reservation that fails (the database
or the store is down) is not tried again for DRY_SECONDS: charges the allowance cannot pay
meanwhile are answered the same StorageError at once (503), and none is reserved ahead.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from humangate.billing import ledger
from humangate.billing.hot import BillingStore, Charge, Charged, usage_field
from humangate.billing.pace import SlicePace
from humangate.db.models import LedgerTransaction, Voucher
from humangate.errors import PaymentRequired, StorageError
from humangate.testkeys import is_test_unit
from humangate.units import UnitView

logger = logging.getLogger(__name__)
CREDIT_NOTE_DAYS = 365

PLAN_CACHE_SECONDS = 5.0
MAX_ATTEMPTS = 8  # reservations one charge may wait for before it gives up (others took them)
# Waits in all, counting those for a reservation sized before the charge asked (not attempts).
MAX_WAITS = 4 * MAX_ATTEMPTS
MAX_CACHED_PLANS = 10_000
MAX_BATCH = 256  # charges sent to the hot store in one script
# After a refusal the node refuses the account for this long without asking the database again:
# a flood of challenges at zero costs no write each, and a top-up is seen within it.
DRY_SECONDS = 1.0
REFUSED = "The owner's balance cannot pay for this; the service resumes after a top-up."


class BillingMeter:
    """Charges `challenge` before a challenge is issued, `verify` after a token verified, and
    whatever the verification API sends (`sms:CC`, `email`, `carrier:<method>`).

    Args:
        store: the hot store shared by every node.
        sessions: the database, for prices (cached `plan_seconds`) and slice reservations.
        slice_size: minor units reserved from a balance at a time, at least (a busy account's
            slice follows its pace: humangate/billing/pace.py).
    """

    def __init__(
        self,
        store: BillingStore,
        sessions: async_sessionmaker[AsyncSession],
        *,
        slice_size: int,
        plan_seconds: float = PLAN_CACHE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self._sessions = sessions
        self._plan_seconds = plan_seconds
        self._clock = clock
        self._plans: dict[int, tuple[float, ledger.PlanView]] = {}
        self._dry: dict[int, float] = {}  # account → until when it is refused outright
        # account → until when no slice is reserved after one failed, and the store's error
        # (None for another): each try leaves a pending note in the hot store, counted as held
        # until it goes stale, and a store that is down would only fail (or time out) again.
        self._failed: dict[int, tuple[float, StorageError | None]] = {}
        # The reservation under way per account (one at a time), and what the charges waiting
        # for it ask together.
        self._refills: dict[int, asyncio.Task[bool]] = {}
        self._waiting: dict[int, int] = {}
        self._sized: set[int] = set()  # accounts whose reservation under way read `_waiting`
        self._pace = SlicePace(slice_size)
        self._batch = _ChargeBatch(store, clock)
        self._plan_reads: dict[int, asyncio.Task[ledger.PlanView]] = {}

    async def before_issue(self, unit: UnitView) -> None:
        """Charge the unit's owner for a challenge; PaymentRequired when it cannot pay."""
        if _billable(unit):
            await self.charge(unit.account_id, "challenge", unit.id)

    async def before_mint(self, unit: UnitView) -> None:
        return None  # the challenge was paid for when it was issued

    async def after_verify(self, unit: UnitView) -> None:
        """Charge `verify` for a token that verified; never refuses (see the module's text)."""
        if not _billable(unit):
            return
        try:
            await self.charge(unit.account_id, "verify", unit.id)
        except PaymentRequired:
            return None
        except StorageError as exc:
            logger.warning("A verification was not charged: %s", exc)

    async def charge(self, account_id: int | None, item: str, unit_id: int | None = None) -> int:
        """Charge one `item` to the account; the price charged, 0 when nothing is due (no
        account, or free).

        Raises:
            PaymentRequired: `insufficient-balance`, the balance cannot pay the price.
            StorageError: the hot store or the database failed (nothing was charged, or one
                event whose answer was lost).
        """
        if account_id is None:
            return 0
        price = ledger.price_of(await self._plan(account_id), item)
        if price <= 0:
            return 0
        ahead = True  # whether a charge below a slice reserves the next one in the background
        attempts = 0
        for _ in range(MAX_WAITS):
            now = self._clock()
            field = usage_field(int(now // 3600), unit_id, item)
            charged = await self._batch.charge(account_id, price, field, now=now)
            if isinstance(charged, Charged):
                self._pace.count(account_id, price, now=now)
                if ahead and charged.remaining < self._pace.slice_for(account_id, price):
                    self._refill_soon(account_id, price)
                return price
            if self._dry.get(account_id, 0.0) > self._clock():
                raise PaymentRequired(REFUSED)
            until, error = self._failed.get(account_id, (0.0, None))
            if error is not None and until > self._clock() and account_id not in self._refills:
                raise type(error)(*error.args)  # answered at once: a 503 with its code
            # Of the charges that waited for one reservation, the one that started it reserves
            # ahead for all: the others' shortfall was counted in it.
            ahead = account_id not in self._refills
            # A reservation already sized does not count this charge's price: under a burst it
            # is spent by the others who asked in time, and only the next one is an attempt.
            counted = account_id not in self._sized
            if not await self._reserved(account_id, price):
                raise PaymentRequired(REFUSED)
            attempts += counted
            if attempts >= MAX_ATTEMPTS:
                break
        raise PaymentRequired(REFUSED)

    async def credit(self, account_id: int | None, item: str, *, reference: str) -> int:
        """Give back the price of one `item` charged for what was not delivered (a message the
        gateway refused twice): a credit note, once per `reference`. It is a voucher of the
        price, valid CREDIT_NOTE_DAYS and spent before cash, never cash: the charge may have
        been paid from a voucher, which must not turn into money a refund pays out. A database
        write, on a failure only.

        Returns:
            The amount this call credited: 0 when the item is free or `reference` was credited
            already.
        """
        if account_id is None:
            return 0
        price = ledger.price_of(await self._plan(account_id), item)
        if price <= 0:
            return 0
        now = datetime.fromtimestamp(self._clock(), UTC)
        async with self._sessions() as session:
            done = await session.scalar(
                select(LedgerTransaction.id).where(LedgerTransaction.reference == reference)
            )
            if done is not None:
                return 0
            note = Voucher(
                amount=price,
                expires_at=now + timedelta(days=CREDIT_NOTE_DAYS),
                batch="credit-note",
                account_id=account_id,
                created_at=now,
                redeemed_at=now,
            )
            session.add(note)
            await session.flush()
            postings = [
                ledger.Posting(ledger.voucher_book(note.id), price),
                ledger.Posting("promotions", -price),
            ]
            await ledger.post(
                session,
                account_id,
                "voucher-grant",
                postings,
                reference=reference,
                actor="system",
                now=now,
                memo=f"{item} not delivered",
                item=item,
            )
            try:
                await session.commit()
            except IntegrityError:  # the same credit, written by another request meanwhile
                await session.rollback()
                return 0
        return price

    def _refill_soon(self, account_id: int, price: int) -> None:
        """Reserve the next slice in the background while the allowance still pays, so the
        charges of a busy account seldom wait for the database. Not again for DRY_SECONDS
        once the balance had nothing more to give or a reservation failed (a charge that finds
        the allowance empty meanwhile is answered that failure at once)."""
        until = max(self._dry.get(account_id, 0.0), self._failed.get(account_id, (0.0,))[0])
        if account_id in self._refills or until > self._clock():
            return
        self._refill(account_id, price)

    async def _reserved(self, account_id: int, price: int) -> bool:
        """Wait for the account's reservation under way, or start one; whether it reserved
        anything (False: the balance cannot pay, the account is refused for DRY_SECONDS).

        Raises:
            StorageError: the reservation failed.
        """
        task = self._refills.get(account_id) or self._refill(account_id, price)
        self._waiting[account_id] = self._waiting.get(account_id, 0) + price
        try:
            # Shielded: a request that goes away does not cancel the others' reservation.
            return await asyncio.shield(task)
        finally:
            left = self._waiting.pop(account_id, 0) - price
            if left > 0:
                self._waiting[account_id] = left

    def _refill(self, account_id: int, price: int) -> asyncio.Task[bool]:
        task = asyncio.create_task(self._reserve_slice(account_id, price))
        self._refills[account_id] = task
        task.add_done_callback(lambda done: self._refilled(account_id, done))
        return task

    def _refilled(self, account_id: int, task: asyncio.Task[bool]) -> None:
        if self._refills.get(account_id) is task:
            del self._refills[account_id]
            self._sized.discard(account_id)
        error = None if task.cancelled() else task.exception()
        if error is not None:
            # The charges waiting for it get the error; one ahead of need is only logged.
            logger.warning("A slice could not be reserved: %s", error)
            if len(self._failed) >= MAX_CACHED_PLANS:
                self._failed.clear()
            stored = error if isinstance(error, StorageError) else None
            self._failed[account_id] = (self._clock() + DRY_SECONDS, stored)

    async def _reserve_slice(self, account_id: int, price: int) -> bool:
        """`_reserve` a slice for the pace and for the charges waiting now; a balance with
        nothing left to give marks the account dry."""
        want = max(self._pace.slice_for(account_id, price), self._waiting.get(account_id, 0))
        self._sized.add(account_id)
        if await self._reserve(account_id, price, want):
            return True
        if len(self._dry) >= MAX_CACHED_PLANS:
            self._dry.clear()
        self._dry[account_id] = self._clock() + DRY_SECONDS
        return False

    async def reserved_ahead(self, timeout: float = 5.0) -> None:
        """Wait for the slices being reserved in the background (for a close, and tests)."""
        if self._refills:
            await asyncio.wait(list(self._refills.values()), timeout=timeout)

    async def close(self) -> None:
        """Let the reservations under way finish, then close the hot store."""
        await self.reserved_ahead()
        await self.store.close()

    async def _reserve(self, account_id: int, price: int, want: int) -> bool:
        """Reserve up to `want` in the database into the allowance; False when not even
        `price` is available.

        The reservation is noted in the hot store first, so a reconciliation running meanwhile
        counts it; a node that dies here leaves a pending note that goes stale.
        """
        reservation = secrets.token_hex(12)
        now = self._clock()
        await self.store.begin_reservation(account_id, reservation, want, now=now)
        async with self._sessions() as session:
            amount = await ledger.reserve(
                session, account_id, want=want, price=price, now=datetime.fromtimestamp(now, UTC)
            )
        if amount <= 0:
            await self.store.cancel_reservation(account_id, reservation)
            return False
        # False only when reconciliation dropped the note as stale: the money it reserved was
        # given back then, so charging again reserves anew.
        await self.store.add_allowance(account_id, amount, reservation)
        return True

    async def _plan(self, account_id: int) -> ledger.PlanView:
        """The account's plan, cached for `plan_seconds`. One read per account at a time, and a
        plan past its time is served while it is read again: the requests of a busy account
        never all wait for the database together when the cache turns."""
        cached = self._plans.get(account_id)
        if cached is not None:
            if cached[0] <= self._clock() and account_id not in self._plan_reads:
                self._read_plan(account_id)  # in the background
            return cached[1]
        reading = self._plan_reads.get(account_id) or self._read_plan(account_id)
        return await asyncio.shield(reading)

    def _read_plan(self, account_id: int) -> asyncio.Task[ledger.PlanView]:
        task = asyncio.create_task(self._load_plan(account_id))
        self._plan_reads[account_id] = task
        task.add_done_callback(lambda done: self._plan_read(account_id, done))
        return task

    def _plan_read(self, account_id: int, task: asyncio.Task[ledger.PlanView]) -> None:
        self._plan_reads.pop(account_id, None)
        if not task.cancelled() and task.exception() is not None:
            # A request that waits gets the error; a stale plan keeps serving meanwhile.
            logger.warning("A plan could not be read: %s", type(task.exception()).__name__)

    async def _load_plan(self, account_id: int) -> ledger.PlanView:
        now = self._clock()
        async with self._sessions() as session:
            plan = await ledger.plan_of(session, account_id, now=datetime.fromtimestamp(now, UTC))
            await session.commit()  # the billing account, when it was made just now
        if len(self._plans) >= MAX_CACHED_PLANS:
            self._plans.clear()
        self._plans[account_id] = (now + self._plan_seconds, plan)
        return plan


class _ChargeBatch:
    """Charges asked for while one trip to the hot store is under way go together in the next:
    under load a node sends one script for many charges, and each request still waits for its
    own charge to be recorded before it is answered."""

    def __init__(self, store: BillingStore, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock
        self._queue: list[tuple[tuple[int, int, str], asyncio.Future[Charge]]] = []
        self._task: asyncio.Task[None] | None = None

    async def charge(self, account_id: int, price: int, field: str, *, now: float) -> Charge:
        future: asyncio.Future[Charge] = asyncio.get_running_loop().create_future()
        self._queue.append(((account_id, price, field), future))
        if self._task is None:
            self._task = asyncio.create_task(self._send())
        return await future

    async def _send(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                try:
                    results = await self._store.charge_many(
                        [charge for charge, _ in batch], now=self._clock()
                    )
                except Exception as exc:  # noqa: BLE001 - each request raises it
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)
        finally:
            self._task = None


def _billable(unit: UnitView) -> bool:
    return unit.account_id is not None and not is_test_unit(unit)
