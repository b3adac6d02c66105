"""What an edition allows: a pure function of whether billing is on and the plan's edition, and
the per-node cache that answers it for an owner's account on the hot path.

With billing off everything is allowed, and nothing is read. With billing on, the enterprise
edition adds `score_reasons` in siteverify, the calibration endpoints (feedback labels and the
calibration), statistics kept longer, a higher per-network challenge limit, the HumanGate mark
removable from the widget, and the verification API. Units and apps without an owner (made by
the CLI or the demo) are the operator's own: everything is allowed for them.

An account's edition is read with `ledger.plan_of` at most once per `ttl` seconds per node, so a
change of plan reaches every node within HUMANGATE_UNIT_CACHE_SECONDS.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from humangate.errors import EditionRequired

if TYPE_CHECKING:
    from humangate.config import Settings
    from humangate.units import UnitView

Edition = Literal["standard", "enterprise"]
Feature = Literal["score-reasons", "calibration", "verify-api", "hide-mark"]
MAX_CACHED_ACCOUNTS = 10_000

_FEATURE_NAMES: dict[Feature, str] = {
    "score-reasons": "Score reasons",
    "calibration": "Calibration",
    "verify-api": "The verification API",
    "hide-mark": "Removing the HumanGate mark",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class EditionPolicy:
    """The operator's numbers for the editions (HUMANGATE_BILLING_STATS_DAYS_*,
    HUMANGATE_BILLING_ENTERPRISE_RATE_MULTIPLIER); 0 days keeps statistics for ever."""

    standard_stats_days: int = 31
    enterprise_stats_days: int = 400
    enterprise_rate_multiplier: int = 5

    @classmethod
    def from_settings(cls, settings: Settings) -> EditionPolicy:
        return cls(
            standard_stats_days=settings.billing_stats_days_standard,
            enterprise_stats_days=settings.billing_stats_days_enterprise,
            enterprise_rate_multiplier=settings.billing_enterprise_rate_multiplier,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Allowance:
    """What one owner may use. `stats_days` 0: statistics are kept for ever."""

    score_reasons: bool
    calibration: bool
    verify_api: bool
    hide_mark: bool
    stats_days: int
    rate_multiplier: int

    def allows(self, feature: Feature) -> bool:
        return {
            "score-reasons": self.score_reasons,
            "calibration": self.calibration,
            "verify-api": self.verify_api,
            "hide-mark": self.hide_mark,
        }[feature]


EVERYTHING = Allowance(
    score_reasons=True,
    calibration=True,
    verify_api=True,
    hide_mark=True,
    stats_days=0,
    rate_multiplier=1,
)


def allowance(*, billing: bool, edition: str | None, policy: EditionPolicy) -> Allowance:
    """What an owner may use, given whether billing is on and their plan's edition.

    Args:
        billing: HUMANGATE_BILLING; off allows everything, as before billing existed.
        edition: the plan's edition; None for the operator's own units (no owner): everything.
        policy: the operator's numbers for statistics retention and the rate multiplier.
    """
    if not billing or edition is None:
        return EVERYTHING
    if edition == "enterprise":
        return Allowance(
            score_reasons=True,
            calibration=True,
            verify_api=True,
            hide_mark=True,
            stats_days=policy.enterprise_stats_days,
            rate_multiplier=policy.enterprise_rate_multiplier,
        )
    return Allowance(
        score_reasons=False,
        calibration=False,
        verify_api=False,
        hide_mark=False,
        stats_days=policy.standard_stats_days,
        rate_multiplier=1,
    )


def edition_required(feature: Feature) -> EditionRequired:
    """The refusal of a feature the owner's edition does not include."""
    return EditionRequired(
        f"{_FEATURE_NAMES[feature]} needs the enterprise edition; ask the operator to change "
        "your plan.",
        params={"feature": feature},
    )


class Editions:
    """Each owner's allowance, read per node at most once per `ttl` seconds per account.

    Args:
        sessions: the database (read only when billing is on).
        billing: HUMANGATE_BILLING.
        policy: the operator's numbers.
        ttl: seconds an account's edition is cached (HUMANGATE_UNIT_CACHE_SECONDS).
        clock: monotonic seconds (tests pass their own).
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession] | None,
        *,
        billing: bool,
        policy: EditionPolicy | None = None,
        ttl: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self.billing = billing
        self.policy = policy or EditionPolicy()
        self._ttl = ttl
        self._clock = clock
        self._cached: dict[int, tuple[float, Allowance]] = {}
        self._reading: dict[int, asyncio.Future[Allowance]] = {}

    async def of_account(self, account_id: int | None) -> Allowance:
        """The allowance of the owner `account_id` (None: the operator's own, everything)."""
        if not self.billing or account_id is None or self._sessions is None:
            return EVERYTHING
        cached = self._cached.get(account_id)
        if cached is not None and cached[0] > self._clock():
            return cached[1]
        reading = self._reading.get(account_id)
        if reading is None:  # one read per account and node, however many ask at once
            reading = asyncio.ensure_future(self._read(account_id))
            self._reading[account_id] = reading
            reading.add_done_callback(lambda done: self._finish(account_id, done))
        # A request that goes away cancels its own wait, never the read the others await.
        return await asyncio.shield(reading)

    async def _read(self, account_id: int) -> Allowance:
        edition = await self._read_edition(account_id)
        found = allowance(billing=True, edition=edition, policy=self.policy)
        if self._ttl > 0:
            if len(self._cached) >= MAX_CACHED_ACCOUNTS:
                self._cached.clear()
            self._cached[account_id] = (self._clock() + self._ttl, found)
        return found

    def _finish(self, account_id: int, done: asyncio.Future[Allowance]) -> None:
        self._reading.pop(account_id, None)
        if not done.cancelled():
            done.exception()  # retrieved here: a failure nobody awaited any more is not logged

    async def _read_edition(self, account_id: int) -> str:
        from humangate.billing import ledger

        assert self._sessions is not None
        for _ in range(2):
            async with self._sessions() as session:
                try:
                    plan = await ledger.plan_of(session, account_id, now=datetime.now(UTC))
                    await session.commit()  # plan_of gives an owner without one the default plan
                except IntegrityError:
                    # Another node made the owner's billing account at the same moment (read
                    # it again), or the account is gone (its units are about to go too).
                    await session.rollback()
                    continue
            return plan.edition
        return "standard"

    async def require(self, account_id: int | None, feature: Feature) -> None:
        """Refuse `feature` unless the owner's edition includes it.

        Raises:
            EditionRequired: billing is on and the owner's plan is a standard one.
        """
        if not (await self.of_account(account_id)).allows(feature):
            raise edition_required(feature)

    async def rate_multiplier(self, unit: UnitView) -> int:
        """How many times the per-network challenge limit `unit` gets (its owner's edition)."""
        return (await self.of_account(unit.account_id)).rate_multiplier

    async def require_verify_api(self, account_id: int | None) -> None:
        """Refuse a verification API request of an app whose owner's edition has no API.

        Raises:
            EditionRequired: billing is on and the owner's plan is a standard one.
        """
        await self.require(account_id, "verify-api")

    def forget(self, account_id: int | None = None) -> None:
        """Drop the cached allowance of one account (after its plan changed), or of all."""
        if account_id is None:
            self._cached.clear()
        else:
            self._cached.pop(account_id, None)
