"""Where later work plugs into the loop: a meter that may refuse, observers that watch.

A meter is asked before a challenge is issued and before a token is minted; it refuses by
raising a `humangate.errors.Refusal` (billing refuses an account whose balance is gone). It is
told after a token verified, once per token, and may not refuse then.
Observers hear every outcome once it happened (statistics, risk events, metrics); they must not
block or raise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, Protocol

from humangate.db.events import EventRecord
from humangate.risk.base import Assessment
from humangate.testkeys import is_test_unit
from humangate.tokens import token_key
from humangate.units import UnitView

Stage = Literal["issued", "passed", "failed", "escalated", "verified", "verify-failed"]


class Meter(Protocol):
    async def before_issue(self, unit: UnitView) -> None:
        """Raise a Refusal to refuse a new challenge for `unit`."""

    async def before_mint(self, unit: UnitView) -> None:
        """Raise a Refusal to refuse a pass token for `unit` (the answer was right)."""

    async def after_verify(self, unit: UnitView) -> None:
        """A token of `unit` verified (once per token); must not raise."""


class FreeMeter:
    """The meter of a deployment that does not bill: it never refuses."""

    async def before_issue(self, unit: UnitView) -> None:
        return None

    async def before_mint(self, unit: UnitView) -> None:
        return None

    async def after_verify(self, unit: UnitView) -> None:
        return None


@dataclass(frozen=True, slots=True)
class Outcome:
    """One step of the loop for one unit: what happened, to which kind, and why."""

    unit: UnitView
    stage: Stage
    kind: str = ""
    reason: str = ""  # a failure's code, or the first siteverify error code
    at: float = 0.0  # unix time
    ip_prefix: str = ""
    device: str = ""
    mode: str = ""
    risk: Assessment = field(default_factory=lambda: Assessment(score=0.0))
    token: str = ""


class Observer(Protocol):
    def observe(self, outcome: Outcome) -> None: ...


class StatsObserver:
    """Hourly counters per unit (humangate/stats.py): issued and passed by kind, failed by
    reason, escalated by kind, verified, and failed verifications by error code."""

    def __init__(self, count: StatSink) -> None:
        self._count = count

    def observe(self, outcome: Outcome) -> None:
        if is_test_unit(outcome.unit):
            return
        key = outcome.reason if outcome.stage in ("failed", "verify-failed") else outcome.kind
        if outcome.stage == "verified":
            key = ""
        self._count(outcome.unit.id, outcome.stage, key)


class MetricsObserver:
    """Challenges by kind and outcome for /metrics (humangate/observability/metrics.py); test
    units count too: their traffic is load on the node like any other."""

    def __init__(self, count: ChallengeCount) -> None:
        self._count = count

    def observe(self, outcome: Outcome) -> None:
        if outcome.stage in ("issued", "passed", "failed", "escalated"):
            self._count((outcome.kind or "none", outcome.stage))


class EventObserver:
    """Risk events of answers (passed, failed, escalated), for the owner and calibration:
    outcome, score and reasons with a truncated network, never the gesture or its features."""

    def __init__(self, record: EventSink) -> None:
        self._record = record

    def observe(self, outcome: Outcome) -> None:
        if outcome.stage not in ("passed", "failed", "escalated") or is_test_unit(outcome.unit):
            return
        risk = outcome.risk
        reasons = risk.reasons
        if outcome.reason and outcome.reason not in reasons:
            reasons = (outcome.reason, *reasons)  # why it failed or escalated, first
        self._record(
            EventRecord(
                unit_id=outcome.unit.id,
                created_at=datetime.fromtimestamp(outcome.at, UTC),
                device_id=outcome.device,
                ip_prefix=outcome.ip_prefix,
                kind=outcome.kind,
                mode=outcome.mode,
                outcome=outcome.stage,
                score=round(risk.score, 4),
                reasons=reasons,
                # The gesture's measurements are not kept: tied to a device id they would
                # profile a person, and nothing on the server reads them back.
                features={},
                token_digest=token_key(outcome.token) if outcome.token else None,
            )
        )


class StatSink(Protocol):
    def __call__(self, unit_id: int, metric: str, key: str = "", /) -> None: ...


class EventSink(Protocol):
    def __call__(self, event: EventRecord, /) -> None: ...


class ChallengeCount(Protocol):
    def __call__(self, labels: tuple[str, str], /) -> None: ...
