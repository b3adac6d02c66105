"""Calibration from owner feedback: how labelled visitors fare at a threshold, and a better one.

Owners label past verifications "legitimate" or "abusive". `calibrate` counts them, gives each
label's pass rate at the current threshold (a visitor passes when `score >= threshold`) and, when
there are enough labels of both kinds, suggests the largest threshold that still lets at least
`target` of the legitimate labels pass, with the abusive pass rate it would give. With fewer
labels a suggestion would follow noise, so there is none and `reason` says why.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

LEGITIMATE = "legitimate"
ABUSIVE = "abusive"
TARGET_PASS = 0.97
MIN_LABELS = 20


@dataclass(frozen=True, slots=True)
class Calibration:
    """The outcome of `calibrate`; `as_dict` is plain JSON."""

    threshold: float
    legitimate: int
    abusive: int
    ignored: int
    legitimate_pass_rate: float | None
    abusive_pass_rate: float | None
    suggested_threshold: float | None
    suggested_abusive_pass_rate: float | None
    target_pass_rate: float
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _usable(score: object) -> bool:
    return (
        isinstance(score, int | float)
        and not isinstance(score, bool)
        and math.isfinite(score)
        and 0.0 <= score <= 1.0
    )


def _split(labels: Iterable[Any]) -> tuple[list[float], list[float], int]:
    """Scores of legitimate and abusive labels, and the count of unusable pairs."""
    legit: list[float] = []
    abusive: list[float] = []
    ignored = 0
    for item in labels:
        pair = tuple(item) if isinstance(item, tuple | list) and len(item) == 2 else (None, None)
        score, label = pair
        if _usable(score) and label == LEGITIMATE:
            legit.append(float(score))
        elif _usable(score) and label == ABUSIVE:
            abusive.append(float(score))
        else:
            ignored += 1
    return legit, abusive, ignored


def _pass_rate(scores: list[float], threshold: float) -> float | None:
    return sum(s >= threshold for s in scores) / len(scores) if scores else None


def _largest_threshold(legit: list[float], target: float) -> float:
    """The largest threshold at which at least `target` of `legit` scores pass."""
    ordered = sorted(legit)
    # round() first: 0.97 * 100 is 97.00000000000001 in binary and must need 97, not 98.
    must_pass = math.ceil(round(target * len(ordered), 9))
    return ordered[len(ordered) - must_pass]


def calibrate(
    labels: Iterable[tuple[float, str]],
    *,
    threshold: float,
    target: float = TARGET_PASS,
    min_labels: int = MIN_LABELS,
) -> Calibration:
    """Summarise feedback labels and suggest a threshold.

    Args:
        labels: `(score, label)` pairs, label "legitimate" or "abusive", score in [0, 1]; any
            other pair is counted in `ignored`.
        threshold: the unit's current threshold.
        target: the share of legitimate labels that must pass at the suggested threshold.
        min_labels: labels of each kind needed before suggesting anything.

    Returns:
        A `Calibration`; `suggested_threshold` is None when either kind has fewer than
        `min_labels` labels, and `reason` then says which.
    """
    legit, abusive, ignored = _split(labels)
    suggested = suggested_abusive = None
    short = [
        f"{kind} {n} of {min_labels}"
        for kind, n in ((LEGITIMATE, len(legit)), (ABUSIVE, len(abusive)))
        if n < min_labels
    ]
    if short:
        reason = f"Too few labels to suggest a threshold ({', '.join(short)} needed)."
    else:
        suggested = _largest_threshold(legit, target)
        suggested_abusive = _pass_rate(abusive, suggested)
        reason = f"The largest threshold at which {target:.0%} of legitimate labels pass."
    return Calibration(
        threshold=threshold,
        legitimate=len(legit),
        abusive=len(abusive),
        ignored=ignored,
        legitimate_pass_rate=_pass_rate(legit, threshold),
        abusive_pass_rate=_pass_rate(abusive, threshold),
        suggested_threshold=suggested,
        suggested_abusive_pass_rate=suggested_abusive,
        target_pass_rate=target,
        reason=reason,
    )
