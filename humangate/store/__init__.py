"""Hot-state stores behind one protocol: in-memory (embedded default) and Redis."""

from __future__ import annotations

from humangate.store.base import Store
from humangate.store.memory import MemoryStore
from humangate.store.options import RedisOptions


def create_store(redis_url: str, options: RedisOptions | None = None) -> Store:
    """Return a Redis store when a URL is configured, else the in-memory store."""
    if redis_url:
        from humangate.store.redis import RedisStore

        return RedisStore(redis_url, options=options)
    return MemoryStore()


__all__ = ["MemoryStore", "RedisOptions", "Store", "create_store"]
