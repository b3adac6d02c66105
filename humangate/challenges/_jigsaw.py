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
FRACS = (0.38, 0.62)  # where along its side a knob or socket sits
FRAC_NUDGE = 0.12  # how far a hole moves a knob along its side
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
    """A piece's sides: at least one knob and one socket, at most one flat side (so it has three
    sides a decoy can differ on)."""
    while True:
        a, b, c, d = rng.choices((KNOB, SOCKET, FLAT), weights=(0.45, 0.4, 0.15), k=4)
        sides = (a, b, c, d)
        if KNOB in sides and SOCKET in sides and sides.count(FLAT) <= 1:
            return sides


def decoy_sides(rng: random.Random, piece: Sides, taken: list[Sides]) -> Sides | None:
    """Sides for a decoy: the piece's own, with one knob turned into a socket or one socket into
    a knob, on a side no decoy in `taken` turned yet. So a decoy is the piece's near twin, and a
    person tells them apart by that one bump or bite; the counts of knobs and sockets differ,
    so no decoy is a turn or mirror image of the piece. None when every side is used."""
    used = {i for other in taken for i in range(4) if other[i] != piece[i]}
    free = [i for i in range(4) if piece[i] != FLAT and i not in used]
    if not free:
        return None
    side = rng.choice(free)
    out = list(piece)
    out[side] = -piece[side]
    return out[0], out[1], out[2], out[3]


def shapes(rng: random.Random, piece_size: int, decoys: int) -> list[Jigsaw]:
    """The piece's outline first, then the decoys': its near twins (same size, knobs and their
    places; one side turned inside out)."""
    size = piece_size + rng.uniform(-2.0, 2.0)
    radius = size * rng.uniform(*RADIUS)
    neck = radius * rng.uniform(*NECK)
    fracs = (rng.uniform(*FRACS), rng.uniform(*FRACS), rng.uniform(*FRACS), rng.uniform(*FRACS))
    piece = random_sides(rng)
    taken = [piece]
    for _ in range(decoys):
        sides = decoy_sides(rng, piece, taken)
        if sides is None:
            break
        taken.append(sides)
    return [Jigsaw(size, radius, neck, sides, fracs) for sides in taken]


def hole_outline(rng: random.Random, shape: Jigsaw) -> Jigsaw:
    """The outline a hole is drawn from: `shape` with knobs of its own radius and neck, and their
    places nudged (up to 0.12 of a side, staying where knobs sit), so no hole repeats the piece's
    geometry exactly and only which side bulges or bites tells the piece's hole from its twins."""
    size = shape.size
    fracs = tuple(min(FRACS[1], max(FRACS[0], f + rng.uniform(-FRAC_NUDGE, FRAC_NUDGE)))
                  for f in shape.fracs)  # fmt: skip
    radius = size * rng.uniform(*RADIUS)
    return Jigsaw(size, radius, radius * rng.uniform(*NECK), shape.sides,
                  (fracs[0], fracs[1], fracs[2], fracs[3]))  # fmt: skip


def widest_reach(piece_size: int) -> float:
    """An upper bound of `reach` over every shape and hole a piece of `piece_size` can have."""
    size = piece_size + 2.0
    knob = size * RADIUS[1] * (1 + NECK[1])
    across = SCALE[1] * (size / 2 + knob)
    turn = math.radians(TURN)
    return across * (math.cos(turn) + math.sin(turn)) + WOBBLE
