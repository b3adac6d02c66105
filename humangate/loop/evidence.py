"""Is there a gesture to judge, and is it one recording made after the challenge was shown?

Pure checks on what the widget sent. Absence of evidence is never evidence: a missing or
too-short trace, a keyboard answer, a trace that claims more time than has passed since the
server issued the challenge, or a slide whose answer trajectory is not the recording that was
scored, each sends the visitor down a harder path; none of them helps.
"""

from __future__ import annotations

from collections.abc import Sequence

from humangate.risk.assess import Pointer
from humangate.risk.base import Point

MIN_TRACE_POINTS = 5
MIN_TRACE_MS = 100.0
# The widget's clock starts when it shows the challenge, after the server issued it; its times
# may run ahead of the server's by rounding and clock granularity only.
CLOCK_SLACK_MS = 500.0
SAME_EVENT_MS = 2.0  # the two recordings round one event's time differently, by under 1 ms
POINTER_KINDS = frozenset({"slide", "rotate", "click"})  # answered by moving a pointer

# Reasons, for the owner's events only (the client is never told which).
KEYBOARD = "keyboard-answer"
NO_TRACE = "no-trace"
FUTURE_TRACE = "trace-after-answer"
MISMATCH = "trace-mismatch"


def trace_problem(
    trace: Sequence[Point] | None,
    pointer: Pointer,
    *,
    elapsed_ms: float,
    min_points: int = MIN_TRACE_POINTS,
) -> str:
    """Why `trace` is no gesture to score ("" when it is one). A drag needs `MIN_TRACE_POINTS`;
    taps on a picture may leave one event each and no move between them."""
    if pointer == "keyboard":
        return KEYBOARD
    if pointer == "none" or not trace or len(trace) < max(2, min_points):
        return NO_TRACE
    if trace[-1][2] - trace[0][2] < MIN_TRACE_MS:
        return NO_TRACE
    if max(point[2] for point in trace) > elapsed_ms + CLOCK_SLACK_MS:
        return FUTURE_TRACE
    return ""


def trajectory_problem(
    kind: str, trajectory: object, trace: Sequence[Point], *, elapsed_ms: float
) -> str:
    """Why the answer's `trajectory` is not the scored `trace`'s recording ("" when it is).

    Both come from the same pointer events: every trace point has a trajectory point of the
    same time, and for a slide the trajectory's x follows the pointer's x on one straight line.
    """
    points = _points(trajectory)
    if points is None:
        return MISMATCH
    if points and max(t for _, _, t in points) > elapsed_ms + CLOCK_SLACK_MS:
        return FUTURE_TRACE
    matched = _match_by_time(points, trace)
    if matched is None:
        return MISMATCH
    if kind == "slide" and not _follows_pointer(matched):
        return MISMATCH
    return ""


def _points(trajectory: object) -> list[Point] | None:
    if not isinstance(trajectory, list):
        return None
    points: list[Point] = []
    for item in trajectory:
        if not isinstance(item, list) or len(item) != 3:
            return None
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in item):
            return None
        points.append((float(item[0]), float(item[1]), float(item[2])))
    return points


def _match_by_time(
    points: Sequence[Point], trace: Sequence[Point]
) -> list[tuple[Point, Point]] | None:
    """Each trace point with the trajectory point of its time, walking both in time order."""
    pairs: list[tuple[Point, Point]] = []
    index = 0
    for point in trace:
        while index < len(points) and points[index][2] < point[2] - SAME_EVENT_MS:
            index += 1
        if index == len(points) or abs(points[index][2] - point[2]) > SAME_EVENT_MS:
            return None
        pairs.append((point, points[index]))
    return pairs


def _follows_pointer(pairs: Sequence[tuple[Point, Point]]) -> bool:
    """The slide's value moved with the pointer's x: one scale, one offset, off by < 2 px
    wherever the handle was not held at an end of its track."""
    xs = [pointer[0] for pointer, _ in pairs]
    values = [value[0] for _, value in pairs]
    low, high = min(values), max(values)
    free = [(x, v) for x, v in zip(xs, values, strict=True) if low < v < high]
    if len(free) < 3:
        return high > low
    n = len(free)
    mean_x = sum(x for x, _ in free) / n
    mean_v = sum(v for _, v in free) / n
    var_x = sum((x - mean_x) ** 2 for x, _ in free)
    if var_x == 0:
        return False
    slope = sum((x - mean_x) * (v - mean_v) for x, v in free) / var_x
    if slope <= 0:
        return False
    worst = max(abs(v - (mean_v + slope * (x - mean_x))) for x, v in free)
    return worst <= 2.0
