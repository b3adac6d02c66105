"""What every challenge kind shares: a pure generator and a pure checker.

A generator takes a seeded `random.Random` and its parameters and returns a `Challenge`: the public
payload sent to the widget and the private answer kept in the hot-state store. It never touches
`secrets`, the clock, the disk or the network, so every challenge is reproducible in tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["pow", "slide", "click", "rotate", "text", "audio"]
JSON = dict[str, Any]
MAX_SAFE_INT = 2**53  # the largest integer a browser's JSON numbers carry exactly


@dataclass(frozen=True, slots=True)
class Challenge:
    """A generated challenge: `payload` goes to the client, `answer` never leaves the server."""

    kind: Kind
    payload: JSON
    answer: JSON
    meta: JSON = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of checking one submission; `reason` is an error code when `passed` is false."""

    passed: bool
    reason: str = ""

    @classmethod
    def ok(cls) -> CheckResult:
        return cls(True)

    @classmethod
    def fail(cls, reason: str) -> CheckResult:
        return cls(False, reason)


def finite_number(value: object) -> float | None:
    """`value` as a finite float, or None for bools, non-numbers, NaN, infinities and huge ints."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return float(value) if -MAX_SAFE_INT <= value <= MAX_SAFE_INT else None
    if isinstance(value, float) and math.isfinite(value):
        return value
    return None


def check_integers(params: object, *ranges: tuple[str, int, int]) -> None:
    """Raise ValueError for the first field of `params` named in `ranges` (name, lo, hi) that is
    not an integer (bools are not) in [lo, hi]."""
    for name, lo, hi in ranges:
        value = getattr(params, name)
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise ValueError(f"{name} must be an integer in [{lo}, {hi}]")
