"""The loop's rate windows and lockout, counted in the shared store so every node agrees.

Each window starts at its first hit and lasts its length (the store's own expiry); a count over
its limit is refused with the seconds the window may still run, as a `Retry-After`.
"""

from __future__ import annotations

from humangate.errors import LockedOut, RateLimited
from humangate.loop.records import Policy, Visitor
from humangate.risk.base import RateFacts
from humangate.store import Store
from humangate.units import UnitView

MINUTE = 60
HOUR = 3600
PRIVACY_LOOKUPS_PER_MINUTE = 30
# The keyboard path (a visual answer without a pointer, then a raised proof of work): enough for
# a person who needs it, few enough that a bot cannot make it its road.
KEYBOARD_PATH_PER_DEVICE_HOUR = 10
KEYBOARD_PATH_PER_NETWORK_HOUR = 30


class LoopLimits:
    """Per-network, per-device and per-unit windows of the loop over one store."""

    def __init__(self, store: Store, policy: Policy) -> None:
        self._store = store
        self._policy = policy

    async def count_issue(self, visitor: Visitor) -> int:
        """Count a challenge for the visitor's network; refuse beyond the per-minute limit."""
        issued = await self._store.hit("rate", f"issue:{visitor.ip_prefix}", MINUTE)
        if issued > self._policy.challenges_per_minute:
            raise RateLimited("Too many challenges from this network; wait.", retry_after=MINUTE)
        return issued

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
        per_device = await self._store.hit("rate", f"kbd-device:{unit.id}:{device}", HOUR)
        per_network = await self._store.hit(
            "rate", f"kbd-network:{unit.id}:{visitor.ip_prefix}", HOUR
        )
        if (
            per_device > KEYBOARD_PATH_PER_DEVICE_HOUR
            or per_network > KEYBOARD_PATH_PER_NETWORK_HOUR
        ):
            raise RateLimited(
                "Too many attempts from this device or network; wait.", retry_after=HOUR
            )

    async def rate_facts(
        self, unit: UnitView, device: str, *, network: int, failures: int
    ) -> RateFacts:
        """Count this challenge per device and per unit, and report every window's count."""
        per_device = await self._store.hit("rate", f"device:{unit.id}:{device}", MINUTE)
        per_unit = await self._store.hit("rate", f"unit:{unit.id}", MINUTE)
        per_hour = await self._store.hit("rate", f"unit-hour:{unit.id}", HOUR)
        return RateFacts(
            network_per_minute=network,
            device_per_minute=per_device,
            unit_per_minute=per_unit,
            unit_baseline_per_minute=per_hour / 60,
            failures=failures,
        )


async def count_privacy_lookup(store: Store, ip_prefix: str) -> None:
    """A visitor's privacy page looks up devices; refuse beyond the per-minute limit."""
    if await store.hit("rate", f"privacy:{ip_prefix}", MINUTE) > PRIVACY_LOOKUPS_PER_MINUTE:
        raise RateLimited("Too many privacy requests from this network; wait.", retry_after=MINUTE)


def _failure_key(unit: UnitView, visitor: Visitor) -> str:
    return f"{unit.id}:{visitor.ip_prefix}"
