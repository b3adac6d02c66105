"""Hot-state stores behind one protocol: in-memory (embedded default) and Redis."""

from __future__ import annotations

from humangate.errors import ConfigError
from humangate.store.base import Store
from humangate.store.memory import MemoryStore
from humangate.store.options import RedisOptions, check_redis_url


def create_store(redis_url: str, options: RedisOptions | None = None) -> Store:
    """Return a Redis store when a URL is configured, else the in-memory store."""
    if not redis_url:
        return MemoryStore()
    try:
        check_redis_url(redis_url)
    except ValueError as exc:  # the message repeats nothing of the URL, which holds a password
        raise ConfigError(f"HUMANGATE_REDIS_URL: {exc}") from None
    from humangate.store.redis import RedisStore

    return RedisStore(redis_url, options=options)


__all__ = ["MemoryStore", "RedisOptions", "Store", "create_store"]
