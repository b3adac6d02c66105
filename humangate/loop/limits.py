"""The loop's rate windows and lockout, counted in the shared store so every node agrees.

Each window starts at its first hit and lasts its length (the store's own expiry); a count over
its limit is refused with the seconds the window may still run, as a `Retry-After`.

The counts one step needs go to the store together (`asyncio.gather`), so a slow store adds its
latency to a request once per step, not once per window.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from humangate.errors import LockedOut, RateLimited
from humangate.loop.records import Policy, Visitor
from humangate.risk.base import RateFacts
from humangate.risk.integrity import DEVICE_CLASS_WINDOW
from humangate.store import Store
from humangate.units import UnitView

MINUTE = 60
HOUR = 3600
PRIVACY_LOOKUPS_PER_MINUTE = 30
# The keyboard path (a visual answer without a pointer, then a raised proof of work): enough for
# a person who needs it, few enough that a bot cannot make it its road.
KEYBOARD_PATH_PER_DEVICE_HOUR = 10
KEYBOARD_PATH_PER_NETWORK_HOUR = 30
# How many times the per-network challenge limit a unit gets (its owner's edition, when billing
# is on); read from a per-node cache, so it adds no round trip to a request.
RateMultiplier = Callable[[UnitView], Awaitable[int]]


class LoopLimits:
    """Per-network, per-device and per-unit windows of the loop over one store."""

    def __init__(
        self, store: Store, policy: Policy, *, multiplier: RateMultiplier | None = None
    ) -> None:
        self._store = store
        self._policy = policy
        self._multiplier = multiplier

    async def count_issue(self, visitor: Visitor) -> int:
        """Count a challenge for the visitor's network; refuse beyond the per-minute limit."""
        issued = await self._store.hit("rate", f"issue:{visitor.ip_prefix}", MINUTE)
        self._check_issue(issued)
        return issued

    def _check_issue(self, issued: int, multiplier: int = 1) -> None:
        if issued > self._policy.challenges_per_minute * multiplier:
            raise RateLimited("Too many challenges from this network; wait.", retry_after=MINUTE)

    async def count_challenge(self, unit: UnitView, visitor: Visitor, device: str) -> RateFacts:
        """Count a new challenge in every window and read the network's failures, in one round
        trip; refuse beyond the network's limit, then a locked-out network.

        A refused challenge counts in the device and unit windows too: they measure what was
        asked of the unit, and a flood that is being refused is still one.
        """
        store = self._store
        issued, failures, per_device, per_unit, per_hour = await asyncio.gather(
            store.hit("rate", f"issue:{visitor.ip_prefix}", MINUTE),
            self.failures(unit, visitor),
            store.hit("rate", f"device:{unit.id}:{device}", MINUTE),
            store.hit("rate", f"unit:{unit.id}", MINUTE),
            store.hit("rate", f"unit-hour:{unit.id}", HOUR),
        )
        multiplier = 1
        if issued > self._policy.challenges_per_minute and self._multiplier is not None:
            multiplier = await self._multiplier(unit)  # asked only past the common limit
        self._check_issue(issued, multiplier)
        self.check_lockout(failures)
        return RateFacts(
            network_per_minute=issued,
            device_per_minute=per_device,
            unit_per_minute=per_unit,
            unit_baseline_per_minute=per_hour / 60,
            failures=failures,
        )

    async def count_device_class(
        self, unit: UnitView, device_class: str, visitor: Visitor
    ) -> tuple[int, int]:
        """Distinct networks on this unit in the device-class window: those that showed
        `device_class`, and all those counted here; each network counts once a window. A
        second round trip only for a network's first visit in the window."""
        shown, everyone = await asyncio.gather(
            self._count_network(f"{unit.id}:{device_class}", visitor),
            self._count_network(f"{unit.id}", visitor),
        )
        return shown, everyone

    async def _count_network(self, scope: str, visitor: Visitor) -> int:
        counter = f"class-nets:{scope}"
        first, raw = await asyncio.gather(
            self._store.put_if_absent(
                "seen", f"class-net:{scope}:{visitor.ip_prefix}", b"1", DEVICE_CLASS_WINDOW
            ),
            self._store.get("rate", counter),
        )
        if first:
            return await self._store.hit("rate", counter, DEVICE_CLASS_WINDOW)
        return int(raw or 0)

    async def count_answer(self, visitor: Visitor) -> None:
        answered = await self._store.hit("rate", f"answer:{visitor.ip_prefix}", MINUTE)
        if answered > self._policy.answers_per_minute:
            raise RateLimited("Too many answers from this network; wait.", retry_after=MINUTE)

    async def failures(self, unit: UnitView, visitor: Visitor) -> int:
        """Failed answers from the visitor's network on this unit within the failure window."""
        raw = await self._store.get("fail", _failure_key(unit, visitor))
        return int(raw) if raw else 0

    def check_lockout(self, failures: int) -> None:
        if self.locks_out(failures):
            raise LockedOut(
                "Too many failed attempts from this network; wait.",
                retry_after=self._policy.failure_window,
            )

    def locks_out(self, failures: int) -> bool:
        return failures >= self._policy.lockout_failures

    async def add_failure(self, unit: UnitView, visitor: Visitor) -> int:
        return await self._store.hit(
            "fail", _failure_key(unit, visitor), self._policy.failure_window
        )

    async def count_keyboard_path(self, unit: UnitView, device: str, visitor: Visitor) -> None:
        """Count one use of the keyboard path on this unit; refuse beyond its hourly limits."""
        per_device, per_network = await asyncio.gather(
            self._store.hit("rate", f"kbd-device:{unit.id}:{device}", HOUR),
            self._store.hit("rate", f"kbd-network:{unit.id}:{visitor.ip_prefix}", HOUR),
        )
        if (
            per_device > KEYBOARD_PATH_PER_DEVICE_HOUR
            or per_network > KEYBOARD_PATH_PER_NETWORK_HOUR
        ):
            raise RateLimited(
                "Too many attempts from this device or network; wait.", retry_after=HOUR
            )

    async def count_noscript(self, unit: UnitView, visitor: Visitor) -> None:
        """Count a challenge of the no-JavaScript page in the keyboard path's network window:
        both are a visual answer without a pointer, and share one budget. Not per device: a
        browser without JavaScript shows nothing to tell one device from another."""
        per_network = await self._store.hit(
            "rate", f"kbd-network:{unit.id}:{visitor.ip_prefix}", HOUR
        )
        if per_network > KEYBOARD_PATH_PER_NETWORK_HOUR:
            raise RateLimited("Too many attempts from this network; wait.", retry_after=HOUR)


async def count_privacy_lookup(store: Store, ip_prefix: str) -> None:
    """A visitor's privacy page looks up devices; refuse beyond the per-minute limit."""
    if await store.hit("rate", f"privacy:{ip_prefix}", MINUTE) > PRIVACY_LOOKUPS_PER_MINUTE:
        raise RateLimited("Too many privacy requests from this network; wait.", retry_after=MINUTE)


def _failure_key(unit: UnitView, visitor: Visitor) -> str:
    return f"{unit.id}:{visitor.ip_prefix}"
