"""Adaptive proof of work: how many numbers a visitor's PoW may have to search.

A PoW challenge's secret number is uniform in `[0, difficulty)`, so a client computes
`difficulty / 2` SHA-256 hashes on average and `difficulty` at worst. The unit's base difficulty is
multiplied by one factor per kind of pressure, each from the weights file (`difficulty` section):

- attempts: `2 ** level` or the failures grade, whichever is larger (both count the same failed
  answers, so they are not multiplied together);
- this network's and this device's challenges per minute;
- the unit's load (its rate over its usual rate, see `humangate.risk.rate.unit_load`);
- a poor score from an earlier assessment (None: no score yet, no factor).

The product is capped at the file's `max` (and at `pow.MAX_DIFFICULTY`) but never goes below the
base, so the result is non-decreasing in every pressure and never punishes an unknown.

What the cap costs: the widget's pure-JS SHA-256 (`widget/src/sha256.js`, driven by `pow.js` in
20 ms slices) does about 1.5 million hashes a second under node 20 on one EPYC server core,
measured by `python -m bench.pow_economics`; node's V8 stands in for a browser's. A mid-range
phone is estimated 3 to 5 times slower, and browsers clamp the 0 ms timeout between slices to
4 ms (about 20% more), so the default cap of 1,000,000 costs it about 1.2 to 2 s on average and
2.5 to 4 s at worst; a low-end phone (about 10 times slower) some 4 s and 8 s. These phone
figures are estimates from the server measurement, not phone measurements.
"""

from __future__ import annotations

import math

from humangate.challenges.pow import MAX_DIFFICULTY
from humangate.risk._rules import RuleBook, graded, load_rules
from humangate.risk.base import RateFacts
from humangate.risk.rate import unit_load


def _score_factor(score: float | None, book: RuleBook) -> int:
    """The factor of the lowest `score_below` threshold the score is under (1 if none, or None)."""
    if score is None or math.isnan(score):
        return 1
    factor = 1.0
    for grade in book.difficulty.score_below:
        if score < grade.at:
            factor = grade.value
    return int(factor)


def pow_difficulty(
    base: int,
    *,
    level: int,
    facts: RateFacts,
    score: float | None,
    rules: RuleBook | None = None,
) -> int:
    """The PoW difficulty (ALTCHA `maxnumber`) for one challenge.

    Args:
        base: the unit's configured difficulty (values below 1 count as 1).
        level: how many steps failures have raised this visitor (0 for a first try).
        facts: the server's counts for this request.
        score: the visitor's last score in [0, 1], or None when there is none.
        rules: the weights; the packaged default version when None.

    Returns:
        A difficulty in `[base, max(base, cap)]`, at most `pow.MAX_DIFFICULTY`. It never falls
        when level, failures, network or device rate or unit load rise, or when score falls.
    """
    book = rules or load_rules()
    table = book.difficulty
    base = max(1, base)
    attempts = max(
        2 ** min(max(level, 0), table.max_level),
        graded(facts.failures, table.failures) or 1,
    )
    load = unit_load(facts, book.load)
    load_factor = graded(load, table.unit_load) if load is not None else None
    factor = (
        int(attempts)
        * int(graded(facts.network_per_minute, table.network_per_minute) or 1)
        * int(graded(facts.device_per_minute, table.device_per_minute) or 1)
        * int(load_factor or 1)
        * _score_factor(score, book)
    )
    raised = max(base, min(table.max, base * factor))
    return min(MAX_DIFFICULTY, raised)
