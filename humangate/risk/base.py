"""Types shared by the risk engine's pure parts.

The risk engine turns what the widget observed (a pointer trace, timings, coarse environment
facts) and what the server counted (rates per network, device and unit) into a score between 0
(a machine) and 1 (a person) with named reasons. Everything here is pure: no clock, no store, no
randomness; the API layer gathers the inputs.

A trace is a sequence of points `(x, y, t)`: `x` and `y` in CSS pixels relative to where the
gesture started (right and down are positive), `t` in milliseconds (high-resolution, possibly
fractional, non-decreasing) since the widget was shown. Browsers sample pointers at 30 to
1000 Hz (coalesced events included), so nothing may assume a sampling rate.

Scores combine in logit space: `score = sigmoid(behaviour_logit + sum(finding.weight))`, where a
finding's weight is negative when it points to a machine. Weights come from versioned data files
next to this module, never from constants in code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

Point = tuple[float, float, float]
Trace = Sequence[Point]


@dataclass(frozen=True, slots=True)
class Finding:
    """One named piece of evidence and its weight in logit units (negative: machine-like)."""

    reason: str
    weight: float


@dataclass(frozen=True, slots=True)
class RateFacts:
    """Counts the server keeps in sliding windows; zero when unknown."""

    network_per_minute: int = 0  # challenges issued to this /24 (IPv4) or /64 (IPv6)
    device_per_minute: int = 0  # challenges issued to this device id on this unit
    unit_per_minute: int = 0  # challenges issued by the unit as a whole
    unit_baseline_per_minute: float = 0.0  # the unit's usual rate (0: no history yet)
    failures: int = 0  # failed answers from this network on this unit in the failure window


@dataclass(frozen=True, slots=True)
class Assessment:
    """The verdict: a score in [0, 1], the reasons that lowered it (worst first), the features,
    and the gesture's own score (movement and replay only; None without a pointer trace)."""

    score: float
    reasons: tuple[str, ...] = ()
    features: dict[str, float] = field(default_factory=dict)
    gesture: float | None = None
