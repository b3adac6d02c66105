"""The verification loop: issue a challenge, check an answer, mint and verify a pass token.

Pure challenge code lives in `challenges/` and scoring in `risk/`; the loop adds the hot-state
store, the clock, randomness from `secrets`, the limits and the hooks. Refusals of a request are
raised from `humangate.errors`; every outcome of a well-formed request (a wrong answer, a spent
token) is a returned value: `Issued`, `Answered`, `VerifyResult`.

    records.py     the typed records: Policy, Visitor, Signals, stored states, results
    limits.py      rate windows and lockout
    hooks.py       the meter that may refuse, the observers that count and record
    issue.py       choose and issue a challenge        answer.py   check, judge, pass or fail
    siteverify.py  verify a token once                 verifier.py the four steps as one object
"""

from humangate.loop.context import Clock
from humangate.loop.hooks import (
    EventObserver,
    FreeMeter,
    Meter,
    Observer,
    Outcome,
    StatsObserver,
)
from humangate.loop.issue import choose_plan, generate_visual
from humangate.loop.records import (
    Answered,
    ChallengeState,
    Issued,
    Plan,
    Policy,
    Signals,
    TokenRecord,
    VerifyResult,
    Visitor,
    iso_utc,
)
from humangate.loop.siteverify import verify_test_secret
from humangate.loop.verifier import Verifier

__all__ = [
    "Answered",
    "Clock",
    "ChallengeState",
    "EventObserver",
    "FreeMeter",
    "Issued",
    "Meter",
    "Observer",
    "Outcome",
    "Plan",
    "Policy",
    "Signals",
    "StatsObserver",
    "TokenRecord",
    "Verifier",
    "VerifyResult",
    "Visitor",
    "choose_plan",
    "generate_visual",
    "iso_utc",
    "verify_test_secret",
]
