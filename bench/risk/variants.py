"""Variants of people with the variety real recordings have, for leave-one-variant-out tests.

The "human" family (bench/risk/human.py) mixes devices and browsers in fixed shares. Real
recordings differ from it in ways a model trained on it alone has never seen, so each variant
below pushes one of them to the fore; bench/risk/lofo.py trains without a variant and tests on
it. Each variant forces its pointer (a drag on a touch screen is not a mouse variant).

- `mouse`: a mouse only, at its USB rate (125-1000 Hz), with the operating system's pointer
  acceleration (Windows "enhance pointer precision", macOS's curve) on for most people: the
  pointer's speed grows faster than the hand's, so the speed profile is peakier than the hand's.
- `touchpad`: 80-140 Hz, jittery reports, strong acceleration, whole px.
- `touch`: a finger on a touch screen, as in the human family.
- `pen`: a stylus on a tablet or a screen, 120-240 Hz, float coordinates, little noise.
- `rate-60`: a mouse delivered one event per 60 Hz frame (no coalesced events), 1 ms stamps.
- `rate-1000`: a 1000 Hz gaming mouse, every report delivered, whole px.
- `coalesced`: a recorder that keeps the coalesced events but stamps each with its frame's
  time, so groups of points share one timestamp.
- `recorder-jitter`: a recorder that stamps events with Date.now() when its handler runs:
  whole ms, 1-6 ms of event-loop delay.
- `pointing`: a pointing move (press, move, release as a click), not a drag: faster, with a
  short grab and release and a freer, more curved path, as recorded pointing data mapped
  onto the bar.
- `shaky`: a hand that shakes two to four times as much as the human family's (older users,
  some medical conditions, a high-DPI mouse with acceleration magnifying tremor).
- `fast`, `slow`: practised people only, and older or first-time users only.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace

from bench.risk import sampling
from bench.risk.human import Habits, human_movement
from bench.risk.sampling import HumanSampling
from bench.risk.task import DragTask, Point, PointerKind, sample_task

VariantGenerator = Callable[[random.Random, DragTask], list[Point]]


def _mouse(rng: random.Random, pointer: PointerKind) -> HumanSampling:
    hz = rng.choice([125.0, 125.0, 250.0, 500.0, 1000.0])
    return HumanSampling(
        report_ms=1000.0 / hz,
        frame_ms=None,
        jitter_ms=rng.uniform(0.02, 0.4),
        drop_rate=rng.uniform(0.0, 0.03),
        time_step_ms=rng.choice([0.1, 1.0]),
        time_offset_ms=0.0,
        coordinate_step=1.0 / rng.choice([1.0, 1.0, 1.25, 1.5, 2.0]),
    )


def _touchpad(rng: random.Random, pointer: PointerKind) -> HumanSampling:
    return HumanSampling(
        report_ms=1000.0 / rng.uniform(80.0, 140.0),
        frame_ms=None,
        jitter_ms=rng.uniform(0.3, 1.5),
        drop_rate=rng.uniform(0.0, 0.05),
        time_step_ms=rng.choice([0.1, 1.0]),
        time_offset_ms=0.0,
        coordinate_step=1.0,
    )


def _pen(rng: random.Random, pointer: PointerKind) -> HumanSampling:
    return HumanSampling(
        report_ms=1000.0 / rng.choice([120.0, 133.0, 200.0, 240.0]),
        frame_ms=None,
        jitter_ms=rng.uniform(0.1, 1.0),
        drop_rate=rng.uniform(0.0, 0.03),
        time_step_ms=0.1,
        time_offset_ms=0.0,
        coordinate_step=sampling.FLOAT32_STEP,
    )


def _per_frame(rng: random.Random, pointer: PointerKind) -> HumanSampling:
    return replace(_mouse(rng, pointer), frame_ms=1000.0 / 60.0, time_step_ms=1.0)


def _thousand(rng: random.Random, pointer: PointerKind) -> HumanSampling:
    return replace(_mouse(rng, pointer), report_ms=1.0, coordinate_step=1.0)


def _gain(rng: random.Random, share: float, low: float, high: float) -> float:
    return rng.uniform(low, high) if rng.random() < share else 0.0


# name: (pointer, habits drawn per trace)
VARIANTS: dict[str, tuple[PointerKind, Callable[[random.Random], Habits]]] = {
    "mouse": ("mouse", lambda r: Habits(device=_mouse, gain=_gain(r, 0.7, 0.2, 0.8))),
    "touchpad": ("mouse", lambda r: Habits(device=_touchpad, gain=_gain(r, 1.0, 0.4, 1.2))),
    "touch": ("touch", lambda r: Habits()),
    "pen": ("touch", lambda r: Habits(device=_pen)),
    "rate-60": ("mouse", lambda r: Habits(device=_per_frame, gain=_gain(r, 0.5, 0.2, 0.6))),
    "rate-1000": ("mouse", lambda r: Habits(device=_thousand, gain=_gain(r, 0.5, 0.2, 0.6))),
    "coalesced": (
        "mouse",
        lambda r: Habits(device=_mouse, frame_stamps_ms=1000.0 / r.choice([60.0, 120.0])),
    ),
    "recorder-jitter": (
        "mouse",
        lambda r: Habits(device=_mouse, recorder_jitter_ms=r.uniform(1.0, 6.0)),
    ),
    "pointing": ("mouse", lambda r: Habits(pointing=True, gain=_gain(r, 0.6, 0.2, 0.8))),
    "shaky": (
        "mouse",
        lambda r: Habits(
            device=_mouse, tremor_scale=r.uniform(2.0, 4.0), gain=_gain(r, 0.5, 0.2, 0.6)
        ),
    ),
    "fast": ("mouse", lambda r: Habits(style="fast")),
    "slow": ("mouse", lambda r: Habits(style="slow")),
}
HUMAN_VARIANTS = list(VARIANTS)


def variant_task(name: str, rng: random.Random) -> DragTask:
    """A task as sample_task draws it, with the variant's pointer."""
    return replace(sample_task(rng), pointer=VARIANTS[name][0])


def variant_trace(name: str, rng: random.Random, task: DragTask) -> list[Point]:
    """One trace of variant `name` for `task` (its pointer as the variant says)."""
    pointer, habits = VARIANTS[name]
    return human_movement(rng, replace(task, pointer=pointer), habits(rng)).trace
