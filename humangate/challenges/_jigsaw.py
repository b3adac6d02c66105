"""Private jigsaw shapes for the `slide` challenge: outlines, their signed distance, and how a
hole is drawn from one (turned, stretched and wobbled on its own, so no hole is an exact copy).

Pure: randomness comes only from the `random.Random` handed in.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import numpy as np

AA = 1  # transparent margin around a piece for its anti-aliased edge
MIN_BOX_W = 44  # a narrower piece is centred in a box this wide: its slider handle stays big
KNOB, FLAT, SOCKET = 1, 0, -1
RADIUS = (0.19, 0.22)  # a knob's radius over the body's side
NECK = (0.45, 0.6)  # how far a knob's centre sits out, over its radius
SCALE = (1.18, 1.34)  # a hole's outline over the piece's, per axis
TURN = 10.0  # the most a hole is turned against the piece, degrees
WOBBLE = 1.4  # the most a hole's edge strays from its outline, px

Sides = tuple[int, int, int, int]  # top, right, bottom, left: each KNOB, SOCKET or FLAT


@dataclass(frozen=True, slots=True)
class Jigsaw:
    """A square body whose four sides (top, right, bottom, left) are flat, knobbed or socketed."""

    size: float
    radius: float
    neck: float
    sides: Sides
    fracs: tuple[float, float, float, float]

    def extent(self, side: int) -> float:
        return self.neck + self.radius if self.sides[side] == KNOB else 0.0

    @property
    def box_w(self) -> int:
        return max(MIN_BOX_W, math.ceil(self.size + self.extent(1) + self.extent(3) + 2 * AA))

    @property
    def body_x(self) -> float:
        """Where the body's left side sits in the piece's box."""
        tight = self.size + self.extent(1) + self.extent(3) + 2 * AA
        return AA + self.extent(3) + max(0.0, (MIN_BOX_W - tight) / 2)

    @property
    def box_h(self) -> int:
        return math.ceil(self.size + self.extent(0) + self.extent(2) + 2 * AA)

    def _centre(self, side: int) -> tuple[float, float]:
        s, along, out = self.size, self.fracs[side] * self.size, self.sides[side] * self.neck
        return ((along, -out), (s + out, along), (along, s + out), (-out, along))[side]

    def sdf(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """Signed distance (negative inside) at points `xs`, `ys` (broadcastable arrays),
        relative to the body's top-left corner. Exact on the outline, approximate off it."""
        half = self.size / 2
        qx, qy = np.abs(xs - half) - half, np.abs(ys - half) - half
        dist = np.square(np.maximum(qx, 0)) + np.square(np.maximum(qy, 0))
        np.sqrt(dist, out=dist)
        dist += np.minimum(np.maximum(qx, qy), 0)
        for kind in (KNOB, SOCKET):
            for side in range(4):
                if self.sides[side] == kind:
                    cx, cy = self._centre(side)
                    circle = np.sqrt(np.square(xs - cx) + np.square(ys - cy)) - self.radius
                    dist = np.minimum(dist, circle) if kind == KNOB else np.maximum(dist, -circle)
        return dist


@dataclass(frozen=True, slots=True)
class HoleShape:
    """How one hole departs from its outline: scaled per axis, turned, and wobbled (a smooth
    ripple of its edge, `amp` px at `lobes` per turn)."""

    sx: float
    sy: float
    turn: float  # radians
    amp: float
    lobes: int
    phase: float

    @classmethod
    def draw(cls, rng: random.Random) -> HoleShape:
        return cls(rng.uniform(*SCALE), rng.uniform(*SCALE),
                   math.radians(rng.uniform(-TURN, TURN)), rng.uniform(0.4, WOBBLE),
                   rng.randint(3, 7), rng.uniform(0, 2 * math.pi))  # fmt: skip


def reach(shape: Jigsaw, hole: HoleShape) -> tuple[float, float, float]:
    """How far a hole reaches left and right of its body's centre, and up or down, at most."""
    half = shape.size / 2
    across = max(hole.sx, hole.sy) * (half + shape.neck + shape.radius)
    cos, sin = abs(math.cos(hole.turn)), abs(math.sin(hole.turn))
    left = hole.sx * (half + shape.extent(3)) * cos + across * sin
    right = hole.sx * (half + shape.extent(1)) * cos + across * sin
    vertical = hole.sy * (half + shape.neck + shape.radius) * cos + across * sin
    return left + hole.amp, right + hole.amp, vertical + hole.amp


def hole_sdf(shape: Jigsaw, hole: HoleShape, cx: float, cy: float,
             box: tuple[int, int, int, int]) -> np.ndarray:  # fmt: skip
    """Signed distance, in pixels of the box (y0, y1, x0, x1), to `shape` as `hole` draws it
    about its body centre (cx, cy)."""
    y0, y1, x0, x1 = box
    dx = (np.arange(x0, x1, dtype=np.float32) + 0.5 - cx)[None, :]
    dy = (np.arange(y0, y1, dtype=np.float32) + 0.5 - cy)[:, None]
    cos, sin = np.float32(math.cos(hole.turn)), np.float32(math.sin(hole.turn))
    u, v = dx * cos + dy * sin, dy * cos - dx * sin
    half = shape.size / 2
    dist = shape.sdf(u / np.float32(hole.sx) + half, v / np.float32(hole.sy) + half)
    dist *= np.float32(min(hole.sx, hole.sy))
    ripple = np.sin(np.arctan2(v, u) * hole.lobes + np.float32(hole.phase))
    result: np.ndarray = dist + np.float32(hole.amp) * ripple
    return result


def piece_sdf(shape: Jigsaw, box: tuple[int, int]) -> np.ndarray:
    """Signed distance to `shape` itself on its (h, w) box, body placed after the knobs."""
    h, w = box
    xs = (np.arange(w, dtype=np.float32) + 0.5 - shape.body_x)[None, :]
    ys = (np.arange(h, dtype=np.float32) + 0.5 - AA - shape.extent(0))[:, None]
    return shape.sdf(xs, ys)


def random_sides(rng: random.Random) -> Sides:
    while True:
        a, b, c, d = rng.choices((KNOB, SOCKET, FLAT), weights=(0.45, 0.4, 0.15), k=4)
        if KNOB in (a, b, c, d) and SOCKET in (a, b, c, d):
            return a, b, c, d


def decoy_sides(rng: random.Random, taken: list[Sides]) -> Sides | None:
    """Sides for a decoy that a person cannot mistake for any outline in `taken`: a different
    count of knobs, sockets and flats (so no turn or mirror image of it), and at least two sides
    that differ where they sit. None if 500 draws found none (only with many decoys)."""
    for _ in range(500):
        sides = random_sides(rng)
        if all(
            sorted(sides) != sorted(other)
            and sum(a != b for a, b in zip(sides, other, strict=True)) >= 2
            for other in taken
        ):
            return sides
    return None


def shapes(rng: random.Random, piece_size: int, decoys: int) -> list[Jigsaw]:
    """The piece's outline first, then the decoys' (same size and knobs, other sides)."""
    size = piece_size + rng.uniform(-2.0, 2.0)
    radius = size * rng.uniform(*RADIUS)
    neck = radius * rng.uniform(*NECK)
    taken = [random_sides(rng)]
    for _ in range(decoys):
        sides = decoy_sides(rng, taken)
        if sides is None:
            break
        taken.append(sides)
    out = []
    for sides in taken:
        fracs = (rng.uniform(0.38, 0.62), rng.uniform(0.38, 0.62), rng.uniform(0.38, 0.62),
                 rng.uniform(0.38, 0.62))  # fmt: skip
        out.append(Jigsaw(size, radius, neck, sides, fracs))
    return out


def widest_reach(piece_size: int) -> float:
    """An upper bound of `reach` over every shape and hole a piece of `piece_size` can have."""
    size = piece_size + 2.0
    knob = size * RADIUS[1] * (1 + NECK[1])
    across = SCALE[1] * (size / 2 + knob)
    turn = math.radians(TURN)
    return across * (math.cos(turn) + math.sin(turn)) + WOBBLE
