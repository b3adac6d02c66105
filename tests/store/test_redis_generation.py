"""The Redis store's keys belong to one server generation: what a restart, a restore or a
failover brings back from an older one is never read again."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest
import redis.asyncio

from humangate.errors import ConfigError, StorageError
from humangate.store import RedisOptions, create_store
from humangate.store.options import parse_sentinel_url
from humangate.store.redis import RedisStore, ServerIdentityUnknown, generation_of
from tests.store.servers import RedisFactory, RedisProcess, redis_process

__all__ = ["redis_process"]  # the fixture, imported to be found

INFO = (
    b"# Server\r\nredis_version:7.0.15\r\nrun_id:3c4f1e2a9b8d7c6e5f4a3b2c1d0e9f8a7b6c5d4e\r\n"
    b"tcp_port:6379\r\n\r\n# Replication\r\nrole:master\r\n"
    b"master_replid:536dd6df882dbbb205d8d51d9d8611d2f2427bff\r\n"
    b"master_replid2:0000000000000000000000000000000000000000\r\n"
)


# --- the generation -----------------------------------------------------------------------------


def test_generation_is_stable_for_one_server() -> None:
    assert generation_of(INFO) == generation_of(INFO)
    assert len(generation_of(INFO)) == 16


def test_a_restart_or_a_promotion_changes_the_generation() -> None:
    restarted = INFO.replace(b"run_id:3c4f", b"run_id:0000")
    promoted = INFO.replace(b"master_replid:536d", b"master_replid:9999")
    assert len({generation_of(INFO), generation_of(restarted), generation_of(promoted)}) == 3
    # master_replid2 (the previous replication id) plays no part.
    assert generation_of(INFO.replace(b"master_replid2:0000", b"master_replid2:1111")) == (
        generation_of(INFO)
    )


def test_a_server_without_run_id_has_no_generation() -> None:
    with pytest.raises(ServerIdentityUnknown):
        generation_of(b"# Server\r\nredis_version:7.0.15\r\n")


# --- Sentinel URLs ------------------------------------------------------------------------------


def test_sentinel_url_lists_sentinels_service_and_db() -> None:
    target = parse_sentinel_url("redis+sentinel://:s3cret@10.0.0.1:26379,[::1]:26380/hg/2")
    assert target.sentinels == [("10.0.0.1", 26379), ("::1", 26380)]
    assert (target.service, target.db, target.password, target.username) == (
        "hg",
        2,
        "s3cret",
        None,
    )
    assert parse_sentinel_url("redis+sentinel://h:1/svc").db == 0


@pytest.mark.parametrize(
    "url",
    [
        "redis+sentinel://:s3cret@host/hg",
        "redis+sentinel://:s3cret@host:port/hg",
        "redis+sentinel://:s3cret@host:1",
        "redis+sentinel://:s3cret@host:1/hg/x",
        "redis+sentinel://:s3cret@host:1/hg/0/more",
    ],
)
def test_a_malformed_sentinel_url_is_refused_without_its_password(url: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_sentinel_url(url)
    assert "s3cret" not in str(info.value)


@pytest.mark.parametrize(
    "url", ["http://:s3cret@host:6379/0", "redis+sentinel://:s3cret@host/hg", "s3cret"]
)
def test_an_unusable_redis_url_is_a_config_error_without_its_password(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        create_store(url)
    assert "HUMANGATE_REDIS_URL" in str(info.value)
    assert "s3cret" not in str(info.value)


# --- a real server ------------------------------------------------------------------------------


async def test_keys_carry_the_generation_of_the_server(redis_url: str) -> None:
    store = RedisStore(redis_url, prefix="gen-test")
    raw = redis.asyncio.Redis.from_url(redis_url)
    try:
        info = await raw.info()
        seen = f"run_id:{info['run_id']}\r\nmaster_replid:{info['master_replid']}\r\n"
        generation = await store.generation()
        assert generation == generation_of(seen.encode())
        await store.put("token", "a", b"v", 60)
        assert await raw.getdel(f"gen-test:{generation}:token:a") == b"v"
    finally:
        await raw.aclose()
        await store.close()


async def test_a_storage_error_names_the_cause_class_and_no_secret() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store = create_store(f"redis://:hunter2@127.0.0.1:{port}/0", RedisOptions())
    try:
        with pytest.raises(StorageError) as info:
            await store.get("ns", "a")
        message = str(info.value)
        assert "ConnectionError" in message
        assert "hunter2" not in message and str(port) not in message
    finally:
        await store.close()


async def test_values_restored_from_a_snapshot_are_never_read_again(
    redis_process: RedisFactory,
) -> None:
    server = redis_process("--save", "", "--appendonly", "no")
    server.start()
    store = RedisStore(server.url, options=RedisOptions(socket_timeout=2))
    try:
        await store.put("token", "spent", b"once", 60)
        await store.put_if_absent("idem", "first", b"result", 60)
        await store.hit("rate", "ip", 60)
        before = await store.generation()
        server.command("SAVE")
        assert await store.take("token", "spent") == b"once"

        server.crash()
        server.start()
        assert server.command("DBSIZE") == 3  # the snapshot brought the spent token back…
        await _until_reachable(store)
        assert await store.generation() != before
        assert await store.take("token", "spent") is None  # …and nobody can take it
        assert await store.get("idem", "first") is None
        assert await store.hit("rate", "ip", 60) == 1
        # The new generation works as the old did.
        await store.put("token", "spent", b"new", 60)
        assert await store.take("token", "spent") == b"new"
        assert await store.take("token", "spent") is None
    finally:
        await store.close()


async def test_a_sentinel_failover_to_a_replica_serves_nothing_of_the_old_master(
    redis_process: RedisFactory,
) -> None:
    master = redis_process("--save", "", "--appendonly", "no")
    master.start()
    replica = redis_process("--save", "", "--replicaof", "127.0.0.1", str(master.port))
    replica.start()
    sentinel = redis_process(
        sentinel=(
            f"sentinel monitor hg 127.0.0.1 {master.port} 1\n"
            "sentinel down-after-milliseconds hg 300\n"
            "sentinel failover-timeout hg 2000\n"
        )
    )
    sentinel.start()
    _wait_for(lambda: _replica_in_sync(master), "the replica to sync")
    _wait_for(lambda: _sentinel_knows_replica(sentinel), "the Sentinel to find the replica")

    store = RedisStore(
        f"redis+sentinel://127.0.0.1:{sentinel.port}/hg", options=RedisOptions(socket_timeout=2)
    )
    try:
        await store.put("token", "live", b"at-failover", 60)
        assert master.command("WAIT", "1", "5000") == 1  # the replica holds it too
        before = await store.generation()

        master.crash()
        await _until_reachable(store, timeout=30)
        assert await store.generation() != before
        keys = replica.command("KEYS", "hg:*:token:live")
        assert len(keys) == 1  # the promoted replica kept the old master's copy…
        assert await store.take("token", "live") is None  # …which no node reads
        await store.put("token", "next", b"v", 60)
        assert await store.take("token", "next") == b"v"
    finally:
        await store.close()


async def _until_reachable(store: RedisStore, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not await store.ping():
        assert time.monotonic() < deadline, "the store did not reach Redis again"
        await asyncio.sleep(0.1)


def _wait_for(condition: object, what: str, timeout: float = 20.0) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _replica_in_sync(master: RedisProcess) -> bool:
    replica = master.command("INFO", "replication").get("slave0")
    return isinstance(replica, dict) and replica.get("state") == "online"


def _sentinel_knows_replica(sentinel: RedisProcess) -> bool:
    return len(sentinel.command("SENTINEL", "REPLICAS", "hg")) > 0


# --- the client's limits ------------------------------------------------------------------------


def test_settings_reach_the_redis_options(monkeypatch: pytest.MonkeyPatch) -> None:
    from humangate.config import Settings
    from humangate.services import redis_options

    monkeypatch.setenv("HUMANGATE_REDIS_CONNECT_TIMEOUT", "0.7")
    monkeypatch.setenv("HUMANGATE_REDIS_SOCKET_TIMEOUT", "0.2")
    monkeypatch.setenv("HUMANGATE_REDIS_MAX_CONNECTIONS", "5")
    monkeypatch.setenv("HUMANGATE_REDIS_POOL_TIMEOUT", "0.3")
    monkeypatch.setenv("HUMANGATE_REDIS_HEALTH_CHECK_INTERVAL", "0")
    assert redis_options(Settings()) == RedisOptions(
        connect_timeout=0.7,
        socket_timeout=0.2,
        max_connections=5,
        pool_timeout=0.3,
        health_check_interval=0,
    )
    monkeypatch.setenv("HUMANGATE_REDIS_SOCKET_TIMEOUT", "0")
    with pytest.raises(ValueError):
        Settings()


async def test_a_process_opens_no_more_than_max_connections(redis_process: RedisFactory) -> None:
    server = redis_process("--save", "")
    server.start()
    store = RedisStore(server.url, options=RedisOptions(max_connections=2, pool_timeout=5))
    try:
        await store.put("ns", "a", b"v", 60)
        results = await asyncio.gather(*(store.get("ns", "a") for _ in range(50)))
        assert results == [b"v"] * 50
        assert server.command("INFO", "clients")["connected_clients"] <= 2 + 1  # + ours
    finally:
        await store.close()


async def test_a_frozen_redis_fails_by_timeout_and_a_full_pool_by_waiting(
    redis_process: RedisFactory,
) -> None:
    server = redis_process("--save", "")
    server.start()
    options = RedisOptions(max_connections=1, socket_timeout=2, pool_timeout=0.2)
    store = RedisStore(server.url, options=options)
    try:
        await store.put("ns", "a", b"v", 60)
        server.signal(signal.SIGSTOP)
        try:
            outcomes = await asyncio.gather(
                store.get("ns", "a"), store.get("ns", "a"), return_exceptions=True
            )
        finally:
            server.signal(signal.SIGCONT)
        # One call holds the only connection and times out on the frozen server; the other
        # waits for a free connection and gives up.
        assert all(isinstance(outcome, StorageError) for outcome in outcomes)
        assert sorted(str(outcome).rsplit(" ", 1)[-1] for outcome in outcomes) == [
            "ConnectionError.",
            "TimeoutError.",
        ]
        assert await store.get("ns", "a") == b"v"
    finally:
        await store.close()


async def test_a_full_redis_refuses_writes_as_storage_errors_and_keeps_its_connections(
    redis_process: RedisFactory,
) -> None:
    server = redis_process("--save", "", "--maxmemory", "2mb", "--maxmemory-policy", "noeviction")
    server.start()
    store = RedisStore(server.url)
    try:
        await store.put("ns", "kept", b"v", 60)
        with pytest.raises(StorageError) as info:
            for i in range(10_000):
                await store.put("ns", f"fill-{i}", b"x" * 1024, 60)
        assert "failed to write" in str(info.value)
        connections = server.command("INFO", "stats")["total_connections_received"]
        for _ in range(5):
            with pytest.raises(StorageError):
                await store.put("ns", "more", b"x" * 1024, 60)
        assert await store.get("ns", "kept") == b"v"  # reads go on
        # A refusal is an answer, not a broken connection: nothing reconnected.
        assert server.command("INFO", "stats")["total_connections_received"] == connections + 1
    finally:
        await store.close()
