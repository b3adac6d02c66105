"""One contract for every hot-state store: the in-memory store and Redis behave the same."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.exceptions import RedisError

from humangate.errors import StorageError
from humangate.store import MemoryStore, Store, create_store
from humangate.store.redis import RedisStore

# Short lifetimes keep the suite fast; the margins keep it steady on a busy machine.
TTL = 0.3
PAST_TTL = 0.5
LONG = 60.0

StoreFactory = Callable[[], Store]


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def stores(request: pytest.FixtureRequest) -> AsyncIterator[StoreFactory]:
    """A factory of clients onto one shared store; for Redis each call is a new connection pool.

    Every test gets its own Redis key prefix, so tests never see each other's keys.
    """
    made: list[Store] = []
    if request.param == "memory":
        shared = MemoryStore()
        made.append(shared)

        def factory() -> Store:
            return shared
    else:
        url = request.getfixturevalue("redis_url")
        prefix = f"test-{uuid.uuid4().hex}"

        def factory() -> Store:
            client = RedisStore(url, prefix=prefix)
            made.append(client)
            return client

    try:
        yield factory
    finally:
        for client in made:
            await client.close()


@pytest.fixture
def store(stores: StoreFactory) -> Store:
    return stores()


_keys = itertools.count()


def fresh_key() -> str:
    return f"k{next(_keys)}"


# --- put / get ----------------------------------------------------------------------------------


async def test_put_then_get(store: Store) -> None:
    await store.put("ns", "a", b"value", LONG)
    assert await store.get("ns", "a") == b"value"


async def test_get_missing_is_none(store: Store) -> None:
    assert await store.get("ns", "missing") is None


async def test_put_replaces_value_and_lifetime(store: Store) -> None:
    await store.put("ns", "a", b"first", TTL)
    await store.put("ns", "a", b"second", LONG)
    assert await store.get("ns", "a") == b"second"
    await asyncio.sleep(PAST_TTL)
    assert await store.get("ns", "a") == b"second"


async def test_values_expire_after_ttl(store: Store) -> None:
    await store.put("ns", "short", b"v", TTL)
    await store.put("ns", "long", b"v", LONG)
    assert await store.get("ns", "short") == b"v"
    await asyncio.sleep(PAST_TTL)
    assert await store.get("ns", "short") is None
    assert await store.take("ns", "short") is None
    assert await store.get("ns", "long") == b"v"


async def test_values_written_by_one_client_are_read_by_another(stores: StoreFactory) -> None:
    writer, reader = stores(), stores()
    await writer.put("ns", "a", b"shared", LONG)
    assert await reader.get("ns", "a") == b"shared"


# --- put_if_absent ------------------------------------------------------------------------------


async def test_put_if_absent_wins_once(store: Store) -> None:
    assert await store.put_if_absent("ns", "a", b"first", LONG) is True
    assert await store.put_if_absent("ns", "a", b"second", LONG) is False
    assert await store.get("ns", "a") == b"first"


async def test_put_if_absent_wins_again_after_expiry(store: Store) -> None:
    assert await store.put_if_absent("ns", "a", b"first", TTL) is True
    await asyncio.sleep(PAST_TTL)
    assert await store.put_if_absent("ns", "a", b"second", LONG) is True
    assert await store.get("ns", "a") == b"second"


async def test_put_if_absent_wins_again_after_take(store: Store) -> None:
    assert await store.put_if_absent("ns", "a", b"first", LONG) is True
    assert await store.take("ns", "a") == b"first"
    assert await store.put_if_absent("ns", "a", b"second", LONG) is True


async def test_concurrent_put_if_absent_has_one_winner(stores: StoreFactory) -> None:
    clients = [stores() for _ in range(5)]
    for _ in range(10):
        key = fresh_key()
        results = await asyncio.gather(
            *(
                clients[i % len(clients)].put_if_absent("ns", key, str(i).encode(), LONG)
                for i in range(50)
            )
        )
        assert results.count(True) == 1
        winner = results.index(True)
        assert await clients[0].get("ns", key) == str(winner).encode()


# --- take ---------------------------------------------------------------------------------------


async def test_take_returns_value_once(store: Store) -> None:
    await store.put("ns", "a", b"once", LONG)
    assert await store.take("ns", "a") == b"once"
    assert await store.take("ns", "a") is None
    assert await store.get("ns", "a") is None


async def test_take_missing_is_none(store: Store) -> None:
    assert await store.take("ns", "missing") is None


async def test_concurrent_takes_give_the_value_to_exactly_one(stores: StoreFactory) -> None:
    clients = [stores() for _ in range(5)]
    for _ in range(10):
        key = fresh_key()
        await clients[0].put("ns", key, b"prize", LONG)
        results = await asyncio.gather(
            *(clients[i % len(clients)].take("ns", key) for i in range(50))
        )
        assert results.count(b"prize") == 1
        assert results.count(None) == 49


# --- delete -------------------------------------------------------------------------------------


async def test_delete_removes_value(store: Store) -> None:
    await store.put("ns", "a", b"v", LONG)
    await store.delete("ns", "a")
    assert await store.get("ns", "a") is None
    assert await store.take("ns", "a") is None
    assert await store.put_if_absent("ns", "a", b"w", LONG) is True


async def test_delete_missing_is_quiet(store: Store) -> None:
    await store.delete("ns", "missing")


# --- hit ----------------------------------------------------------------------------------------


async def test_hit_counts_within_window(store: Store) -> None:
    assert [await store.hit("rate", "ip", LONG) for _ in range(5)] == [1, 2, 3, 4, 5]
    assert await store.hit("rate", "other-ip", LONG) == 1


async def test_a_counter_reads_as_digits(store: Store) -> None:
    for _ in range(3):
        await store.hit("rate", "ip", LONG)
    assert await store.get("rate", "ip") == b"3"


async def test_hit_window_is_fixed_from_first_hit_and_resets(store: Store) -> None:
    assert await store.hit("rate", "ip", TTL) == 1
    assert await store.hit("rate", "ip", TTL) == 2
    await asyncio.sleep(PAST_TTL)
    assert await store.hit("rate", "ip", TTL) == 1
    assert await store.hit("rate", "ip", TTL) == 2


async def test_hit_window_does_not_slide(store: Store) -> None:
    # Hits inside the window must not extend it: after the first window ends, counting restarts.
    # (A slow machine can only make this pass wrongly, never fail wrongly.)
    assert await store.hit("rate", "ip", 0.6) == 1
    await asyncio.sleep(0.2)
    assert await store.hit("rate", "ip", 0.6) == 2
    await asyncio.sleep(0.5)
    assert await store.hit("rate", "ip", 0.6) == 1


async def test_concurrent_hits_get_distinct_counts(stores: StoreFactory) -> None:
    clients = [stores() for _ in range(5)]
    counts = await asyncio.gather(
        *(clients[i % len(clients)].hit("rate", "ip", LONG) for i in range(50))
    )
    assert sorted(counts) == list(range(1, 51))


# --- namespaces, ping, values -------------------------------------------------------------------


async def test_namespaces_are_isolated(store: Store) -> None:
    await store.put("one", "a", b"1", LONG)
    await store.put("two", "a", b"2", LONG)
    assert await store.get("one", "a") == b"1"
    assert await store.get("two", "a") == b"2"
    assert await store.take("one", "a") == b"1"
    assert await store.get("two", "a") == b"2"
    await store.delete("two", "a")
    assert await store.put_if_absent("one", "a", b"again", LONG) is True
    assert await store.hit("one", "counter", LONG) == 1
    assert await store.hit("one", "counter", LONG) == 2
    assert await store.hit("two", "counter", LONG) == 1


async def test_ping(store: Store) -> None:
    assert await store.ping() is True


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(value=st.binary(max_size=4096))
async def test_binary_values_round_trip(store: Store, value: bytes) -> None:
    key = fresh_key()
    await store.put("bin", key, value, LONG)
    assert await store.get("bin", key) == value
    got = await store.take("bin", key)
    assert got == value
    assert type(got) is bytes
    assert await store.put_if_absent("bin", key, value, LONG) is True
    assert await store.get("bin", key) == value


async def test_large_value_round_trips(store: Store) -> None:
    value = bytes(range(256)) * 4096  # 1 MiB, every byte value
    await store.put("bin", "large", value, LONG)
    assert await store.take("bin", "large") == value


# --- store-specific -----------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_memory_store_expiry_on_a_fake_clock() -> None:
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    await store.put("ns", "a", b"v", 10)
    clock.now += 9.999
    assert await store.get("ns", "a") == b"v"
    clock.now += 0.001  # expiry is exclusive: at exactly put + ttl the value is gone
    assert await store.get("ns", "a") is None
    assert await store.hit("rate", "ip", 10) == 1
    clock.now += 9.9
    assert await store.hit("rate", "ip", 10) == 2
    clock.now += 0.1
    assert await store.hit("rate", "ip", 10) == 1
    await store.close()


async def test_memory_store_sweeps_expired_entries() -> None:
    clock = FakeClock()
    store = MemoryStore(clock=clock, sweep_every=10)
    for i in range(9):
        await store.put("ns", str(i), b"v", 1)
        await store.hit("rate", str(i), 1)
    clock.now += 2
    await store.put("ns", "live", b"v", 100)  # the 19th write
    await store.put("ns", "live2", b"v", 100)  # the 20th write sweeps
    assert set(store._values) == {("ns", "live"), ("ns", "live2")}
    await store.close()


def _closed_port_url() -> str:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


@pytest.mark.parametrize(
    "operation",
    [
        pytest.param(lambda s: s.put("ns", "a", b"v", 1), id="put"),
        pytest.param(lambda s: s.put_if_absent("ns", "a", b"v", 1), id="put_if_absent"),
        pytest.param(lambda s: s.get("ns", "a"), id="get"),
        pytest.param(lambda s: s.take("ns", "a"), id="take"),
        pytest.param(lambda s: s.delete("ns", "a"), id="delete"),
        pytest.param(lambda s: s.hit("ns", "a", 1), id="hit"),
    ],
)
async def test_redis_store_maps_a_dead_server_to_storage_error(
    operation: Callable[[Store], Awaitable[object]],
) -> None:
    store = RedisStore(_closed_port_url())
    try:
        with pytest.raises(StorageError) as info:
            await operation(store)
        assert not isinstance(info.value, RedisError)
        assert isinstance(info.value.__cause__, RedisError)
        assert await store.ping() is False
    finally:
        await store.close()


async def test_redis_store_prefixes_are_isolated(redis_url: str) -> None:
    one = RedisStore(redis_url, prefix=f"test-{uuid.uuid4().hex}")
    two = RedisStore(redis_url, prefix=f"test-{uuid.uuid4().hex}")
    try:
        await one.put("ns", "a", b"1", LONG)
        assert await two.get("ns", "a") is None
        assert await two.put_if_absent("ns", "a", b"2", LONG) is True
        assert await one.take("ns", "a") == b"1"
        assert await two.take("ns", "a") == b"2"
    finally:
        await one.close()
        await two.close()


async def test_create_store_picks_by_url(redis_url: str) -> None:
    memory = create_store("")
    redis = create_store(redis_url)
    try:
        assert isinstance(memory, MemoryStore)
        assert isinstance(redis, RedisStore)
        assert await redis.ping() is True
    finally:
        await memory.close()
        await redis.close()
