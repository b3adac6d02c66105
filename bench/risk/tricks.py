"""Post-processing that any bot author adds to a generated drag before sending it.

Each trick takes a finished trace (pointer-down at `(0, 0, t0)` first, pointer-up last) and
returns a new one, drawing only from `rng`. They are what an author writes in a line or two after
reading why a plain path fails, and they apply to every family:

- `grab_pause`: wait 60-450 ms after the press before moving (people do).
- `release_pause`: hold still 60-450 ms on the target before releasing.
- `drift`: a slight vertical drift (0.5-5 % of the travel) and a sideways bow of 1-6 px.
- `overshoot`: run 3-12 % past the target, then come back in a 120-320 ms eased correction.
- `point_noise`: 0.3-1.2 px of Gaussian noise on every inner point.
- `time_jitter`: 0.5-4 ms of uniform noise on every inner timestamp (order kept).

`with_tricks(rng, trace)` applies the first three always (the "two lines" of the outside
evaluation), then each of the others half of the time.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import numpy as np

from bench.risk.sampling import numpy_rng
from bench.risk.task import Point

Trick = Callable[[random.Random, list[Point]], list[Point]]


def _arrays(trace: list[Point]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    values = np.asarray(trace, dtype=np.float64)
    return values[:, 0].copy(), values[:, 1].copy(), values[:, 2].copy()


def _points(xs: np.ndarray, ys: np.ndarray, ts: np.ndarray) -> list[Point]:
    ts = np.round(np.maximum.accumulate(ts), 1)
    xs, ys = xs - xs[0] + 0.0, ys - ys[0] + 0.0
    return [(float(x), float(y), float(t)) for x, y, t in zip(xs, ys, ts, strict=True)]


def _whole(xs: np.ndarray) -> bool:
    return bool(np.all(xs == np.round(xs)))


def _interval(ts: np.ndarray) -> float:
    gaps = np.diff(ts)
    gaps = gaps[gaps > 0]
    return float(np.median(gaps)) if gaps.size else 16.7


def grab_pause(rng: random.Random, trace: list[Point]) -> list[Point]:
    xs, ys, ts = _arrays(trace)
    ts[1:] += min(450.0, max(60.0, 150.0 * rng.lognormvariate(0.0, 0.5)))
    return _points(xs, ys, ts)


def release_pause(rng: random.Random, trace: list[Point]) -> list[Point]:
    """The script sleeps before the release: nothing moves, so nothing is sent until the up."""
    xs, ys, ts = _arrays(trace)
    hold = min(450.0, max(60.0, 150.0 * rng.lognormvariate(0.0, 0.5)))
    xs, ys = np.append(xs, xs[-1]), np.append(ys, ys[-1])
    return _points(xs, ys, np.append(ts, ts[-1] + hold))


def drift(rng: random.Random, trace: list[Point]) -> list[Point]:
    xs, ys, ts = _arrays(trace)
    whole = _whole(xs) and _whole(ys)
    travel = max(float(xs[-1] - xs[0]), 1.0)
    progress = np.clip((xs - xs[0]) / travel, 0.0, 1.0)
    slope = rng.uniform(0.005, 0.05) * rng.choice([-1.0, 1.0])
    bow = rng.uniform(1.0, 6.0) * rng.choice([-1.0, 1.0])
    ys = ys + slope * (xs - xs[0]) + bow * np.sin(math.pi * progress)
    if whole:
        ys = np.round(ys)
    return _points(xs, ys, ts)


def overshoot(rng: random.Random, trace: list[Point]) -> list[Point]:
    xs, ys, ts = _arrays(trace)
    travel = float(xs[-1] - xs[0])
    if abs(travel) < 5.0:
        return trace
    past = rng.uniform(0.03, 0.12) * travel
    xs = xs[0] + (xs - xs[0]) * (travel + past) / travel
    back_ms, step = rng.uniform(120.0, 320.0), _interval(ts)
    u = np.arange(step, back_ms + step / 2, step) / back_ms
    ease = u * u * (3 - 2 * u)
    back_x = xs[-1] - past * np.clip(ease, 0.0, 1.0)
    if _whole(xs):
        xs, back_x = np.round(xs), np.round(back_x)
    xs = np.concatenate([xs, back_x])
    ys = np.concatenate([ys, np.full(u.size, ys[-1])])
    ts = np.concatenate([ts, ts[-1] + u * back_ms])
    return _points(xs, ys, ts)


def point_noise(rng: random.Random, trace: list[Point]) -> list[Point]:
    xs, ys, ts = _arrays(trace)
    noise, sd = numpy_rng(rng), rng.uniform(0.3, 1.2)
    xs[1:-1] += noise.normal(0.0, sd, xs.size - 2)
    ys[1:-1] += noise.normal(0.0, sd, ys.size - 2)
    return _points(xs, ys, ts)


def time_jitter(rng: random.Random, trace: list[Point]) -> list[Point]:
    xs, ys, ts = _arrays(trace)
    spread = rng.uniform(0.5, 4.0)
    ts[1:-1] += numpy_rng(rng).uniform(-spread, spread, ts.size - 2)
    order = np.argsort(ts, kind="stable")
    return _points(xs[order], ys[order], ts[order])


ALWAYS: tuple[Trick, ...] = (grab_pause, release_pause, drift)
SOMETIMES: tuple[Trick, ...] = (overshoot, point_noise, time_jitter)
TRICKS: dict[str, Trick] = {t.__name__.replace("_", "-"): t for t in (*ALWAYS, *SOMETIMES)}


def with_tricks(rng: random.Random, trace: list[Point]) -> list[Point]:
    """`trace` after the three tricks every author adds, and each other trick half the time."""
    chosen = [trick for trick in SOMETIMES if rng.random() < 0.5]
    out = trace
    for trick in (*chosen, *ALWAYS):  # the pauses last, so nothing moves during them
        out = trick(rng, out)
    return out
