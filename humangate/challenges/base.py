"""What every challenge kind shares: a pure generator and a pure checker.

A generator takes a seeded `random.Random` and its parameters and returns a `Challenge`: the public
payload sent to the widget and the private answer kept in the hot-state store. It never touches
`secrets`, the clock, the disk or the network, so every challenge is reproducible in tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["pow", "slide", "click", "rotate", "text", "audio"]
JSON = dict[str, Any]


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
