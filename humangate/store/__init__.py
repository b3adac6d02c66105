"""Hot-state stores behind one protocol: in-memory (embedded default) and Redis."""

from __future__ import annotations

from humangate.store.base import Store
from humangate.store.memory import MemoryStore


def create_store(redis_url: str) -> Store:
    """Return a Redis store when a URL is configured, else the in-memory store."""
    if redis_url:
        from humangate.store.redis import RedisStore

        return RedisStore(redis_url)
    return MemoryStore()


__all__ = ["MemoryStore", "Store", "create_store"]
