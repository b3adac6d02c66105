"""Redis store for production and multi-node deployments (Redis 6.2+ for GETDEL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from redis.asyncio import Redis
from redis.exceptions import RedisError

from humangate.errors import StorageError

# INCR and set the expiry only on the first hit, in one round trip and atomically.
_HIT_SCRIPT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
"""


class RedisStore:
    """Keys are `<prefix>:<namespace>:<key>`; values are raw bytes."""

    def __init__(self, url: str, *, prefix: str = "hg") -> None:
        self._redis = Redis.from_url(url, decode_responses=False, health_check_interval=30)
        self._prefix = prefix
        self._hit = self._redis.register_script(_HIT_SCRIPT)

    def _key(self, namespace: str, key: str) -> str:
        return f"{self._prefix}:{namespace}:{key}"

    async def put(self, namespace: str, key: str, value: bytes, ttl: float) -> None:
        with _storage_errors("write"):
            await self._redis.set(self._key(namespace, key), value, px=_ms(ttl))

    async def put_if_absent(self, namespace: str, key: str, value: bytes, ttl: float) -> bool:
        with _storage_errors("write"):
            stored = await self._redis.set(self._key(namespace, key), value, px=_ms(ttl), nx=True)
        return bool(stored)

    async def get(self, namespace: str, key: str) -> bytes | None:
        with _storage_errors("read"):
            value = await self._redis.get(self._key(namespace, key))
        return _as_bytes(value)

    async def take(self, namespace: str, key: str) -> bytes | None:
        with _storage_errors("read"):
            value = await self._redis.getdel(self._key(namespace, key))
        return _as_bytes(value)

    async def delete(self, namespace: str, key: str) -> None:
        with _storage_errors("delete"):
            await self._redis.delete(self._key(namespace, key))

    async def hit(self, namespace: str, key: str, window: float) -> int:
        with _storage_errors("count"):
            return int(await self._hit(keys=[self._key(namespace, key)], args=[_ms(window)]))

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except RedisError:
            return False

    async def close(self) -> None:
        await self._redis.aclose()


@contextmanager
def _storage_errors(action: str) -> Iterator[None]:
    """The driver's errors as the one StorageError the callers know ("failed to <action>")."""
    try:
        yield
    except RedisError as exc:
        raise StorageError(f"The Redis store failed to {action}.") from exc


def _as_bytes(value: bytes | str | None) -> bytes | None:
    """A stored value as bytes: the client decodes nothing, though its types allow str."""
    if value is None or isinstance(value, bytes):
        return value
    return value.encode()


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))
