"""The guard against SMS pumping and code flooding: limits before a message is sent, and the
conversion monitor that blocks a number prefix whose codes are sent but never used.

SMS pumping (toll fraud) requests codes for numbers the fraudster is paid for, mostly in one
premium range; none of those codes is ever entered. So every start passes four windows, the
narrowest first, and a refused start counts in no wider window (a flood at one number does not
use up the app's daily messages):

| window | key | span |
|---|---|---|
| destination | the destination's keyed digest | a day |
| network | the end user's /24 or /64; one shared bucket when the app sends none | an hour |
| prefix | country code and the next three digits (`+88216`) | an hour |
| app | the app | a day |

Sends and approvals are counted per prefix in ten-minute buckets. A prefix is judged on the
buckets of the last hour that ended at least ten minutes ago, so a code still being typed does
not count as unused; with `min_sent` settled sends and fewer than `floor` of them approved, the
prefix is blocked (the service stores the block and tells the owner).

The counters live in the hot-state store, under the app's key (an app id may come back after a
deletion on SQLite; a key never does); a store restart forgets them (decision 0009), which
costs at most one more window of messages per prefix before the monitor blocks it again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from humangate.errors import RateLimited
from humangate.store import Store
from humangate.verify.apps import AppView

LIMITS = "verify-limit"
CONVERSION = "verify-conversion"
DAY = 86_400
HOUR = 3_600
BUCKET = 600
SETTLED_BUCKETS = 6  # an hour of buckets, all ended at least one bucket ago


@dataclass(frozen=True, slots=True)
class Conversion:
    """Settled sends and approvals of one prefix over the last hour."""

    sent: int
    approved: int

    def collapsed(self, *, min_sent: int, floor: float) -> bool:
        """Enough codes went out to judge, and too few of them were used."""
        return self.sent >= min_sent and self.approved < floor * self.sent


@dataclass(frozen=True, slots=True)
class Target:
    """What a start would send to, as the guard counts it."""

    destination: str  # the keyed digest
    prefix: str  # "" for e-mail
    network: str  # "" when the app did not say


def _refusal(code: str, what: str, retry_after: int) -> RateLimited:
    return RateLimited(
        f"Too many codes for this {what}; try again later.", code=code, retry_after=retry_after
    )


class PumpingGuard:
    """Counts starts and codes in the store; raises `RateLimited` with the limit's code."""

    def __init__(self, store: Store, *, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock

    async def admit(self, app: AppView, target: Target) -> int:
        """Count one message to `target`; returns the prefix's count this hour ("" → 0).

        Raises:
            RateLimited: `destination-limit`, `network-limit`, `prefix-limit` or `app-limit`.
        """
        windows: list[tuple[str, str, int, int, str]] = [
            (
                "destination-limit",
                f"d:{target.destination}",
                DAY,
                app.destination_daily_cap,
                "destination",
            ),
            (
                "network-limit",
                f"n:{target.network or '-'}",
                HOUR,
                app.network_hourly_cap,
                "network",
            ),
        ]
        if target.prefix:
            windows.append(
                ("prefix-limit", f"p:{target.prefix}", HOUR, app.prefix_hourly_cap, "number range")
            )
        windows.append(("app-limit", "a", DAY, app.daily_cap, "app"))
        prefix_count = 0
        for code, key, span, cap, what in windows:
            count = await self._store.hit(LIMITS, f"{app.app_key}:{key}", span)
            if count > cap:
                raise _refusal(code, what, span)
            if code == "prefix-limit":
                prefix_count = count
        return prefix_count

    def _bucket(self) -> int:
        return int(self._clock() // BUCKET)

    async def count_sent(self, app: AppView, prefix: str) -> None:
        if prefix:
            await self._store.hit(
                CONVERSION, f"{app.app_key}:{prefix}:{self._bucket()}:s", 2 * HOUR
            )

    async def count_approved(self, app: AppView, prefix: str) -> None:
        if prefix:
            await self._store.hit(
                CONVERSION, f"{app.app_key}:{prefix}:{self._bucket()}:a", 2 * HOUR
            )

    async def conversion(self, app: AppView, prefix: str) -> Conversion:
        """The prefix's settled sends and approvals: an hour of buckets that ended at least ten
        minutes ago."""
        # The bucket before this one ended less than ten minutes ago: its codes may be in use.
        settled = self._bucket() - 1
        sent = approved = 0
        for bucket in range(settled - SETTLED_BUCKETS, settled):
            sent += await self._count(f"{app.app_key}:{prefix}:{bucket}:s")
            approved += await self._count(f"{app.app_key}:{prefix}:{bucket}:a")
        return Conversion(sent, approved)

    async def _count(self, key: str) -> int:
        value = await self._store.get(CONVERSION, key)
        return int(value) if value and value.isdigit() else 0
