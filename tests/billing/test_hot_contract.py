"""One contract for both billing stores: the in-memory one and Redis behave the same."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest

from humangate.billing.hot import (
    BillingStore,
    Charged,
    MemoryBillingStore,
    NeedSlice,
    RedisBillingStore,
    batch_account,
    usage_field,
)

NOW = 1_800_000_000.0
HOUR = int(NOW // 3600)
FIELD = usage_field(HOUR, 7, "challenge")

StoreFactory = Callable[[], BillingStore]


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def stores(request: pytest.FixtureRequest) -> AsyncIterator[StoreFactory]:
    """Clients onto one shared store; for Redis each call is a new pool, under a test prefix."""
    made: list[BillingStore] = []
    if request.param == "memory":
        shared = MemoryBillingStore()

        def factory() -> BillingStore:
            return shared
    else:
        url = request.getfixturevalue("redis_url")
        prefix = f"hgbill-test-{uuid.uuid4().hex}"

        def factory() -> BillingStore:
            client = RedisBillingStore(url, prefix=prefix)
            made.append(client)
            return client

    try:
        yield factory
    finally:
        for client in made:
            await client.close()


@pytest.fixture
def store(stores: StoreFactory) -> BillingStore:
    return stores()


async def _grant(store: BillingStore, account: int, amount: int, rid: str = "r1") -> bool:
    await store.begin_reservation(account, rid, amount, now=NOW)
    return await store.add_allowance(account, amount, rid)


async def test_a_charge_needs_an_allowance(store: BillingStore) -> None:
    assert await store.charge(1, 5, FIELD, now=NOW) == NeedSlice(0)
    assert await _grant(store, 1, 12)
    assert await store.charge(1, 5, FIELD, now=NOW) == Charged(7)
    assert await store.charge(1, 5, FIELD, now=NOW) == Charged(2)
    assert await store.charge(1, 5, FIELD, now=NOW) == NeedSlice(2)
    assert await store.totals(1) == 12
    assert await store.accounts_with_state() == [1]


async def test_an_allowance_is_added_once_and_not_after_it_went_stale(store: BillingStore) -> None:
    assert await _grant(store, 1, 10, "r1")
    assert not await store.add_allowance(1, 10, "r1")  # the same reservation again
    await store.begin_reservation(1, "r2", 30, now=NOW - 100)
    assert await store.totals(1) == 40  # a pending reservation counts at what it asked
    assert await store.totals(1, stale_before=NOW - 50) == 10  # dropped as stale
    assert not await store.add_allowance(1, 30, "r2")  # its node came back too late
    await store.begin_reservation(1, "r3", 30, now=NOW)
    await store.cancel_reservation(1, "r3")
    assert await store.totals(1) == 10


async def test_open_usage_is_taken_into_a_batch_and_dropped(store: BillingStore) -> None:
    await _grant(store, 3, 100)
    other = usage_field(HOUR, None, "sms:CN")
    for field, price in ((FIELD, 2), (FIELD, 3), (other, 10)):
        assert isinstance(await store.charge(3, price, field, now=NOW), Charged)
    assert await store.take_open(4, now=NOW) is None
    batch = await store.take_open(3, now=NOW)
    assert batch is not None and batch_account(batch) == 3
    assert await store.take_open(3, now=NOW) is None  # nothing open any more
    lines = await store.batch_lines(batch)
    hour = datetime.fromtimestamp(HOUR * 3600, UTC)
    assert [(ln.hour, ln.unit_id, ln.item, ln.quantity, ln.amount) for ln in lines] == sorted(
        [(hour, 7, "challenge", 2, 5), (hour, None, "sms:CN", 1, 10)],
        key=lambda line: usage_field(HOUR, line[1], line[2]),
    )
    assert await store.pending_batches() == [batch]
    assert await store.totals(3) == 100  # allow 85 + the batch's 15
    await store.drop_batch(batch)
    assert await store.pending_batches() == []
    assert await store.totals(3) == 85
    assert await store.batch_lines(batch) == []


async def test_an_idle_allowance_is_taken_and_the_account_forgotten(store: BillingStore) -> None:
    await _grant(store, 5, 50)
    assert isinstance(await store.charge(5, 1, FIELD, now=NOW), Charged)
    assert await store.take_allowance(5, idle_since=NOW) == 0  # charged at NOW: not idle
    assert await store.take_allowance(5, idle_since=NOW + 1) == 49
    assert await store.totals(5) == 1  # the open usage stays
    batch = await store.take_open(5, now=NOW)
    assert batch is not None
    await store.drop_batch(batch)
    assert await store.take_allowance(5, idle_since=NOW + 1) == 0
    assert await store.accounts_with_state() == []


async def test_concurrent_charges_from_many_clients_lose_nothing(stores: StoreFactory) -> None:
    clients = [stores() for _ in range(4)]
    await _grant(clients[0], 9, 1000)

    async def charge(client: BillingStore) -> bool:
        return isinstance(await client.charge(9, 3, FIELD, now=NOW), Charged)

    results = await asyncio.gather(*(charge(clients[i % 4]) for i in range(400)))
    assert sum(results) == 333  # 1000 // 3, and not one more
    batch = await clients[1].take_open(9, now=NOW)
    assert batch is not None
    (line,) = await clients[2].batch_lines(batch)
    assert (line.quantity, line.amount) == (333, 999)
    assert await clients[3].totals(9) == 1000


async def test_many_charges_in_one_step_pay_in_order(store: BillingStore) -> None:
    await _grant(store, 11, 7)
    other = usage_field(HOUR, 8, "verify")
    results = await store.charge_many(
        [(11, 3, FIELD), (12, 1, FIELD), (11, 3, other), (11, 3, FIELD)], now=NOW
    )
    assert results == [Charged(4), NeedSlice(0), Charged(1), NeedSlice(1)]
    batch = await store.take_open(11, now=NOW)
    assert batch is not None
    lines = await store.batch_lines(batch)
    assert sorted((ln.unit_id, ln.quantity, ln.amount) for ln in lines) == [(7, 1, 3), (8, 1, 3)]


async def test_a_run_of_one_charge_pays_until_the_allowance_cannot(store: BillingStore) -> None:
    """A busy node's batch is mostly one charge many times over: Redis takes such a run in one
    debit, and each charge is still answered as if it had come alone, in order."""
    await _grant(store, 13, 10)
    other = usage_field(HOUR, 8, "verify")
    charges = [(13, 3, FIELD)] * 4 + [(13, 1, FIELD)] * 2 + [(13, 1, other), (13, 3, FIELD)]
    results = await store.charge_many(charges, now=NOW)
    assert results == [
        *(Charged(7), Charged(4), Charged(1), NeedSlice(1)),
        *(Charged(0), NeedSlice(0)),
        *(NeedSlice(0), NeedSlice(0)),
    ]
    batch = await store.take_open(13, now=NOW)
    assert batch is not None
    lines = await store.batch_lines(batch)
    assert [(ln.unit_id, ln.quantity, ln.amount) for ln in lines] == [(7, 4, 10)]


@pytest.mark.redis
async def test_scripts_are_sent_again_when_redis_forgot_them(redis_url: str) -> None:
    import redis

    store = RedisBillingStore(redis_url, prefix=f"hgbill-test-{uuid.uuid4().hex}")
    try:
        await _grant(store, 1, 10)
        with redis.Redis.from_url(redis_url) as client:
            client.script_flush()  # as after a restart
        assert await store.charge(1, 4, FIELD, now=NOW) == Charged(6)
        assert await store.totals(1) == 10
    finally:
        await store.close()
