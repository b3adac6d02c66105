"""Two real `humangate serve` nodes with billing on, over one PostgreSQL and one Redis with
AOF on and fsync always (what billing asks operators to run), and what the ledger says."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from humangate.billing.hot import RedisBillingStore
from humangate.db.engine import create_engine, create_sessionmaker
from humangate.db.units import create_unit
from tests.billing._metering import balance_of, make_owner, reserved_of, usage_of
from tests.live import humangate_env
from tests.store.servers import RedisProcess
from tests.test_multinode_faults import Node

ORIGIN = {"Origin": "http://localhost"}
PRICE = 2
NODE_SETTINGS = {
    "demo": "false",
    "billing": "true",
    "unit_cache_seconds": "1",
    "rate_challenges_per_minute": "10000000",
    "shutdown_timeout": "2",
}
DEADLINE = 40.0


@contextmanager
def running_cluster(tmp_path: Path, database_url: str) -> Iterator[Cluster]:
    """A Redis of its own (AOF, fsync always) and the database; nodes are started by the test."""
    workdir = tmp_path / "redis"
    workdir.mkdir()
    redis = RedisProcess(workdir, "--save", "", "--appendonly", "yes", "--appendfsync", "always")
    redis.start()
    cluster = Cluster(tmp_path, redis, database_url)
    try:
        yield cluster
    finally:
        cluster.stop()
        redis.stop()


class Cluster:
    """Two nodes, their database and Redis, an owner with a balance and one of their units."""

    def __init__(self, tmp_path: Path, redis: RedisProcess, database_url: str) -> None:
        self.redis = redis
        self.database_url = database_url
        self.tmp_path = tmp_path
        self.nodes: dict[str, Node] = {}
        self.owner = 0
        self.sitekey = ""
        self.secret = ""

    def start(self, name: str, **settings: str) -> Node:
        shared = {"redis_url": self.redis.url, "database_url": self.database_url}
        env = humangate_env(self.tmp_path / name, **shared, **NODE_SETTINGS, **settings)
        node = Node(name, env)
        node.start()
        self.nodes[name] = node
        return node

    def stop(self) -> None:
        for node in self.nodes.values():
            node.stop()

    def db(self, work: Callable[[async_sessionmaker[AsyncSession]], Any]) -> Any:
        async def run() -> Any:
            engine = create_engine(self.database_url)
            try:
                return await work(create_sessionmaker(engine))
            finally:
                await engine.dispose()

        return asyncio.run(run())

    def open_account(self, balance: int, *, slice_prices: dict[str, int] | None = None) -> None:
        prices = slice_prices or {"challenge": PRICE, "verify": PRICE}

        async def work(sessions: async_sessionmaker[AsyncSession]) -> None:
            self.owner = await make_owner(sessions, prices=prices, balance=balance)
            async with sessions() as session:
                made = await create_unit(
                    session,
                    name="metered",
                    domains=["localhost"],
                    mode="invisible",
                    pow_difficulty=1000,
                    account_id=self.owner,
                )
            self.sitekey, self.secret = made.unit.sitekey, made.secret

        self.db(work)

    def ledger(self) -> tuple[int, int, int, int]:
        """(usage quantity, usage amount, balance, reserved) as the database holds them."""

        async def work(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int, int, int]:
            quantity, amount = await usage_of(sessions, self.owner)
            return (
                quantity,
                amount,
                await balance_of(sessions, self.owner),
                await reserved_of(sessions, self.owner),
            )

        return self.db(work)  # type: ignore[no-any-return]

    def hot_total(self) -> int:
        async def work() -> int:
            store = RedisBillingStore(self.redis.url)
            try:
                return await store.totals(self.owner)
            finally:
                await store.close()

        return asyncio.run(work())

    def pending_batches(self) -> list[str]:
        async def work() -> list[str]:
            store = RedisBillingStore(self.redis.url)
            try:
                return await store.pending_batches()
            finally:
                await store.close()

        return asyncio.run(work())

    def wait_exact(self, charged: int, paid: int) -> tuple[int, int, int, int]:
        """Poll until the ledger holds exactly `charged` charges and `reserved` equals the
        hot total (settlement and reconciliation run every few seconds); never more."""
        deadline = time.monotonic() + DEADLINE
        while True:
            quantity, amount, balance, reserved = state = self.ledger()
            assert quantity <= charged, state  # never a charge written twice
            assert balance >= 0, state  # the plan grants no credit
            if quantity == charged and reserved == self.hot_total():
                assert amount == charged * PRICE and balance == paid - amount, state
                return state
            assert time.monotonic() < deadline, (state, charged, self.hot_total())
            time.sleep(0.3)


async def issue_many(urls: list[str], sitekey: str, count: int) -> Counter[int]:
    """`count` challenges asked at once (64 in flight) across the nodes; statuses counted.

    A transport error (status 0) must be the node's: one client per node keeps every connection
    it opens (httpx keeps 20 idle by default and closes the others as requests finish, and
    httpcore may close one it has just handed to another request, which then fails with a
    ReadError the node had no part in), and lets an idle one expire well before the node's own
    keep-alive (uvicorn's 5 s) would close it under a request reusing it.
    """
    statuses: Counter[int] = Counter()
    gate = asyncio.Semaphore(64)
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64, keepalive_expiry=2)
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=url, headers=ORIGIN, timeout=30, limits=limits)
            )
            for url in urls
        ]

        async def one(i: int) -> None:
            async with gate:
                try:
                    reply = await clients[i % len(clients)].post(
                        "/api/v1/challenges", json={"sitekey": sitekey}
                    )
                except httpx.TransportError:
                    statuses[0] += 1
                    return
                if reply.status_code == 402:
                    assert reply.json()["error"] == "insufficient-balance"
                statuses[reply.status_code] += 1

        await asyncio.gather(*(one(i) for i in range(count)))
    return statuses


def issue(urls: list[str], sitekey: str, count: int) -> Counter[int]:
    return asyncio.run(issue_many(urls, sitekey, count))


@asynccontextmanager
async def row_locked(database_url: str, account_id: int) -> AsyncIterator[None]:
    """Hold the owner's billing row lock: settlement takes its batch, then waits on it."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            transaction = await connection.begin()
            await connection.execute(
                text("SELECT reserved FROM billing_accounts WHERE account_id = :a FOR UPDATE"),
                {"a": account_id},
            )
            try:
                yield
            finally:
                await transaction.rollback()
    finally:
        await engine.dispose()
