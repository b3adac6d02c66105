"""The hot-state store: short-lived challenges, pass tokens and rate windows.

Every method is atomic on its own, so that any number of stateless app nodes can share one store:
`take` gives a value to exactly one caller, `put_if_absent` lets exactly one caller win.
"""

from __future__ import annotations

from typing import Protocol


class Store(Protocol):
    """A namespaced key/value store with expiry. Keys and namespaces are plain ASCII strings."""

    async def put(self, namespace: str, key: str, value: bytes, ttl: float) -> None:
        """Store `value` under `key` for `ttl` seconds, replacing any previous value."""

    async def put_if_absent(self, namespace: str, key: str, value: bytes, ttl: float) -> bool:
        """Store `value` only if `key` holds nothing; return whether this call stored it."""

    async def get(self, namespace: str, key: str) -> bytes | None:
        """Return the live value under `key`, or None."""

    async def take(self, namespace: str, key: str) -> bytes | None:
        """Remove and return the live value under `key`; at most one caller ever receives it."""

    async def delete(self, namespace: str, key: str) -> None:
        """Remove `key` if present."""

    async def hit(self, namespace: str, key: str, window: float) -> int:
        """Count one event in the fixed window that starts at the first hit; return the count.

        A counter shares the key space of values: `get` reads it as ASCII digits.
        """

    async def ping(self) -> bool:
        """Return whether the store answers."""

    async def close(self) -> None:
        """Release connections."""
