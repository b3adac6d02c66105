"""A training-only bot family drawn from a wide space of generators (domain randomisation).

The named bot families teach a model their own signatures; a bot nobody trained on has others.
This family draws, per trace, every choice a path generator makes from a wide range, so that
what the model learns is where people differ from *any* such generator rather than from a few:

- timing: a Fitts-like duration with random constants, or any duration in 0.2-2 s;
- speed profile: a Beta(a, b) CDF with a and b in 1.2-8 (symmetric, early or late peaks), an
  exponential approach, a logistic, or a primary stroke that misses followed by a correction;
- path: a random bow and slope, or none;
- noise: none, white per-point noise, a sinusoidal "tremor" of 4-15 Hz (speed-gated or not), or
  a random walk;
- delivery: a driver (bench/risk/bots.py `play`: CDP frames or OS sleeps), or a trace of its own
  at 60-1000 Hz with 0-2 ms timestamp jitter, whole, half or float pixels, repeats kept or not;
  and for a third of the traces the script eases its clock rather than (or as well as) its
  steps: the time between steps follows a random Beta CDF, so the events speed up and slow
  down as no device's reports do.

It is trained on (bench/risk/train.py) and never used to report a held-out figure for another
family; bench/risk/lofo.py leaves it out like any other when it is the family under test.
"""

from __future__ import annotations

import math
import random

import numpy as np

from bench.risk.bots import play
from bench.risk.human import speed_profile_cdf
from bench.risk.sampling import numpy_rng
from bench.risk.task import DragTask, Point


def _duration(rng: random.Random, task: DragTask) -> float:
    if rng.random() < 0.5:
        bits = math.log2(task.distance / (2.0 * task.tolerance) + 1.0)
        return rng.uniform(0.0, 300.0) + rng.uniform(80.0, 350.0) * bits
    return rng.uniform(200.0, 2000.0)


def _beta_cdf(a: float, b: float, tau: np.ndarray) -> np.ndarray:
    grid = np.linspace(0.0, 1.0, 257)
    with np.errstate(divide="ignore"):
        density = grid ** (a - 1) * (1 - grid) ** (b - 1)
    density[~np.isfinite(density)] = 0.0  # an exponent below 1 at an end
    cdf = np.concatenate(([0.0], np.cumsum((density[1:] + density[:-1]) / 2)))
    return np.interp(tau, grid, cdf / cdf[-1])


def _profile(rng: random.Random, tau: np.ndarray) -> np.ndarray:
    kind = rng.randrange(4)
    if kind == 0:
        return _beta_cdf(rng.uniform(1.2, 8.0), rng.uniform(1.2, 8.0), tau)
    if kind == 1:
        rate = rng.uniform(2.0, 8.0)
        return (1 - np.exp(-rate * tau)) / (1 - math.exp(-rate))
    if kind == 2:
        k = rng.uniform(6.0, 16.0)
        raw = 1 / (1 + np.exp(-k * (tau - rng.uniform(0.35, 0.6))))
        return (raw - raw[0]) / max(raw[-1] - raw[0], 1e-9)
    split, miss = rng.uniform(0.55, 0.85), rng.uniform(-0.12, 0.08)
    first = (1 + miss) * speed_profile_cdf(np.clip(tau / split, 0, 1), rng.uniform(2.5, 5.0))
    onset = split * rng.uniform(0.7, 1.0)
    second = -miss * speed_profile_cdf(np.clip((tau - onset) / (1 - onset), 0, 1), 3.0)
    return first + second


def _noise(rng: random.Random, t: np.ndarray, speed: np.ndarray) -> np.ndarray:
    kind, noise = rng.randrange(4), numpy_rng(rng)
    if kind == 0:
        return np.zeros(t.size, dtype=np.complex128)
    if kind == 1:
        sd = rng.uniform(0.1, 1.5)
        return noise.normal(0, sd, t.size) + 1j * noise.normal(0, sd, t.size)
    if kind == 2:
        hz, amp = rng.uniform(4.0, 15.0), rng.uniform(0.1, 1.0)
        gate = (
            np.clip(speed / max(float(speed.max()), 1e-9) * 4, 0.05, 1) if rng.random() < 0.5 else 1
        )
        phase = 2 * math.pi * hz * t / 1000.0
        return amp * gate * (np.sin(phase + rng.uniform(0, 6.3)) + 1j * np.sin(phase + 1.0))
    steps = noise.normal(0, rng.uniform(0.05, 0.4), (2, t.size)).cumsum(axis=1)
    return steps[0] + 1j * steps[1]


def randomized_trace(rng: random.Random, task: DragTask) -> list[Point]:
    """One drag from a generator drawn at random from the space above."""
    duration = _duration(rng, task)
    direct = rng.random() < 0.5
    interval = 1000.0 / rng.choice([60.0, 125.0, 250.0, 500.0, 1000.0]) if direct else 0.0
    tick = interval or rng.uniform(5.0, 25.0)
    t = np.arange(tick, duration + tick, tick)
    progress = _profile(rng, np.clip(t / duration, 0, 1))
    if rng.random() < 1 / 3:  # eased sleeps: the clock, not only the steps, follows a curve
        warp = _beta_cdf(rng.uniform(0.6, 3.0), rng.uniform(0.6, 3.0), t / t[-1])
        t = t[-1] * np.maximum(warp, np.arange(1, t.size + 1) * 0.2 / t.size)
        t = np.maximum.accumulate(t)
    x = task.distance * progress
    bow = rng.gauss(0.0, 4.0) if rng.random() < 0.7 else 0.0
    y = bow * np.sin(np.pi * np.clip(progress, 0, 1)) + rng.gauss(0.0, 0.02) * x
    path = x + 1j * y
    path = path + _noise(rng, t, np.abs(np.gradient(path)))
    path[-1] = complex(task.distance, path[-1].imag)
    if not direct:
        sleeps = np.diff(t, prepend=0.0).tolist()
        return play(rng, [(p.real, p.imag) for p in path], sleeps, rng.uniform(0, 200))
    times = np.concatenate(([0.0], t)) + numpy_rng(rng).normal(0, rng.uniform(0, 2.0), t.size + 1)
    times = np.maximum.accumulate(times) + rng.uniform(300.0, 3000.0)
    path = np.concatenate(([0j], path))
    step = rng.choice([1.0, 0.5, 0.0])
    if step:
        path = np.round(path.real / step) * step + 1j * np.round(path.imag / step) * step
    trace: list[Point] = [(0.0, 0.0, round(float(times[0]), 1))]
    dedupe = rng.random() < 0.5
    for p, when in zip(path[1:], times[1:], strict=True):
        if dedupe and (p.real, p.imag) == trace[-1][:2]:
            continue
        trace.append((float(p.real) + 0.0, float(p.imag) + 0.0, round(float(when), 1)))
    return trace
