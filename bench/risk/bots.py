"""Scripted drag bots, as a lazy-to-moderate bot author writes them, and a human-trace replayer.

Every scripted bot first finds the handle and presses on it, then moves through its own list of
points, sleeping between moves, then releases. How those moves become events depends on the
driver the author picked (bench/risk/sampling.py): `cdp` (puppeteer or Playwright's
`mouse.move`, one event per frame, float coordinates, 70% of scripts) or `os` (pyautogui or
xdotool moving the real pointer, events after each sleep, whole pixels, 30%). Half the authors
round their targets to whole pixels. The bots start after the page shows the widget either at
once (35%: right after waiting for the selector) or after a random sleep of 0.5-3.5 s.

- straight-line: evenly spaced points on the line to the target, a few px of random y noise,
  a random duration split evenly over 8-60 steps.
- constant-speed: whole-pixel steps of 2-10 px at a fixed interval, straight to the target.
- eased: one of ten ease-in-out timing functions over a random duration, at a random interval.
- bezier: a random cubic Bezier path whose control points sit off the line, traversed with an
  easing, a random sleep before each of 15-80 points, and a little positional noise.
- replayed: a recorded human trace (from a seed pool the human family never uses) rescaled so
  it ends on the new target, with small spatial and timing noise and a new start time.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Literal

import numpy as np

from bench.risk import sampling
from bench.risk.human import human_trace
from bench.risk.task import DragTask, Point, sample_task

Driver = Literal["cdp", "os"]
Easing = Callable[[float], float]


def _in_out_power(power: int) -> Easing:
    def ease(u: float) -> float:
        return 0.5 * (2 * u) ** power if u < 0.5 else 1 - 0.5 * (2 - 2 * u) ** power

    return ease


def _in_out_expo(u: float) -> float:
    if u <= 0.0 or u >= 1.0:
        return u
    return 0.5 * 2 ** (20 * u - 10) if u < 0.5 else 1 - 0.5 * 2 ** (10 - 20 * u)


def _in_out_circ(u: float) -> float:
    if u < 0.5:
        return 0.5 * (1 - math.sqrt(1 - (2 * u) ** 2))
    return 0.5 * (1 + math.sqrt(1 - (2 - 2 * u) ** 2))


def _in_out_back(u: float) -> float:
    s = 1.70158 * 1.525  # overshoots the target by ~10%, then settles on it
    if u < 0.5:
        return 0.5 * (2 * u) ** 2 * ((s + 1) * 2 * u - s)
    v = 2 * u - 2
    return 0.5 * (v * v * ((s + 1) * v + s) + 2)


EASE_IN_OUT: dict[str, Easing] = {
    "sine": lambda u: 0.5 - 0.5 * math.cos(math.pi * u),
    "quad": _in_out_power(2),
    "cubic": _in_out_power(3),
    "quart": _in_out_power(4),
    "quint": _in_out_power(5),
    "expo": _in_out_expo,
    "circ": _in_out_circ,
    "back": _in_out_back,
    "smoothstep": lambda u: u * u * (3 - 2 * u),
    "smootherstep": lambda u: u**3 * (u * (6 * u - 15) + 10),
}
EASE_OUT: dict[str, Easing] = {
    "out-sine": lambda u: math.sin(math.pi * u / 2),
    "out-quad": lambda u: 1 - (1 - u) ** 2,
    "out-cubic": lambda u: 1 - (1 - u) ** 3,
    "out-expo": lambda u: 1.0 if u >= 1.0 else 1 - 2 ** (-10 * u),
}


def ready_ms(rng: random.Random) -> float:
    """When a script presses on the handle, in ms after the widget was shown."""
    if rng.random() < 0.35:
        return rng.uniform(30.0, 400.0)
    return rng.uniform(500.0, 3500.0)


def play(
    rng: random.Random,
    moves: list[tuple[float, float]],
    sleeps_ms: list[float],
    release_sleep_ms: float,
) -> list[Point]:
    """Press, move through `moves` (relative to the press) sleeping before each, release."""
    driver: Driver = "cdp" if rng.random() < 0.7 else "os"
    whole_pixels = driver == "os" or rng.random() < 0.5
    origin_x, origin_y = rng.uniform(200.0, 900.0), rng.uniform(150.0, 700.0)
    if whole_pixels:
        origin_x, origin_y = float(round(origin_x)), float(round(origin_y))
        moves = [(float(round(x)), float(round(y))) for x, y in moves]
    xs = [origin_x] + [origin_x + x for x, _ in moves] + [origin_x + moves[-1][0]]
    ys = [origin_y] + [origin_y + y for _, y in moves] + [origin_y + moves[-1][1]]
    sleeps = [0.0, *sleeps_ms, release_sleep_ms]
    clock = sampling.frame_locked_times if driver == "cdp" else sampling.sleep_loop_times
    times = clock(rng, ready_ms(rng), sleeps)
    return sampling.bot_trace(rng, xs, ys, times, driver)


def _release_sleep(rng: random.Random) -> float:
    return 0.0 if rng.random() < 0.5 else rng.uniform(20.0, 200.0)


def straight_line_trace(rng: random.Random, task: DragTask) -> list[Point]:
    """Evenly spaced points to the target with a few px of y noise, random duration."""
    steps, duration = rng.randint(8, 60), rng.uniform(150.0, 1200.0)
    wobble = rng.choice([1.0, 2.0, 3.0])
    moves = [(task.distance * i / steps, rng.uniform(-wobble, wobble)) for i in range(1, steps + 1)]
    return play(rng, moves, [duration / steps] * steps, _release_sleep(rng))


def constant_speed_trace(rng: random.Random, task: DragTask) -> list[Point]:
    """Whole-pixel steps of fixed size at a fixed interval, then the exact target."""
    step, interval = rng.randint(2, 10), rng.choice([5.0, 8.0, 10.0, 15.0, 16.0, 20.0, 25.0, 30.0])
    target = float(round(task.distance))
    xs = [float(x) for x in range(step, int(target), step)] + [target]
    return play(rng, [(x, 0.0) for x in xs], [interval] * len(xs), _release_sleep(rng))


def eased_trace(rng: random.Random, task: DragTask) -> list[Point]:
    """An ease-in-out timing function over a random duration, sampled at a random interval."""
    ease = EASE_IN_OUT[rng.choice(sorted(EASE_IN_OUT))]
    duration, interval = rng.uniform(300.0, 1500.0), rng.uniform(8.0, 25.0)
    steps = max(5, round(duration / interval))
    wobble = rng.choice([0.0, 0.0, 1.0])
    moves = [
        (task.distance * ease(i / steps), rng.uniform(-wobble, wobble)) for i in range(1, steps + 1)
    ]
    moves[-1] = (task.distance, moves[-1][1])
    return play(rng, moves, [interval] * steps, _release_sleep(rng))


def bezier_trace(rng: random.Random, task: DragTask) -> list[Point]:
    """A random cubic Bezier path, eased, with random sleeps and a little positional noise."""
    distance, bulge = task.distance, rng.uniform(5.0, 40.0)
    controls = np.array(
        [
            (0.0, 0.0),
            (rng.uniform(0.1, 0.5) * distance, rng.uniform(-bulge, bulge)),
            (rng.uniform(0.5, 0.9) * distance, rng.uniform(-bulge, bulge)),
            (distance + rng.uniform(-1.0, 1.0), rng.uniform(-2.0, 2.0)),
        ]
    )
    easings = {**EASE_IN_OUT, **EASE_OUT}
    ease = easings[rng.choice(sorted(easings))]
    count, jitter = rng.randint(15, 80), rng.uniform(0.0, 0.8)
    moves = []
    for i in range(1, count + 1):
        u = min(1.0, max(0.0, ease(i / count)))
        weights = np.array([(1 - u) ** 3, 3 * u * (1 - u) ** 2, 3 * u * u * (1 - u), u**3])
        x, y = weights @ controls
        last = i == count
        moves.append((x + (0.0 if last else rng.gauss(0, jitter)), y + rng.gauss(0, jitter)))
    sleeps = [rng.uniform(5.0, 30.0) for _ in moves]
    return play(rng, moves, sleeps, _release_sleep(rng))


def replayed_trace(rng: random.Random, task: DragTask) -> list[Point]:
    """A recorded human drag rescaled onto `task`, with spatial and timing noise.

    The recording comes from its own seed pool (string seeds under "replay-source/"), which the
    human family (seeded "human/<seed>/<i>" by bench.risk.families) never draws from.
    """
    source_rng = random.Random(f"replay-source/{rng.getrandbits(64)}")
    source_task = sample_task(source_rng)
    source = np.array(human_trace(source_rng, source_task))
    x_scale = task.distance / source[-1, 0]
    y_scale = x_scale if rng.random() < 0.5 else 1.0
    space_noise, time_noise = rng.uniform(0.2, 1.0), rng.uniform(0.3, 3.0)
    stretch = 1.0 if rng.random() < 0.5 else rng.uniform(0.9, 1.1)
    noise = sampling.numpy_rng(rng)
    xs = source[:, 0] * x_scale + noise.normal(0.0, space_noise, len(source))
    ys = source[:, 1] * y_scale + noise.normal(0.0, space_noise, len(source))
    ts = (source[:, 2] - source[0, 2]) * stretch + noise.normal(0.0, time_noise, len(source))
    ts = np.maximum.accumulate(np.maximum(ts, 0.0)) + rng.uniform(400.0, 3000.0)
    xs[0], ys[0] = 0.0, 0.0
    if rng.random() < 0.5:
        xs, ys = np.round(xs) + 0.0, np.round(ys) + 0.0  # + 0.0 turns -0.0 into 0.0
    return [(float(x), float(y), float(t)) for x, y, t in zip(xs, ys, np.round(ts, 1), strict=True)]
