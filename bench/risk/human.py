"""A model of a person dragging a slider handle onto its target, built from motor-control work.

What each part rests on (ideas and published magnitudes only; no code was taken from anyone):

- Movement time follows Fitts' law in Shannon's form, MT = a + b * log2(D/W + 1) (Fitts 1954,
  "The information capacity of the human motor system in controlling the amplitude of
  movement"; MacKenzie 1992, "Fitts' law as a research and design tool in human-computer
  interaction"). Dragging with a mouse is slower than pointing, with a slope of roughly 250
  ms/bit (MacKenzie, Sellen & Buxton 1991, "A comparison of input devices in elemental pointing
  and dragging tasks"), and a drag's difficulty follows the target's width along the motion
  (MacKenzie & Buxton 1994, "The prediction of pointing and dragging times in graphical user
  interfaces"), here W = 2 x tolerance; Soukoreff & MacKenzie (2004) put mouse throughput at
  3.7-4.9 bit/s. Each person gets their own a and b around those (typical: a 50-250 ms, b
  170-280 ms/bit). Direct touch has a larger intercept and a smaller slope (Bi, Li & Zhai 2013,
  "FFitts law: modeling finger touch with Fitts' law").
- The first (primary) submovement has a minimum-jerk profile (Flash & Hogan 1985, "The
  coordination of arm movements: an experimentally confirmed mathematical model"), whose speed
  is the Beta(3, 3) density over the movement. Aimed movements decelerate longer than they
  accelerate, more so when precision matters (MacKenzie, Marteniuk, Dugas, Liske & Eickmeier
  1987, "Three-dimensional movement trajectories in Fitts' task"), so each person's profile is
  Beta(3, beta) with beta in [3, 4.6]: peak speed at 36-50% of the submovement.
- The primary submovement's endpoint scatters with a standard deviation proportional to its
  mean speed, and whatever misses is fixed by further submovements (Meyer, Abrams, Kornblum,
  Wright & Smith 1988, "Optimality in human motor performance: ideal control of rapid aimed
  movements"). Primary movements tend to undershoot, an overshoot costing more to correct
  (Elliott, Helsen & Chua 2001, "A century later: Woodworth's (1899) two-component model of
  goal-directed aiming"). Corrections usually start before the previous submovement has ended
  (Novak, Miller & Houk 2002, "The use of overlapping submovements in the control of rapid hand
  movements"), sometimes after a pause.
- Hand paths are nearly straight with bell-shaped speed (Morasso 1981, "Spatial control of arm
  movements") yet slightly curved (Uno, Kawato & Suzuki 1989, "Formation and control of optimal
  trajectory in human multijoint arm movement"), and a horizontal drag drifts vertically; a
  thumb sweeps an arc (Bergstrom-Lehtovirta & Oulasvirta 2014, "Modeling the functional area of
  the thumb on mobile touchscreen surfaces"), so touch drags drift and bow more.
- Physiological tremor: 8-12 Hz, here 0.1-1 px at the pointer (Elble & Koller 1990, "Tremor").
  A mouse held still barely moves (friction), a finger on glass keeps jittering.
- Older and first-time users are slower, make more and smaller submovements, pause longer and
  stop part way (Walker, Philbin & Fisk 1997, "Age-related differences in movement control:
  adjusting submovement structure to optimize performance"; Ketcham, Seidler, Van Gemmert &
  Stelmach 2002, "Age-related kinematic differences as influenced by task difficulty, target
  size, and movement amplitude"); practised users are quick and sparse. Persons are drawn as
  70% typical, 15% fast, 15% slow.
- Pauses are this model's own assumptions, not taken from a source: a grab pause between
  pointer-down and motion (median ~110 ms, 25-1500 ms, scaled per person), hesitations before
  some corrections (median ~180 ms; half of a slow person's corrections), and a pause before
  release (median ~130 ms, 1.4x for a tight target). A pressed mouse button sometimes jolts
  the pointer by a pixel; a lifted finger shifts the contact point by up to a pixel.

How the browser samples the movement (device rates, coalesced events, rounding) is in
bench/risk/sampling.py.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from bench.risk import sampling
from bench.risk.task import DragTask, Point, PointerKind

Style = Literal["typical", "fast", "slow"]
SubmovementKind = Literal["slip", "primary", "continuation", "correction"]

STYLES: tuple[Style, ...] = ("typical", "fast", "slow")
MAX_CORRECTIONS = 4
_PROFILE_GRID = np.linspace(0.0, 1.0, 257)
_ACCEPT_SHARE = {"typical": (0.25, 0.7), "fast": (0.5, 0.85), "slow": (0.15, 0.45)}


@dataclass(frozen=True, slots=True)
class Person:
    """One person's motor habits for this drag."""

    style: Style
    fitts_a_ms: float
    fitts_b_ms: float
    primary_share: float  # share of the Fitts time taken by the primary submovement
    aim_bias: float  # mean relative error of main submovements (negative: undershoot)
    precision_s: float  # Meyer's k: endpoint sd in px = k * mean speed in px/s
    accept_share: float  # remaining error, as a share of tolerance, the person leaves alone
    deceleration: float  # beta of the Beta(3, beta) speed profile
    drift_slope: float  # vertical drift per px of horizontal travel
    bow_scale: float  # signed size of the path's sideways bulge
    tremor_px: float
    noise_px: float  # digitizer noise (touch only)
    hesitation_rate: float  # chance of a pause before a correction
    stop_and_go_rate: float  # chance of stopping part way
    pause_scale: float
    speed_scale: float  # multiplies correction durations


@dataclass(frozen=True, slots=True)
class Submovement:
    """One minimum-jerk-like stroke; times in ms after pointer-down."""

    kind: SubmovementKind
    onset_ms: float
    duration_ms: float
    dx: float
    dy: float
    deceleration: float
    bow_px: float = 0.0

    @property
    def end_ms(self) -> float:
        return self.onset_ms + self.duration_ms


@dataclass(frozen=True, slots=True)
class HumanMovement:
    """A generated trace with what produced it, for tests and analysis."""

    trace: list[Point]
    person: Person
    plan: list[Submovement]
    device: sampling.HumanSampling
    release_ms: float  # pointer-up, ms after pointer-down (before timestamp coarsening)


def sample_person(rng: random.Random, pointer: PointerKind, style: Style | None = None) -> Person:
    """Draw a person: their style (unless given), Fitts constants, accuracy, path shape, pauses."""
    style = style or rng.choices(STYLES, weights=[0.7, 0.15, 0.15])[0]
    a_range, b_range, speed, pause = {
        "typical": ((50.0, 250.0), (170.0, 280.0), 1.0, 1.0),
        "fast": ((0.0, 120.0), (100.0, 170.0), 0.75, 0.55),
        "slow": ((200.0, 450.0), (280.0, 450.0), 1.5, 2.2),
    }[style]
    fitts_a, fitts_b = rng.uniform(*a_range), rng.uniform(*b_range)
    touch = pointer == "touch"
    if touch:
        fitts_a, fitts_b = fitts_a + rng.uniform(40.0, 150.0), fitts_b * rng.uniform(0.65, 0.95)
    tremor = rng.uniform(0.2, 0.8) if touch else rng.uniform(0.1, 0.6)
    return Person(
        style=style,
        fitts_a_ms=fitts_a,
        fitts_b_ms=fitts_b,
        primary_share=rng.uniform(0.6, 0.8),
        aim_bias=rng.uniform(-0.12, -0.01) if style == "slow" else rng.uniform(-0.08, 0.02),
        precision_s=rng.uniform(0.012, 0.03),
        accept_share=rng.uniform(*_ACCEPT_SHARE[style]),
        deceleration=rng.uniform(3.0, 4.6),
        drift_slope=rng.gauss(0.0, 0.05 if touch else 0.025),
        bow_scale=rng.gauss(0.0, 1.0) * rng.uniform(0.5, 1.5),
        tremor_px=min(1.0, tremor * (1.4 if style == "slow" else 1.0)),
        noise_px=rng.uniform(0.05, 0.2) if touch else 0.0,
        hesitation_rate={"typical": 0.15, "fast": 0.03, "slow": 0.5}[style],
        stop_and_go_rate={"typical": 0.04, "fast": 0.0, "slow": 0.3}[style],
        pause_scale=pause * rng.lognormvariate(0.0, 0.3),
        speed_scale=speed * rng.lognormvariate(0.0, 0.15),
    )


def plan_submovements(
    rng: random.Random, person: Person, task: DragTask, grab_scale: float = 1.0
) -> list[Submovement]:
    """Lay out the submovements of one drag: a primary, maybe a continuation, corrections."""
    width = 2.0 * task.tolerance
    touch = task.pointer == "touch"
    plan: list[Submovement] = []
    if not touch and rng.random() < 0.15:  # pressing the button jolts the mouse a little
        plan.append(
            Submovement(
                "slip", rng.uniform(5.0, 40.0), 40.0, rng.gauss(0, 0.7), rng.gauss(0, 0.7), 3.0
            )
        )
    grab = min(1500.0, max(25.0, 110.0 * person.pause_scale * rng.lognormvariate(0.0, 0.5)))
    grab *= grab_scale
    legs = [task.distance]
    if rng.random() < person.stop_and_go_rate:
        first = task.distance * rng.uniform(0.35, 0.7)
        legs = [first, task.distance - first]
    onset, position = grab + (30.0 if touch else 0.0), sum(s.dx for s in plan)
    for leg_index, leg in enumerate(legs):
        fitts_ms = person.fitts_a_ms + person.fitts_b_ms * math.log2(leg / width + 1.0)
        duration = max(120.0, fitts_ms * person.primary_share * rng.lognormvariate(0.0, 0.12))
        aim = task.distance - position
        spread = person.precision_s * leg / (duration / 1000.0)
        dx = aim * (1.0 + person.aim_bias) + rng.gauss(0.0, spread)
        if leg_index == 0 and len(legs) > 1:
            dx = leg
        bow = person.bow_scale * (1.0 + (0.04 if touch else 0.015) * abs(dx))
        dy = person.drift_slope * dx + rng.gauss(0.0, 0.5)
        kind: SubmovementKind = "primary" if leg_index == 0 else "continuation"
        plan.append(Submovement(kind, onset, duration, dx, dy, person.deceleration, bow))
        position += dx
        pause = rng.uniform(100.0, 600.0) * person.pause_scale
        onset += duration + pause
    _add_corrections(rng, person, task, plan, position)
    return plan


def end_margin(person: Person) -> float:
    """How far tremor, noise, rounding and lift-off can move the pointer after aiming ends."""
    return 0.5 + 1.35 * person.tremor_px + 3.0 * person.noise_px + 0.3


def _add_corrections(
    rng: random.Random, person: Person, task: DragTask, plan: list[Submovement], position: float
) -> None:
    limit = max(0.3, task.tolerance - end_margin(person))  # tight tasks: land near the centre
    accept = max(0.5, min(limit, task.tolerance * person.accept_share))
    for attempt in range(MAX_CORRECTIONS + 1):
        error = task.distance - position
        fine_tune = attempt == 0 and abs(error) > 1.0 and rng.random() < 0.15
        final = attempt == MAX_CORRECTIONS
        if final and abs(error) <= limit or not final and abs(error) <= accept and not fine_tune:
            return
        previous = plan[-1]
        duration = person.speed_scale * (110.0 + 55.0 * math.log2(1.0 + abs(error)))
        duration *= rng.lognormvariate(0.0, 0.15)
        if rng.random() < person.hesitation_rate:
            dwell = 180.0 * person.pause_scale * rng.lognormvariate(0.0, 0.6)
            onset = previous.end_ms + min(dwell, 2500.0)
        else:
            onset = previous.end_ms - previous.duration_ms * rng.uniform(0.0, 0.35)
        if final:  # the last chance: land inside the accepted band
            dx = error - math.copysign(rng.uniform(0.0, 0.6 * limit), error)
        else:
            dx = error + rng.gauss(0.0, 0.1 * abs(error) + 0.2)
        dy = rng.gauss(0.0, 0.05 * abs(dx) + 0.2)
        plan.append(Submovement("correction", onset, duration, dx, dy, rng.uniform(3.0, 4.6)))
        position += dx


def speed_profile_cdf(tau: np.ndarray, deceleration: float) -> np.ndarray:
    """Progress of a submovement at normalised time `tau`: the Beta(3, deceleration) CDF.

    With deceleration = 3 this is the minimum-jerk polynomial 10t^3 - 15t^4 + 6t^5.
    """
    grid = _PROFILE_GRID
    density = grid**2 * (1.0 - grid) ** (deceleration - 1.0)
    cumulative = np.concatenate(([0.0], np.cumsum((density[1:] + density[:-1]) / 2.0)))
    progress: np.ndarray = np.interp(tau, grid, cumulative / cumulative[-1])
    return progress


def evaluate_plan(plan: list[Submovement], times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The noise-free pointer position at `times` (ms after pointer-down)."""
    xs, ys = np.zeros_like(times), np.zeros_like(times)
    for stroke in plan:
        tau = np.clip((times - stroke.onset_ms) / stroke.duration_ms, 0.0, 1.0)
        progress = speed_profile_cdf(tau, stroke.deceleration)
        xs += stroke.dx * progress
        ys += stroke.dy * progress + stroke.bow_px * 4.0 * progress * (1.0 - progress)
    return xs, ys


def _tremor(
    noise: np.random.Generator, person: Person, times: np.ndarray, gate: np.ndarray
) -> np.ndarray:
    seconds = times / 1000.0
    waves = np.zeros_like(times)
    for _ in range(2):
        frequency, phase = noise.uniform(8.0, 12.0), noise.uniform(0.0, 2 * math.pi)
        waves += person.tremor_px / 2.0 * np.sin(2 * math.pi * frequency * seconds + phase)
    beat = noise.uniform(0.2, 1.0)
    envelope = 1.0 + 0.3 * np.sin(2 * math.pi * beat * seconds + noise.uniform(0, 2 * math.pi))
    jitter = noise.normal(0.0, person.noise_px, times.size) if person.noise_px else 0.0
    shaken: np.ndarray = waves * envelope * gate + jitter
    return shaken


def _positions(
    rng: random.Random, person: Person, plan: list[Submovement], task: DragTask, times: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Positions with tremor and noise, relative to the pointer-down point (times[0] == 0)."""
    xs, ys = evaluate_plan(plan, times)
    if task.pointer == "mouse":  # a mouse at rest does not follow the hand's tremor
        speed = np.hypot(np.gradient(xs, times), np.gradient(ys, times)) * 1000.0
        gate = 0.05 + 0.95 * np.clip(speed / 40.0, 0.0, 1.0)
    else:
        gate = np.ones_like(times)
    noise = sampling.numpy_rng(rng)
    xs = xs + _tremor(noise, person, times, gate)
    ys = ys + _tremor(noise, person, times, gate)
    return xs - xs[0], ys - ys[0]


def _start_ms(rng: random.Random, person: Person) -> float:
    median = {"typical": 1300.0, "fast": 800.0, "slow": 2400.0}[person.style]
    return min(9000.0, max(350.0, median * rng.lognormvariate(0.0, 0.4)))


@dataclass(frozen=True, slots=True)
class Habits:
    """What a variant of people changes in the model (bench/risk/variants.py); the defaults are
    the "human" family. `gain`: pointer acceleration, the pointer's speed growing as the hand's
    to the power 1 + gain. `recorder_jitter_ms`: mean delay of a recorder that stamps each event
    when its handler runs (Date.now(): whole ms). `frame_stamps_ms`: a recorder that keeps the
    coalesced events but stamps each with its frame's time (groups of one timestamp)."""

    style: Style | None = None
    pointing: bool = False
    device: Callable[[random.Random, PointerKind], sampling.HumanSampling] = (
        sampling.sample_human_sampling
    )
    gain: float = 0.0
    recorder_jitter_ms: float = 0.0
    frame_stamps_ms: float = 0.0
    tremor_scale: float = 1.0


def _pointing_person(rng: random.Random, person: Person) -> Person:
    """The same person pointing rather than dragging: faster (no button held), a freer path."""
    return replace(
        person,
        fitts_b_ms=person.fitts_b_ms * rng.uniform(0.5, 0.8),
        bow_scale=person.bow_scale * rng.uniform(2.0, 5.0),
        drift_slope=rng.gauss(0.0, 0.08),
        deceleration=rng.uniform(2.5, 7.0),
    )


def _accelerate(
    xs: np.ndarray, ys: np.ndarray, times: np.ndarray, gain: float
) -> tuple[np.ndarray, np.ndarray]:
    """Pointer acceleration: each step scaled by (its speed / the median speed) ** gain, the end
    point kept (the person steers the pointer onto the target, whatever the gain curve)."""
    steps = np.diff(xs) + 1j * np.diff(ys)
    speed = np.abs(steps) / np.maximum(np.diff(times), 1e-3)
    moving = speed[speed > 0.01]
    if gain <= 0.0 or moving.size < 3 or abs(xs[-1]) < 1.0:
        return xs, ys
    factor = np.clip((speed / float(np.median(moving))) ** gain, 0.25, 4.0)
    path = np.concatenate(([0.0], np.cumsum(steps * factor)))
    path *= complex(xs[-1], ys[-1]) / path[-1] if abs(path[-1]) > 1e-9 else 1.0
    return path.real, path.imag


def _restamp(rng: random.Random, stamps: np.ndarray, habits: Habits) -> np.ndarray:
    noise = sampling.numpy_rng(rng)
    out = stamps
    if habits.frame_stamps_ms:
        frame = habits.frame_stamps_ms
        phase = rng.uniform(0.0, frame)
        out = np.ceil((out - phase) / frame) * frame + phase
    if habits.recorder_jitter_ms:
        out = out + noise.exponential(habits.recorder_jitter_ms, out.size)
        out = np.floor(np.maximum.accumulate(out))
    return np.round(np.maximum.accumulate(out), 1)


def human_movement(
    rng: random.Random, task: DragTask, habits: Habits | None = None
) -> HumanMovement:
    """Generate one person's drag for `task`, with the plan and device behind it."""
    habits = habits or Habits()
    person = sample_person(rng, task.pointer, habits.style)
    if habits.pointing:
        person = _pointing_person(rng, person)
    if habits.tremor_scale != 1.0:
        person = replace(person, tremor_px=person.tremor_px * habits.tremor_scale)
    plan = plan_submovements(rng, person, task, 0.25 if habits.pointing else 1.0)
    device = habits.device(rng, task.pointer)
    release_pause = 130.0 * person.pause_scale * rng.lognormvariate(0.0, 0.6)
    if task.tolerance < 6.0:  # a tight target is checked longer before letting go
        release_pause *= 1.4
    if habits.pointing:  # a click ends a pointing move: the button's down-up time
        release_pause *= 0.5
    release = max(s.end_ms for s in plan) + min(3000.0, max(20.0, release_pause))
    release += rng.uniform(0.0, device.report_ms)  # pointerup waits for the next report
    events, reported = sampling.human_event_times(rng, device, 0.0, release)
    times = np.concatenate(([0.0], reported, [release]))
    xs, ys = _positions(rng, person, plan, task, times)
    xs, ys = _accelerate(xs, ys, times, habits.gain)
    if task.pointer == "touch":  # lifting a finger shifts the contact's centroid
        xs[-1] += rng.gauss(0.0, 0.1)
        ys[-1] += rng.uniform(-1.0, 0.4)
    phase_x, phase_y = rng.uniform(0.0, 1000.0), rng.uniform(0.0, 1000.0)
    xs = sampling.snap(xs, device.coordinate_step, phase_x)
    ys = sampling.snap(ys, device.coordinate_step, phase_y)
    start = _start_ms(rng, person)
    stamps = sampling.stamp(
        start + np.concatenate(([0.0], events, [release])),
        device.time_step_ms,
        device.time_offset_ms,
    )
    if habits.recorder_jitter_ms or habits.frame_stamps_ms:
        stamps = _restamp(rng, stamps, habits)
    trace: list[Point] = [(0.0, 0.0, float(stamps[0]))]
    for x, y, t in zip(xs[1:-1], ys[1:-1], stamps[1:-1], strict=True):
        if (x, y) != trace[-1][:2]:  # nothing moved: the device sends no report
            trace.append((float(x), float(y), float(t)))
    trace.append((float(xs[-1]), float(ys[-1]), float(stamps[-1])))
    return HumanMovement(trace, person, plan, device, release)


def human_trace(rng: random.Random, task: DragTask) -> list[Point]:
    """One human drag for `task`: `(x, y, t)` points from pointer-down to pointer-up.

    Args:
        rng: the only source of randomness; the same state gives the same trace.
        task: the drag to perform.

    Returns:
        The trace, starting at `(0, 0, t0)` with t0 the pointer-down time in ms after the widget
        was shown, ending at the pointer-up point within `task.tolerance` of the target.
    """
    return human_movement(rng, task).trace
