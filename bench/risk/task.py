"""The drag a trace answers: how far the handle must travel, how exactly, with which pointer.

Two widgets ask for a horizontal drag. The "slide to verify" bar has the target at the end of
its track (the handle's travel, 220-300 CSS px), where a stop makes a generous tolerance
natural. The jigsaw slide puzzle (humangate/challenges/slide.py) has the target somewhere 40-260
px along the row, with a tolerance of 4 px by default and up to about 8 px when a site relaxes
it. A trace's x is measured from the pointer-down point, so the target is at `(distance, 0)`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from humangate.risk.base import Point

__all__ = ["DragTask", "Point", "PointerKind", "sample_task"]

PointerKind = Literal["mouse", "touch"]

BAR_SHARE = 0.5
TOUCH_SHARE = 0.4


@dataclass(frozen=True)
class DragTask:
    """One drag: `distance` px to the target (40-300 in practice), accepted within `tolerance`
    px of it, with a handle `handle_size` px wide, performed with a mouse or a finger."""

    distance: float
    tolerance: float
    handle_size: float
    pointer: PointerKind

    def __post_init__(self) -> None:
        # sample_task keeps to 40-300 px; callers replaying other widgets may go outside it.
        if not 0.0 < self.distance <= 2000.0:
            raise ValueError(f"distance must be within (0, 2000] px, not {self.distance}")
        if not 0.0 < self.tolerance <= 50.0:
            raise ValueError(f"tolerance must be within (0, 50] px, not {self.tolerance}")
        if self.handle_size <= 0.0:
            raise ValueError(f"handle_size must be positive, not {self.handle_size}")
        if self.pointer not in ("mouse", "touch"):
            raise ValueError(f"pointer must be 'mouse' or 'touch', not {self.pointer!r}")


def sample_task(rng: random.Random) -> DragTask:
    """Draw a bar or a puzzle drag, for a mouse or a touch screen, from `rng` alone.

    Args:
        rng: the only source of randomness.

    Returns:
        A task; bars and puzzles are equally likely, touch is 40% of them.
    """
    pointer: PointerKind = "touch" if rng.random() < TOUCH_SHARE else "mouse"
    if rng.random() < BAR_SHARE:
        handle = rng.uniform(32.0, 48.0)
        return DragTask(
            distance=rng.uniform(220.0, 300.0),
            tolerance=rng.uniform(6.0, 10.0),
            handle_size=handle,
            pointer=pointer,
        )
    # The puzzle's default tolerance (4 px) is the most common one.
    tolerance = 4.0 if rng.random() < 0.5 else rng.uniform(4.0, 8.0)
    return DragTask(
        distance=rng.uniform(40.0, 260.0),
        tolerance=tolerance,
        handle_size=rng.uniform(37.0, 67.0),
        pointer=pointer,
    )
