"""The Redis client's limits and URLs, as plain values (no driver import)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from humangate.text import is_ascii_digits

SENTINEL_SCHEME = "redis+sentinel"
REDIS_SCHEMES = frozenset({"redis", "rediss", "unix", SENTINEL_SCHEME})


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


@dataclass(frozen=True)
class SentinelTarget:
    sentinels: list[tuple[str, int]]
    service: str
    db: int
    username: str | None
    password: str | None


def parse_sentinel_url(url: str) -> SentinelTarget:
    """Split a `redis+sentinel://` URL; a malformed one is a ValueError naming no secret."""
    parts = urlsplit(url)
    hosts = parts.netloc.rpartition("@")[2]
    sentinels: list[tuple[str, int]] = []
    for item in hosts.split(","):
        host, _, port = item.rpartition(":")
        if not host or not is_ascii_digits(port):
            raise ValueError("A Sentinel URL lists host:port pairs, separated by commas.")
        sentinels.append((host.strip("[]"), int(port)))
    path = [part for part in parts.path.split("/") if part]
    if not path or len(path) > 2 or (len(path) == 2 and not is_ascii_digits(path[1])):
        raise ValueError("A Sentinel URL ends with /service or /service/db.")
    return SentinelTarget(
        sentinels=sentinels,
        service=unquote(path[0]),
        db=int(path[1]) if len(path) == 2 else 0,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def check_redis_url(url: str) -> None:
    """Refuse a URL the store cannot open, with a ValueError that repeats none of it."""
    if urlsplit(url).scheme not in REDIS_SCHEMES:
        raise ValueError(
            "A Redis URL starts with redis://, rediss://, unix:// or redis+sentinel://."
        )
    if urlsplit(url).scheme == SENTINEL_SCHEME:
        parse_sentinel_url(url)
