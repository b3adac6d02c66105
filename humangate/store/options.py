"""The Redis client's limits, as plain values (no driver import)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RedisOptions:
    """Every wait on Redis is bounded, so a frozen server gives a fast 503, never a hang.

    `socket_timeout` bounds each command's answer, `connect_timeout` a new connection,
    `pool_timeout` the wait for a free connection when all `max_connections` are busy;
    `health_check_interval` pings a connection idle that long before reusing it.
    """

    connect_timeout: float = 1.0
    socket_timeout: float = 0.5
    max_connections: int = 64
    pool_timeout: float = 0.5
    health_check_interval: float = 15.0
