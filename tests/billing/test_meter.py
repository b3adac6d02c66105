"""The meter and the settlement job over a real database (SQLite with the in-memory store,
PostgreSQL with Redis): charges draw slices, refuse at zero, settle exactly once, and
reconciliation repairs what a node that died left behind."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from humangate.billing import ledger
from humangate.billing.hot import BillingStore, MemoryBillingStore, RedisBillingStore
from humangate.billing.meter import DRY_SECONDS, BillingMeter
from humangate.billing.running_out import balance_announcer
from humangate.billing.settlement import SettlementJob
from humangate.config import Settings
from humangate.db.engine import DatabaseLimits, create_engine, create_sessionmaker
from humangate.db.models import Notification
from humangate.errors import DatabaseUnavailable, PaymentRequired
from humangate.messaging import Channels, MessageTemplates
from humangate.messaging.outbox import OutboxMailer, OutboxSmsGateway
from humangate.testkeys import TEST_UNITS
from humangate.units import UnitView
from tests.billing._db import db_url, sessions
from tests.billing._metering import balance_of, make_owner, reserved_of, usage_of
from tests.billing._nodes import row_locked

__all__ = ["db_url", "sessions"]  # the fixtures, imported

PRICES = {"challenge": 3, "verify": 2, "sms:*": 7}


@pytest.fixture
async def store(db_url: str, request: pytest.FixtureRequest) -> AsyncIterator[BillingStore]:
    """In memory beside SQLite (one node); Redis beside PostgreSQL (many nodes)."""
    if db_url.startswith("sqlite"):
        yield MemoryBillingStore()
        return
    redis = RedisBillingStore(
        request.getfixturevalue("redis_url"), prefix=f"hgbill-test-{uuid.uuid4().hex}"
    )
    try:
        yield redis
    finally:
        await redis.close()


def _meter(store: BillingStore, sessions: async_sessionmaker[AsyncSession]) -> BillingMeter:
    return BillingMeter(store, sessions, slice_size=10)


def _closed_port() -> int:
    """A port of 127.0.0.1 nothing listens on: a database that is down."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _unit(account_id: int | None, unit_id: int = 5) -> UnitView:
    return UnitView(unit_id, "sk", "n", ("localhost",), "invisible", 1, account_id=account_id)


async def _charge(meter: BillingMeter, account_id: int) -> bool:
    try:
        await meter.before_issue(_unit(account_id))
    except PaymentRequired:
        return False
    return True


async def test_concurrent_charges_stop_at_zero_and_settle_exactly(
    store: BillingStore, sessions: async_sessionmaker[AsyncSession]
) -> None:
    owner = await make_owner(sessions, prices=PRICES, balance=100)
    meter = _meter(store, sessions)
    results = await asyncio.gather(*(_charge(meter, owner) for _ in range(50)))
    assert results.count(True) == 33  # 99 of 100; the last 1 pays for no challenge
    assert not await _charge(meter, owner)
    await meter.reserved_ahead()
    job = SettlementJob(store, sessions, interval=1)
    await job.run_round()
    assert await usage_of(sessions, owner) == (33, 99)
    assert await balance_of(sessions, owner) == 1
    assert await reserved_of(sessions, owner) == await store.totals(owner) == 1
    await job.run_round()  # nothing new: nothing written twice
    assert await usage_of(sessions, owner) == (33, 99)


async def test_a_burst_beyond_every_slice_spends_the_whole_balance(
    store: BillingStore, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """Charges that find the allowance empty while its reservation is already under way (their
    demand was not in its size) wait for it and then for the next one: none is refused while
    the balance can still pay it, whatever else the node charges meanwhile."""
    busy = await make_owner(sessions, prices={"challenge": 3, "verify": 2}, balance=5000)
    other = await make_owner(sessions, prices={"challenge": 5, "verify": 1}, balance=3000)
    meter = _meter(store, sessions)
    paid = {busy: 0, other: 0}

    async def charge(owner: int, item: str) -> None:
        try:
            amount = await meter.charge(owner, item, 7)
        except PaymentRequired:
            return
        paid[owner] += amount

    burst = [(busy if n % 3 else other, "challenge" if n % 5 else "verify") for n in range(4000)]
    await asyncio.gather(*(charge(owner, item) for owner, item in burst))
    # Each asked for more than its balance: what is left of it is less than a price.
    assert paid[busy] >= 4998 and paid[other] >= 2996, paid
    await meter.reserved_ahead()
    await SettlementJob(store, sessions, interval=1).run_round()
    for owner, balance in ((busy, 5000), (other, 3000)):
        assert (await usage_of(sessions, owner))[1] == paid[owner]
        assert await balance_of(sessions, owner) == balance - paid[owner]


async def test_a_database_that_is_down_is_asked_for_a_slice_ahead_once_a_second(
    store: BillingStore, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """While the database is down the allowance still pays, the charges below a slice do not
    each try to reserve the next one, and once it is empty a failed try is answered for a
    second without another: every try leaves a pending note in the hot store that
    reconciliation counts as held for a minute once the database is back."""
    owner = await make_owner(sessions, prices=PRICES, balance=1000)
    current = [sessions]
    switched = cast(async_sessionmaker[AsyncSession], lambda: current[0]())
    moment = time.time()  # the same second throughout
    meter = BillingMeter(store, switched, slice_size=30, clock=lambda: moment)
    assert await meter.charge(owner, "challenge") == 3
    await meter.reserved_ahead()
    held = await store.totals(owner)
    assert held == 60  # a slice, and the next one ahead
    down = create_engine(
        f"postgresql+asyncpg://nobody@127.0.0.1:{_closed_port()}/none",
        DatabaseLimits(connect_timeout=1, pool_timeout=1),
    )
    current[0] = create_sessionmaker(down)
    try:
        for _ in range(19):  # the 57 left, each below a slice after the ninth
            assert await meter.charge(owner, "challenge") == 3
            await meter.reserved_ahead()
        assert await store.totals(owner) <= held + 30  # one note of a slice that failed, at most
        with pytest.raises(DatabaseUnavailable):  # the allowance is empty: a 503, not a 402
            await meter.charge(owner, "challenge")
        noted = await store.totals(owner)
        for _ in range(10):  # within the second, answered at once without a try or a note
            with pytest.raises(DatabaseUnavailable):
                await meter.charge(owner, "challenge")
        assert await store.totals(owner) == noted
    finally:
        await down.dispose()


async def test_a_top_up_resumes_charging(
    store: BillingStore, sessions: async_sessionmaker[AsyncSession]
) -> None:
    owner = await make_owner(sessions, prices=PRICES, balance=2)
    moment = [time.time()]
    meter = BillingMeter(store, sessions, slice_size=10, clock=lambda: moment[0])
    with pytest.raises(PaymentRequired) as refused:
        await meter.before_issue(_unit(owner))
    assert refused.value.code == "insufficient-balance"
    async with sessions() as session:
        await ledger.top_up(
            session, owner, 4, reference=f"t:{owner}", actor="system", now=datetime.now(UTC)
        )
        await session.commit()
    # Within a second of a refusal the node refuses without asking the database again.
    assert not await _charge(meter, owner)
    moment[0] += DRY_SECONDS
    assert await _charge(meter, owner)
    with pytest.raises(PaymentRequired):
        await meter.charge(owner, "sms:CN")  # 7 (sms:*) when 3 is left
    assert await meter.charge(owner, "challenge") == 3  # the allowance still pays for this
    await meter.reserved_ahead()
    await SettlementJob(store, sessions, interval=1).run_round()
    assert await usage_of(sessions, owner) == (2, 6)
    assert await balance_of(sessions, owner) == 0


async def test_what_is_free_is_not_metered(
    store: BillingStore, sessions: async_sessionmaker[AsyncSession]
) -> None:
    owner = await make_owner(sessions, prices={"challenge": 3}, balance=0)
    meter = _meter(store, sessions)
    await meter.before_issue(_unit(None))  # a CLI or demo unit
    await meter.before_issue(next(iter(TEST_UNITS.values())))
    assert await meter.charge(owner, "verify") == 0  # the plan does not price it
    assert await meter.credit(owner, "verify", reference="free:1") == 0  # nor credits it
    await meter.after_verify(_unit(owner))
    assert await store.accounts_with_state() == []


async def test_a_credit_note_gives_the_price_back_once_per_reference(
    store: BillingStore, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """charge() and credit() answer the amount they moved: what a verification's cost holds."""
    owner = await make_owner(sessions, prices=PRICES, balance=10)
    meter = _meter(store, sessions)
    assert await meter.charge(owner, "sms:GB") == 7  # sms:* prices every country
    assert await meter.credit(owner, "sms:GB", reference="undelivered:vf_1:1") == 7
    assert await meter.credit(owner, "sms:GB", reference="undelivered:vf_1:1") == 0
    assert await meter.credit(None, "sms:GB", reference="undelivered:vf_2:1") == 0
    await meter.reserved_ahead()
    await SettlementJob(store, sessions, interval=1).run_round()
    assert await balance_of(sessions, owner) == 10  # 3 cash and the credit note of 7


async def test_a_verification_is_charged_but_never_refused(
    store: BillingStore, sessions: async_sessionmaker[AsyncSession]
) -> None:
    owner = await make_owner(sessions, prices=PRICES, balance=5)
    meter = _meter(store, sessions)
    for _ in range(4):
        await meter.after_verify(_unit(owner))  # 2 + 2, then nothing can be had: free
    await meter.reserved_ahead()
    await SettlementJob(store, sessions, interval=1).run_round()
    assert await usage_of(sessions, owner) == (2, 4)
    assert await balance_of(sessions, owner) == 1


async def test_reconciliation_settles_an_orphaned_batch_once(
    store: BillingStore, sessions: async_sessionmaker[AsyncSession]
) -> None:
    owner = await make_owner(sessions, prices=PRICES, balance=100)
    meter = _meter(store, sessions)
    for _ in range(5):
        await meter.before_issue(_unit(owner))
    # A node took the usage into a batch and died before writing it.
    orphan = await store.take_open(owner, now=time.time() - 60)
    assert orphan is not None
    for _ in range(2):
        await meter.before_issue(_unit(owner))
    # Another died after writing its batch, before dropping it.
    written = await store.take_open(owner, now=time.time() - 60)
    assert written is not None
    async with sessions() as session:
        lines = await store.batch_lines(written)
        assert await ledger.settle_usage(
            session, owner, lines, batch=written, now=datetime.now(UTC)
        )
        await session.commit()
    await meter.reserved_ahead()
    job = SettlementJob(store, sessions, interval=1, orphan_seconds=10)
    await job.run_round()
    assert await store.pending_batches() == []
    assert await usage_of(sessions, owner) == (7, 21)
    assert await balance_of(sessions, owner) == 79
    assert await reserved_of(sessions, owner) == await store.totals(owner) == 30 - 21


async def test_reconciliation_gives_back_idle_and_abandoned_reservations(
    store: BillingStore, sessions: async_sessionmaker[AsyncSession]
) -> None:
    owner = await make_owner(sessions, prices=PRICES, balance=100)
    meter = _meter(store, sessions)
    await meter.before_issue(_unit(owner))
    # A node noted a reservation, reserved in the database, and died before adding it.
    long_ago = time.time() - 3600
    await store.begin_reservation(owner, "dead", 10, now=long_ago)
    async with sessions() as session:
        assert await ledger.reserve(session, owner, want=10, price=3, now=datetime.now(UTC)) == 10
    assert await reserved_of(sessions, owner) == 20
    # A reservation under way right now counts at what it asks.
    await store.begin_reservation(owner, "live", 10, now=time.time())
    await meter.reserved_ahead()  # the next slice, reserved in the background
    job = SettlementJob(store, sessions, interval=1, idle_seconds=3600)
    await job.run_round()
    # The allowance (7 left of a slice, and the slice reserved ahead) and the live note.
    assert await reserved_of(sessions, owner) == 7 + 10 + 10
    await store.cancel_reservation(owner, "live")
    await meter.reserved_ahead()
    idle = SettlementJob(store, sessions, interval=1, idle_seconds=0.001)
    await asyncio.sleep(0.01)
    await idle.run_round()
    assert await reserved_of(sessions, owner) == 0
    assert await store.totals(owner) == 0
    assert await balance_of(sessions, owner) == 97


async def test_settling_down_to_zero_tells_the_owner_once(
    store: BillingStore, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    owner = await make_owner(sessions, prices=PRICES, balance=30)
    settings = Settings(
        data_dir=tmp_path, secret_key="k" * 40, billing=True, billing_notice_thresholds="20"
    )
    channels = Channels(OutboxMailer(tmp_path), OutboxSmsGateway(tmp_path), False, False)
    announce = balance_announcer(sessions, settings, MessageTemplates(), channels)
    meter = _meter(store, sessions)
    job = SettlementJob(store, sessions, interval=1, settled=announce)
    for _ in range(2):  # 30 → 24 → 18: below 20 once
        for _ in range(2):
            assert await _charge(meter, owner)
        await meter.reserved_ahead()
        await job.run_round()
    while await _charge(meter, owner):  # down to zero
        pass
    await meter.reserved_ahead()
    await job.run_round()
    await job.run_round()

    async with sessions() as session:
        notices = (
            await session.scalars(
                select(Notification.subject).where(Notification.account_id == owner)
            )
        ).all()
    assert len(notices) == 2, notices  # one at the threshold, one at zero


async def test_a_busy_allowance_is_given_back_every_half_reserve_horizon(
    store: BillingStore, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """A slice may have been reserved against a voucher that expires within the hour: even an
    account charged all the time gives its allowance back every half hour."""
    owner = await make_owner(sessions, prices=PRICES, balance=1000)
    moment = [time.time()]
    meter = BillingMeter(store, sessions, slice_size=100, clock=lambda: moment[0])
    job = SettlementJob(store, sessions, interval=1, reconcile_every=1, clock=lambda: moment[0])
    half = ledger.RESERVE_HORIZON.total_seconds() / 2
    held: list[int] = []
    for _ in range(int(half // 20) + 2):  # a charge every 20 s: never idle
        assert await _charge(meter, owner)
        await meter.reserved_ahead()
        moment[0] += 20
        await job.run_round()
        held.append(await reserved_of(sessions, owner))
    # Held all along, but given back in the round when half the horizon had passed.
    assert [i for i, amount in enumerate(held) if amount == 0] == [int(half // 20) - 1], held


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)  # SQLite never skips a row
async def test_a_refresh_that_finds_the_row_busy_gives_the_allowance_back_next_round(
    store: BillingStore, sessions: async_sessionmaker[AsyncSession], db_url: str
) -> None:
    owner = await make_owner(sessions, prices=PRICES, balance=1000)
    moment = [time.time()]
    meter = BillingMeter(store, sessions, slice_size=100, clock=lambda: moment[0])
    job = SettlementJob(store, sessions, interval=1, reconcile_every=1, clock=lambda: moment[0])
    assert await _charge(meter, owner)
    await meter.reserved_ahead()
    await job.run_round()
    assert await reserved_of(sessions, owner) > 0
    moment[0] += ledger.RESERVE_HORIZON.total_seconds() / 2
    async with row_locked(db_url, owner):  # a reservation or a settlement holds the row
        await job.reconcile()
    assert await reserved_of(sessions, owner) > 0
    assert await _charge(meter, owner)  # busy: never idle long enough to be given back
    await meter.reserved_ahead()
    moment[0] += 20
    await job.run_round()
    assert await reserved_of(sessions, owner) == 0
