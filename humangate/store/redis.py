"""Redis store for production and multi-node deployments (Redis 6.2+ for GETDEL).

Every key carries the generation of the Redis server that holds it (see `generation_of` and
docs/decisions/0009): a snapshot or an AOF restored after a crash, a restore from a backup, or a
failover to a replica that lagged, brings back keys of a dead generation, which no node reads
again. So a challenge taken or a token spent before the crash never comes back to life.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from redis.asyncio import BlockingConnectionPool
from redis.asyncio.connection import AbstractConnection, ConnectionPool
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.backoff import NoBackoff
from redis.exceptions import NoScriptError, RedisError, ResponseError

from humangate.errors import StorageError
from humangate.store.options import SENTINEL_SCHEME, RedisOptions, parse_sentinel_url

# INCR and set the expiry only on the first hit, in one round trip and atomically.
_HIT_SCRIPT = b"""
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
"""
_HIT_SHA = hashlib.sha1(_HIT_SCRIPT).hexdigest()

_GENERATION = "humangate_generation"  # the attribute a connection's handshake sets
_INFO_FIELD = re.compile(rb"^(run_id|master_replid):([0-9a-f]+)\r?$", re.MULTILINE)


class ServerIdentityUnknown(RedisError):
    """The server's INFO did not name its run_id: without it no generation can be bound."""


class GenerationChanged(RedisError):
    """The connection reconnected to another server generation while a command was under way."""


def generation_of(info: bytes) -> str:
    """The server's generation from its INFO: it changes on every restart and every promotion.

    `run_id` is drawn at random when the process starts; `master_replid` is drawn again when a
    replica is promoted, so a node that was demoted and promoted back gets a new one too.
    """
    fields = {name: value for name, value in _INFO_FIELD.findall(info)}
    run_id = fields.get(b"run_id")
    if not run_id:
        raise ServerIdentityUnknown("INFO holds no run_id")
    digest = hashlib.sha256(run_id + b":" + fields.get(b"master_replid", b"")).hexdigest()
    return digest[:16]


async def _handshake(connection: AbstractConnection) -> None:
    """The client's usual connect steps, then the generation of the server just reached."""
    await connection.on_connect()
    await connection.send_command("INFO", check_health=False)
    info = await connection.read_response()
    if not isinstance(info, bytes):
        raise ServerIdentityUnknown("INFO gave no text")
    setattr(connection, _GENERATION, generation_of(info))


def open_pool(url: str, options: RedisOptions) -> ConnectionPool:
    """A pool whose connections know their server's generation; no retries, every wait bounded.

    `redis+sentinel://[[user]:password@]host:port[,host:port…]/service[/db]` asks the listed
    Sentinels for the service's master; any other URL is redis-py's own.
    """
    common: dict[str, Any] = {
        "socket_connect_timeout": options.connect_timeout,
        "socket_timeout": options.socket_timeout,
        "health_check_interval": options.health_check_interval,
        "retry": Retry(NoBackoff(), 0),
        "retry_on_timeout": False,
        "redis_connect_func": _handshake,
        "protocol": 2,
        "decode_responses": False,
        "max_connections": options.max_connections,
    }
    if urlsplit(url).scheme != SENTINEL_SCHEME:
        return BlockingConnectionPool.from_url(url, timeout=options.pool_timeout, **common)
    target = parse_sentinel_url(url)
    sentinel_kwargs = {
        "socket_connect_timeout": options.connect_timeout,
        "socket_timeout": options.socket_timeout,
    }
    manager = Sentinel(target.sentinels, sentinel_kwargs=sentinel_kwargs)
    return SentinelConnectionPool(  # type: ignore[no-untyped-call]
        target.service,
        manager,
        db=target.db,
        username=target.username,
        password=target.password,
        **common,
    )


class RedisStore:
    """Keys are `<prefix>:<generation>:<namespace>:<key>`; values are raw bytes.

    Each command takes a connection, builds its key with the generation that connection read
    when it connected, and checks afterwards that the connection did not reconnect meanwhile:
    the key and the server it reaches always belong to the same generation. This costs no round
    trip on the way of a request: INFO is read once per new connection.
    """

    def __init__(
        self, url: str, *, prefix: str = "hg", options: RedisOptions | None = None
    ) -> None:
        self._pool = open_pool(url, options or RedisOptions())
        self._prefix = prefix

    def _key(self, generation: str, namespace: str, key: str) -> str:
        return f"{self._prefix}:{generation}:{namespace}:{key}"

    async def _run(self, action: str, command: Callable[[str], list[Any]]) -> Any:
        """Run `command(generation)` on one connection; any failure is a StorageError."""
        with _storage_errors(action):
            connection = await self._pool.get_connection()  # type: ignore[no-untyped-call]
            try:
                return await _on_connection(connection, command)
            finally:
                await self._pool.release(connection)

    async def put(self, namespace: str, key: str, value: bytes, ttl: float) -> None:
        await self._run(
            "write", lambda g: ["SET", self._key(g, namespace, key), value, "PX", _ms(ttl)]
        )

    async def put_if_absent(self, namespace: str, key: str, value: bytes, ttl: float) -> bool:
        stored = await self._run(
            "write",
            lambda g: ["SET", self._key(g, namespace, key), value, "PX", _ms(ttl), "NX"],
        )
        return stored is not None

    async def get(self, namespace: str, key: str) -> bytes | None:
        return _as_bytes(await self._run("read", lambda g: ["GET", self._key(g, namespace, key)]))

    async def take(self, namespace: str, key: str) -> bytes | None:
        value = await self._run("read", lambda g: ["GETDEL", self._key(g, namespace, key)])
        return _as_bytes(value)

    async def delete(self, namespace: str, key: str) -> None:
        await self._run("delete", lambda g: ["DEL", self._key(g, namespace, key)])

    async def hit(self, namespace: str, key: str, window: float) -> int:
        def script(how: str, body: bytes | str) -> Callable[[str], list[Any]]:
            return lambda g: [how, body, 1, self._key(g, namespace, key), _ms(window)]

        try:
            return int(await self._run("count", script("EVALSHA", _HIT_SHA)))
        except StorageError as exc:
            if not isinstance(exc.__cause__, NoScriptError):
                raise
        return int(await self._run("count", script("EVAL", _HIT_SCRIPT)))

    async def ping(self) -> bool:
        try:
            return bool(await self._run("answer", lambda _: ["PING"]))
        except StorageError:
            return False

    async def generation(self) -> str:
        """The generation of the server this store reaches now (for tests and diagnostics)."""
        echoed = _as_bytes(await self._run("answer", lambda g: ["ECHO", g]))
        return (echoed or b"").decode()

    async def close(self) -> None:
        await self._pool.disconnect()
        if isinstance(self._pool, SentinelConnectionPool):
            for sentinel in self._pool.sentinel_manager.sentinels:
                await sentinel.aclose()


async def _on_connection(
    connection: AbstractConnection, command: Callable[[str], list[Any]]
) -> Any:
    try:
        await connection.connect()  # type: ignore[no-untyped-call]
        generation = getattr(connection, _GENERATION, "")
        if not generation:
            raise ServerIdentityUnknown("the connection has no generation")
        await connection.send_command(*command(generation))
        response = await connection.read_response()
        if getattr(connection, _GENERATION, "") != generation:
            # It reconnected on the way (a health check): the answer may come from a new server
            # and belongs to no key we asked for. A taken value of a dead generation is dropped.
            raise GenerationChanged("the connection reached another server generation")
        return response
    except ResponseError:
        raise  # the server's refusal (OOM, NOSCRIPT) was read whole: the connection stays usable
    except BaseException:
        await connection.disconnect(nowait=True)
        raise


@contextmanager
def _storage_errors(action: str) -> Iterator[None]:
    """The driver's errors as the one StorageError the callers know, with the cause's class.

    Only the class: a driver's message can name the host and port, never the password, but a
    log line needs no more than the kind of failure.
    """
    try:
        yield
    except RedisError as exc:
        raise StorageError(f"The Redis store failed to {action}: {type(exc).__name__}.") from exc
    except OSError as exc:  # a socket error the driver let through
        raise StorageError(f"The Redis store failed to {action}: {type(exc).__name__}.") from exc


def _as_bytes(value: bytes | str | None) -> bytes | None:
    """A stored value as bytes: the client decodes nothing, though its types allow str."""
    if value is None or isinstance(value, bytes):
        return value
    return value.encode()


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))
