"""Bot families that no model is trained on: held out, to measure what an unseen bot does.

Written from the published ideas, not from anyone's code:

- windmouse: Benjamin Land's WindMouse (2007), popular in game-bot and automation circles: the
  pointer is pulled towards the target by a constant "gravity" and pushed by a random "wind"
  that fades near it, its step capped at a random maximum that shrinks on the approach; whole
  pixel moves, one per step, with a random 3-15 ms sleep per step.
- spring: a "humanizer" that drives the pointer with a damped spring (a PD controller) towards
  an aim point with a little random force each tick, under- or critically damped (it may
  overshoot and settle), ticking every 8-16 ms.
- minjerk: the strongest plausible adversary, one who read docs/risk-model.md: a Beta(3, b)
  minimum-jerk primary stroke timed by Fitts' law that undershoots, an overlapping correction,
  8-12 Hz tremor of 0.2-0.8 px, sent either through a driver or as a trace of its own making
  at a mouse's rate with jittered timestamps.
- warped-replay: a recorded human drag (from a seed pool no other family uses) rescaled onto
  the task, its y squashed or stretched, and its time warped by a random monotone curve and a
  global stretch of 0.7-1.4x, so neither the timing nor the speed profile is the recording's.

Every family here also comes "+tricks" in bench/risk/lofo.py (bench/risk/tricks.py on top).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import numpy as np

from bench.risk import sampling
from bench.risk.bots import play
from bench.risk.human import human_trace, speed_profile_cdf
from bench.risk.task import DragTask, Point, sample_task


def windmouse_trace(rng: random.Random, task: DragTask) -> list[Point]:
    """WindMouse from the press to the target, whole-pixel moves, a random sleep per step."""
    gravity, wind, max_step = rng.uniform(5.0, 12.0), rng.uniform(1.0, 5.0), rng.uniform(8.0, 20.0)
    area = rng.uniform(8.0, 14.0)
    x = y = vx = vy = wx = wy = 0.0
    target = (task.distance, 0.0)
    moves: list[tuple[float, float]] = []
    for _ in range(2000):
        dist = math.hypot(target[0] - x, target[1] - y)
        if dist < 1.0:
            break
        w = min(wind, dist)
        if dist >= area:
            wx = wx / math.sqrt(3) + (2 * rng.random() - 1) * w / math.sqrt(5)
            wy = wy / math.sqrt(3) + (2 * rng.random() - 1) * w / math.sqrt(5)
        else:
            wx, wy = wx / math.sqrt(3), wy / math.sqrt(3)
            max_step = rng.random() * 3 + 3 if max_step < 3 else max_step / math.sqrt(5)
        vx += wx + gravity * (target[0] - x) / dist
        vy += wy + gravity * (target[1] - y) / dist
        speed = math.hypot(vx, vy)
        if speed > max_step:
            clip = max_step / 2 + rng.random() * max_step / 2
            vx, vy = vx / speed * clip, vy / speed * clip
        x, y = x + vx, y + vy
        move = (float(round(x)), float(round(y)))
        if not moves or move != moves[-1]:
            moves.append(move)
    moves.append((float(round(task.distance)), moves[-1][1] if moves else 0.0))
    low = rng.uniform(2.0, 6.0)
    sleeps = [rng.uniform(low, low + rng.uniform(3.0, 10.0)) for _ in moves]
    return play(rng, moves, sleeps, rng.uniform(0.0, 120.0))


def spring_trace(rng: random.Random, task: DragTask) -> list[Point]:
    """A damped spring pulling the pointer to an aim point near the target, with random force."""
    omega, zeta = rng.uniform(6.0, 14.0), rng.uniform(0.55, 1.1)  # rad/s, damping ratio
    tick = rng.uniform(8.0, 16.0)
    dt = tick / 1000.0
    aim = complex(task.distance + rng.gauss(0.0, 1.0), rng.gauss(0.0, 1.5))
    push = rng.uniform(50.0, 400.0)  # px/s^2 of random force
    pos, vel = 0j, complex(0.0, rng.gauss(0.0, 20.0))
    moves: list[tuple[float, float]] = []
    for _ in range(int(4000 / tick)):
        force = omega**2 * (aim - pos) - 2 * zeta * omega * vel
        force += complex(rng.gauss(0.0, push), rng.gauss(0.0, push))
        vel += force * dt
        pos += vel * dt
        moves.append((pos.real, pos.imag))
        if abs(aim - pos) < 2.0 and abs(vel) < 30.0:
            break
    moves.append((task.distance, moves[-1][1]))
    return play(rng, moves, [tick] * len(moves), rng.uniform(0.0, 150.0))


def _minjerk_plan(rng: random.Random, task: DragTask) -> tuple[float, ...]:
    """Primary duration, its end point, the correction's onset and duration, the profile's beta."""
    width = 2.0 * task.tolerance
    total = rng.uniform(80.0, 220.0) + rng.uniform(140.0, 260.0) * math.log2(
        task.distance / width + 1.0
    )
    primary_ms = total * rng.uniform(0.6, 0.8)
    first = task.distance * (1.0 - rng.uniform(0.01, 0.08))
    onset = primary_ms * rng.uniform(0.75, 0.95)
    return primary_ms, first, onset, rng.uniform(120.0, 260.0), rng.uniform(3.0, 4.6)


def _minjerk_path(
    rng: random.Random, task: DragTask, plan: tuple[float, ...], times: np.ndarray
) -> np.ndarray:
    """A primary stroke that undershoots, an overlapping correction, tremor; complex px."""
    primary_ms, first, onset, fix_ms, beta = plan
    x = first * speed_profile_cdf(np.clip(times / primary_ms, 0, 1), beta)
    x = x + (task.distance - first) * speed_profile_cdf(
        np.clip((times - onset) / fix_ms, 0, 1), 3.5
    )
    y = rng.gauss(0.0, 0.03) * x + rng.gauss(0.0, 3.0) * np.sin(np.pi * x / task.distance)
    seconds, amp = times / 1000.0, rng.uniform(0.2, 0.8)
    for _ in range(2):
        hz, phase = rng.uniform(8.0, 12.0), rng.uniform(0.0, 2 * math.pi)
        x = x + amp / 2 * np.sin(2 * math.pi * hz * seconds + phase)
        y = y + amp / 2 * np.sin(2 * math.pi * hz * seconds + phase + 1.0)
    return x + 1j * y


def minjerk_trace(rng: random.Random, task: DragTask) -> list[Point]:
    """The minimum-jerk adversary: through a driver, or a trace of its own at a mouse's rate."""
    plan = _minjerk_plan(rng, task)
    end_ms = max(plan[0], plan[2] + plan[3]) + rng.uniform(0.0, 40.0)
    if rng.random() < 0.5:  # a driver: evaluate at the script's own tick
        tick = rng.uniform(8.0, 20.0)
        path = _minjerk_path(rng, task, plan, np.arange(tick, end_ms + tick, tick))
        moves = [(float(p.real), float(p.imag)) for p in path]
        return play(rng, moves, [tick] * len(moves), 0.0)
    interval = 1000.0 / rng.choice([125.0, 250.0, 500.0, 1000.0])
    times = np.arange(0.0, end_ms, interval)
    times = np.maximum.accumulate(times + sampling.numpy_rng(rng).normal(0.0, 0.3, times.size))
    path = _minjerk_path(rng, task, plan, times)
    step = rng.choice([1.0, 0.5, 0.0])
    if step:
        path = np.round(path.real / step) * step + 1j * np.round(path.imag / step) * step
    start = rng.uniform(400.0, 3000.0)
    path = path - path[0]
    stamps = np.round(start + times - times[0], 1)
    return [
        (float(p.real) + 0.0, float(p.imag) + 0.0, float(t))
        for p, t in zip(path, stamps, strict=True)
    ]


def warped_replay_trace(rng: random.Random, task: DragTask) -> list[Point]:
    """A recorded human drag on the new task with its time warped and its y rescaled."""
    source_rng = random.Random(f"warp-source/{rng.getrandbits(64)}")
    source = np.array(human_trace(source_rng, sample_task(source_rng)))
    xs = source[:, 0] * task.distance / source[-1, 0]
    ys = source[:, 1] * rng.uniform(0.5, 1.5)
    ts = source[:, 2] - source[0, 2]
    total = max(float(ts[-1]), 1.0)
    u = ts / total
    a = rng.uniform(-0.8, 0.8)  # |a| < 1 keeps the warp monotone
    warped = u + a * np.sin(2 * np.pi * u) / (2 * np.pi)
    ts = warped * total * rng.uniform(0.7, 1.4) + rng.uniform(400.0, 3000.0)
    if rng.random() < 0.5:
        xs, ys = np.round(xs) + 0.0, np.round(ys) + 0.0
    xs, ys = xs - xs[0], ys - ys[0]
    return [(float(x), float(y), float(t)) for x, y, t in zip(xs, ys, np.round(ts, 1), strict=True)]


HELD_OUT: dict[str, Callable[[random.Random, DragTask], list[Point]]] = {
    "windmouse": windmouse_trace,
    "spring": spring_trace,
    "minjerk": minjerk_trace,
    "warped-replay": warped_replay_trace,
}
