"""What every step of the loop shares: the store, the key, the limits, the hooks, the clock."""

from __future__ import annotations

import base64
import random
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from humangate.loop.hooks import FreeMeter, Meter, Observer, Outcome, Stage
from humangate.loop.limits import LoopLimits
from humangate.loop.records import ChallengeState, Policy, Visitor
from humangate.pool import ChallengePool
from humangate.risk.access import AccessList
from humangate.risk.assess import combine_weights, default_threshold
from humangate.risk.base import Assessment
from humangate.risk.environment import RegionTable
from humangate.risk.fingerprint import model_fingerprint
from humangate.store import Store
from humangate.units import UnitView

Clock = Callable[[], float]  # unix time in seconds
CrawlerCheck = Callable[[str, str], Awaitable[bool]]  # (crawler name, ip) -> confirmed by DNS
# n random bytes: `secrets` in production; a seeded generator in tests, to replay a run.
Entropy = Callable[[int], bytes]

MAX_LEVEL = 4  # how far failures raise a visitor above the unit's base difficulty


@dataclass(frozen=True, slots=True, kw_only=True)
class LoopContext:
    store: Store
    key: bytes
    policy: Policy
    pool: ChallengePool
    limits: LoopLimits
    clock: Clock = time.time
    entropy: Entropy = secrets.token_bytes
    meter: Meter = field(default_factory=FreeMeter)
    observers: Sequence[Observer] = ()
    crawler_check: CrawlerCheck | None = None
    regions: RegionTable | None = None
    monitoring: AccessList | None = None  # the operator's own automation (see config.py)

    def now(self) -> int:
        return int(self.clock())

    def new_id(self) -> str:
        """A challenge id: 128 random bits, URL-safe."""
        return base64.urlsafe_b64encode(self.entropy(16)).rstrip(b"=").decode()

    def new_rng(self) -> random.Random:
        return random.Random(int.from_bytes(self.entropy(16), "big"))

    def observe(
        self,
        unit: UnitView,
        stage: Stage,
        *,
        kind: str = "",
        reason: str = "",
        visitor: Visitor | None = None,
        state: ChallengeState | None = None,
        risk: Assessment | None = None,
        token: str = "",
    ) -> None:
        outcome = Outcome(
            unit=unit,
            stage=stage,
            kind=kind or (state.kind if state else ""),
            reason=reason,
            at=self.clock(),
            ip_prefix=visitor.ip_prefix if visitor else "",
            device=state.risk.device if state else "",
            mode=state.mode if state else unit.mode,
            risk=risk or Assessment(score=0.0),
            token=token,
        )
        for observer in self.observers:
            observer.observe(outcome)


def threshold_of(unit: UnitView) -> float:
    """The score a gesture needs on this unit."""
    return unit.threshold(default_threshold(), model=model_fingerprint())


def visual_floor(unit: UnitView) -> float:
    """Below this score a visitor starts at (or a slide drag fails into) a visual challenge."""
    return threshold_of(unit) * combine_weights().visual_floor_fraction
