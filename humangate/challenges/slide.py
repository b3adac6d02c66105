"""Jigsaw slider: drag a puzzle piece along its row into the one hole that has its outline.

The payload is `{width, height, background, piece, piece_width, piece_height, piece_y}`: a JPEG
background (data URL) drawn fresh for every challenge, the piece as a lossless WebP data URL with
alpha, the piece's box size and the row its top sits on. The client moves the piece horizontally
only. The private answer is `{"x": left}`: the left edge of the piece's box, in background pixels,
when the piece sits centred in its hole; the client reports the same quantity.

What a person sees: three holes (the real one and two decoys) on the piece's row, each a flat,
clearly lighter or darker patch with a thin rim, all the same size and style. Only the real hole
has the piece's outline, grown by 20-30% about its centre so the piece drops in with a visible
margin all round. Decoys have another count of knobs, sockets and flat sides than the piece (so
no turn or mirror image of it), differing on at least two sides.

What a naive solver meets: the holes' fill is a low-contrast patch from elsewhere, so no pixels of
the piece or of its original place remain; the hole's outline never coincides with the piece's
(growth), so template and edge matching peak a few pixels off or on a decoy; the piece's picture
is a patch from a random place turned half a turn and nudged in contrast, brightness, colour,
tilt and noise, so it continues nothing around any hole. A solver that knows the design (matches
the outline at the grown scales) is not stopped: see bench/adversary/slide.py.

Everything is drawn in palette-index space (one channel) and coloured once at the end, and all
randomness comes from the `rng` argument, so the same seed gives the same bytes.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import numpy as np

from humangate.challenges import _imaging
from humangate.challenges.base import JSON, Challenge, CheckResult, finite_number

DEFAULT_TOLERANCE = 4
MAX_COORDINATE = 4096
TRAJECTORY_MIN_POINTS = 2
TRAJECTORY_MAX_POINTS = 2000
TRAJECTORY_MIN_DURATION_MS = 150.0
TRAJECTORY_END_SLACK = 3.0

_AA = 1  # transparent margin around a piece for its anti-aliased edge
_RIM = 3  # pixels around a hole that its soft edge and rim may touch
_PAD = _AA + _RIM
_HOLE_SCALE = (1.2, 1.3)  # holes are the piece's outline grown by this factor about its centre
_GAP = 4  # minimum horizontal gap between two holes
_HOLE_SPAN = 2.25  # a hole's width or height over its body size, at most (knobs both sides)
_KNOB, _FLAT, _SOCKET = 1, 0, -1


@dataclass(frozen=True, slots=True)
class SlideParams:
    """Sizes in background pixels. `piece_size` is the side of the piece's square body (jittered
    by +-2 px); a knob adds ~0.33 x that on its side, so by default the piece's box is 37 to 67 px
    a side, ~50 px typically. Holes are up to 2.2 x `piece_size` wide and tall."""

    width: int = 320
    height: int = 160
    piece_size: int = 36
    decoys: int = 2
    min_x: int = 64
    jpeg_quality: int = 82

    def __post_init__(self) -> None:
        if not 160 <= self.width <= 2048 or not 80 <= self.height <= 2048:
            raise ValueError("width must be in [160, 2048] and height in [80, 2048]")
        hole = _HOLE_SPAN * (self.piece_size + 2) + 2 * _PAD  # the widest and tallest hole
        if not 20 <= self.piece_size or hole > self.height:
            raise ValueError("piece_size must be at least 20 and its hole fit the height")
        if not 0 <= self.decoys <= 4:
            raise ValueError("decoys must be in [0, 4]")
        if not 0 <= self.min_x <= self.width - hole:
            raise ValueError("min_x leaves no room for the hole")
        if not 30 <= self.jpeg_quality <= 95:
            raise ValueError("jpeg_quality must be in [30, 95]")


_Sides = tuple[int, int, int, int]  # top, right, bottom, left: each _KNOB, _SOCKET or _FLAT
_Box = tuple[int, int, int, int]  # y0, y1, x0, x1


@dataclass(frozen=True, slots=True)
class _Jigsaw:
    """A square body whose four sides (top, right, bottom, left) are flat, knobbed or socketed."""

    size: float
    radius: float
    neck: float
    sides: _Sides
    fracs: tuple[float, float, float, float]

    def extent(self, side: int) -> float:
        return self.neck + self.radius if self.sides[side] == _KNOB else 0.0

    @property
    def box_w(self) -> int:
        return math.ceil(self.size + self.extent(1) + self.extent(3) + 2 * _AA)

    @property
    def box_h(self) -> int:
        return math.ceil(self.size + self.extent(0) + self.extent(2) + 2 * _AA)

    def _centre(self, side: int) -> tuple[float, float]:
        s, along, out = self.size, self.fracs[side] * self.size, self.sides[side] * self.neck
        return ((along, -out), (s + out, along), (along, s + out), (-out, along))[side]

    def sdf(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """Signed distance (negative inside) on the grid of row vector `xs` x column vector `ys`,
        both relative to the body's top-left corner. Exact on the outline, approximate off it."""
        half = self.size / 2
        qx, qy = np.abs(xs - half) - half, np.abs(ys - half) - half
        dist = np.square(np.maximum(qx, 0)) + np.square(np.maximum(qy, 0))
        np.sqrt(dist, out=dist)
        dist += np.minimum(np.maximum(qx, qy), 0)
        circle = np.empty_like(dist)
        for kind in (_KNOB, _SOCKET):
            for side in range(4):
                if self.sides[side] == kind:
                    cx, cy = self._centre(side)
                    np.add(np.square(xs - cx), np.square(ys - cy), out=circle)
                    np.sqrt(circle, out=circle)
                    circle -= self.radius
                    if kind == _KNOB:
                        np.minimum(dist, circle, out=dist)
                    else:
                        np.maximum(dist, np.negative(circle, out=circle), out=dist)
        return dist


def _random_sides(rng: random.Random) -> _Sides:
    while True:
        a, b, c, d = rng.choices((_KNOB, _SOCKET, _FLAT), weights=(0.45, 0.4, 0.15), k=4)
        if _KNOB in (a, b, c, d) and _SOCKET in (a, b, c, d):
            return a, b, c, d


def _decoy_sides(rng: random.Random, taken: list[_Sides]) -> _Sides | None:
    """Sides for a decoy that a person cannot mistake for any outline in `taken`: a different
    count of knobs, sockets and flats (so no turn or mirror image of it), and at least two sides
    that differ where they sit. None if 500 draws found none (only with many decoys)."""
    for _ in range(500):
        sides = _random_sides(rng)
        if all(
            sorted(sides) != sorted(other)
            and sum(a != b for a, b in zip(sides, other, strict=True)) >= 2
            for other in taken
        ):
            return sides
    return None


def _jigsaw(rng: random.Random, size: float, radius: float, neck: float, sides: _Sides) -> _Jigsaw:
    top, right, bottom, left = (rng.uniform(0.38, 0.62) for _ in range(4))
    return _Jigsaw(size, radius, neck, sides, (top, right, bottom, left))


def _shapes(rng: random.Random, params: SlideParams) -> list[_Jigsaw]:
    """The piece's outline first, then the decoys' (same size and knobs, other sides)."""
    size = params.piece_size + rng.uniform(-2.0, 2.0)
    radius = size * rng.uniform(0.19, 0.22)
    neck = radius * rng.uniform(0.45, 0.6)
    taken = [_random_sides(rng)]
    for _ in range(params.decoys):
        sides = _decoy_sides(rng, taken)
        if sides is None:
            break
        taken.append(sides)
    return [_jigsaw(rng, size, radius, neck, sides) for sides in taken]


def _layout(rng: random.Random, widths: list[int], lo: int, hi: int) -> list[int] | None:
    """Left edges for boxes of `widths`, in order, inside [lo, hi) with random gaps >= _GAP."""
    free = hi - lo - sum(widths) - _GAP * (len(widths) - 1)
    if free < 0:
        return None
    cuts = sorted(rng.uniform(0, free) for _ in widths)
    lefts, pos, prev = [], float(lo), 0.0
    for width, cut in zip(widths, cuts, strict=True):
        pos += cut - prev
        prev = cut
        lefts.append(int(pos))
        pos += width + _GAP
    return lefts


def _hole_reach(shape: _Jigsaw, scale: float) -> tuple[float, float]:
    """How far a hole reaches left and right of its body's centre."""
    half = shape.size / 2
    return scale * (half + shape.extent(3)) + _PAD, scale * (half + shape.extent(1)) + _PAD


def _centres(
    rng: random.Random, shapes: list[_Jigsaw], scale: float, params: SlideParams
) -> list[float]:
    """Body-centre x of every hole (index-aligned with `shapes`); the order on the row is random."""
    while True:
        order = list(range(len(shapes)))
        rng.shuffle(order)
        reaches = [_hole_reach(shapes[i], scale) for i in order]
        widths = [math.ceil(left + right) for left, right in reaches]
        lefts = _layout(rng, widths, params.min_x, params.width)
        if lefts is not None:
            placed = {i: x + reach[0] for i, x, reach in zip(order, lefts, reaches, strict=True)}
            return [placed[i] for i in range(len(shapes))]
        if len(shapes) == 1:
            raise ValueError("the background is too narrow for the piece")
        shapes.pop()  # too crowded for this many decoys: drop one


def _hole_sdf(shape: _Jigsaw, scale: float, cx: float, cy: float, box: _Box) -> np.ndarray:
    """Signed distance to `shape` grown by `scale` about its body centre at (cx, cy)."""
    y0, y1, x0, x1 = box
    half = shape.size / 2
    xs = ((np.arange(x0, x1, dtype=np.float32) + 0.5 - cx) / scale + half)[None, :]
    ys = ((np.arange(y0, y1, dtype=np.float32) + 0.5 - cy) / scale + half)[:, None]
    return shape.sdf(xs, ys) * scale


def _hole_box(shape: _Jigsaw, scale: float, cx: float, cy: float, size: tuple[int, int]) -> _Box:
    """(y0, y1, x0, x1) of the pixels a hole centred on (cx, cy) may touch; size is (w, h)."""
    reach_l, reach_r = _hole_reach(shape, scale)
    reach_v = scale * (shape.size / 2 + shape.neck + shape.radius) + _PAD
    y0, y1 = max(0, math.floor(cy - reach_v)), min(size[1], math.ceil(cy + reach_v))
    return y0, y1, max(0, math.floor(cx - reach_l)), min(size[0], math.ceil(cx + reach_r))


def _carve(index: np.ndarray, source: np.ndarray, luma: np.ndarray, shape: _Jigsaw,
           scale: float, centre: tuple[float, float], rng: random.Random) -> None:  # fmt: skip
    """Draw one hole in the palette-index array `index`: `shape` grown by `scale`, filled
    opaquely with a flattened foreign patch moved along the palette (so lighter or darker, often
    another hue), with a soft edge and a thin rim. Indices are one channel, so this is cheap."""
    y0, y1, x0, x1 = box = _hole_box(shape, scale, *centre, index.shape[::-1])
    sd = _hole_sdf(shape, scale, *centre, box)
    ring = sd[::2, ::2]  # every other pixel of the band around the hole is plenty
    around = source[y0:y1:2, x0:x1:2][(ring > 1.0) & (ring < 6.0)]
    base = float(around.mean()) if len(around) else float(source.mean())
    shift = _shift(luma, base, np.sort(luma[around]), rng)
    patch = _imaging.foreign(source, rng, x1 - x0, y1 - y0)
    contrast = rng.uniform(0.12, 0.25)
    fill = patch * np.float32(contrast) + np.float32(base + shift - contrast * patch.mean())
    region = index[y0:y1, x0:x1].astype(np.float32)
    region += np.clip(1.0 - sd / rng.uniform(1.0, 2.0), 0.0, 1.0) * (fill - region)
    region += np.exp(np.square(sd) * -1.5) * 0.4 * (np.float32(base + 1.6 * shift) - region)
    index[y0:y1, x0:x1] = np.clip(region + 0.5, 0, 255)


def _shift(luma: np.ndarray, base: float, ring: np.ndarray, rng: random.Random) -> int:
    """A palette offset from index `base` to a colour that stands out from the hole's
    surroundings: at most 15% of the `ring` (sorted luma of pixels around the hole) within 26-40
    luma levels of it. Lighter or darker at random when both exist; the nearest such index."""
    start = min(255, max(0, round(base)))
    offsets = np.arange(256) - start
    want = rng.uniform(26.0, 40.0)
    near = np.searchsorted(ring, luma + want, "right") - np.searchsorted(ring, luma - want, "left")
    clash = near / max(1, len(ring))
    enough = (clash <= 0.15) & (np.abs(offsets) >= 12)
    sided = enough & (offsets * rng.choice((-1, 1)) > 0)
    pool = sided if sided.any() else enough
    if not pool.any():
        return int(offsets[np.argmin(clash - 1e-3 * np.abs(offsets))])
    candidates = offsets[pool]
    return int(candidates[np.argmin(np.abs(candidates))])


def _cut_piece(source: np.ndarray, palette: np.ndarray, shape: _Jigsaw, rng: random.Random,
               gen: np.random.Generator) -> np.ndarray:  # fmt: skip
    """The piece as RGBA with a light bevel. Its picture is a patch from a random place, turned
    half a turn and nudged, so it continues nothing around any hole: people match the outline."""
    w, h = shape.box_w, shape.box_h
    patch = palette[_imaging.foreign(source, rng, w, h)]
    mean = _imaging.channel_mean(patch)
    offset = np.array([rng.uniform(-12.0, 12.0) + rng.uniform(-8.0, 8.0) for _ in range(3)])
    contrast = rng.uniform(0.8, 1.1)
    rgb = patch * np.float32(contrast) + ((1 - contrast) * mean + offset).astype(np.float32)
    centre = (_AA + shape.extent(3) + shape.size / 2, _AA + shape.extent(0) + shape.size / 2)
    alpha = np.clip(0.5 - _hole_sdf(shape, 1.0, *centre, (0, h, 0, w)), 0.0, 1.0) * 255.0
    shade = _imaging.tilt(h, w, rng.uniform(0.0, 2 * math.pi), rng.uniform(0.3, 0.6))
    shade += _imaging.noise(gen, h, w, 1) + _imaging.inner_ring(alpha) * (50.0 / 255.0)  # bevel
    rgb += shade[..., None]
    rgba = np.empty((h, w, 4), dtype=np.uint8)
    rgba[..., :3] = np.clip(rgb, 0, 255)
    rgba[..., 3] = alpha + 0.5
    rgba[alpha == 0, :3] = _imaging.channel_mean(
        rgba[..., :3]
    )  # no silhouette once the alpha is dropped
    return rgba


def generate_slide(rng: random.Random, params: SlideParams) -> Challenge:
    """Create a jigsaw-slider challenge; every pixel comes from `rng`."""
    gen = _imaging.numpy_generator(rng)
    source, palette = _imaging.render_background(rng, gen, params.width, params.height)
    index = source.copy()  # holes are drawn on the copy; foreign patches come from the source
    luma = palette @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    shapes = _shapes(rng, params)
    scale = rng.uniform(*_HOLE_SCALE)
    centres = _centres(rng, shapes, scale, params)
    piece = shapes[0]
    half = piece.size / 2
    left = round(centres[0] - _AA - piece.extent(3) - half)
    centres[0] = left + _AA + piece.extent(3) + half  # the answer is a whole pixel
    reach_v = scale * (half + piece.neck + piece.radius) + _PAD
    top_lo = math.ceil(reach_v - _AA - piece.extent(0) - half)
    top_hi = math.floor(params.height - reach_v - _AA - piece.extent(0) - half)
    top = rng.randint(top_lo, top_hi)
    cy = top + _AA + piece.extent(0) + half
    for shape, cx in zip(shapes, centres, strict=True):
        _carve(index, source, luma, shape, scale, (cx, cy), rng)
    rgba = _cut_piece(source, palette, piece, rng, gen)
    background = _imaging.encode_jpeg(_imaging.to_rgb(index, palette), params.jpeg_quality)
    piece_bytes = _imaging.encode_webp_rgba(rgba)
    payload = {
        "width": params.width,
        "height": params.height,
        "background": _imaging.jpeg_data_url(background),
        "piece": _imaging.webp_data_url(piece_bytes),
        "piece_width": piece.box_w,
        "piece_height": piece.box_h,
        "piece_y": top,
    }
    return Challenge(kind="slide", payload=payload, answer={"x": left})


def _submitted_x(submission: object) -> float | None:
    if isinstance(submission, dict):
        if "x" not in submission:
            return None
        submission = submission["x"]
    x = finite_number(submission)
    return x if x is not None and 0 <= x <= MAX_COORDINATE else None


def _trajectory_ok(trajectory: object, x: float) -> bool:
    """2..2000 [x, y, t_ms] triples of finite numbers, t non-decreasing over >= 150 ms, ending
    within TRAJECTORY_END_SLACK px of the submitted x."""
    if not isinstance(trajectory, list | tuple):
        return False
    if not TRAJECTORY_MIN_POINTS <= len(trajectory) <= TRAJECTORY_MAX_POINTS:
        return False
    first_t = last_t = last_x = math.nan
    for point in trajectory:
        if not isinstance(point, list | tuple) or len(point) != 3:
            return False
        px, py, t = (finite_number(v) for v in point)
        if px is None or py is None or t is None or t < last_t:
            return False
        first_t = t if math.isnan(first_t) else first_t
        last_t, last_x = t, px
    duration = last_t - first_t
    return duration >= TRAJECTORY_MIN_DURATION_MS and abs(last_x - x) <= TRAJECTORY_END_SLACK


def check_slide(answer: JSON, submission: object, trajectory: object, *,
                tolerance: int | None = None) -> CheckResult:  # fmt: skip
    """Pass when the submitted x is within `tolerance` px of the answer and the drag is plausible.

    Error codes: "invalid-challenge" (bad stored answer or tolerance), "invalid-answer" (malformed
    or out-of-range submission), "invalid-trajectory", "wrong-answer". Never raises.
    """
    expected = answer.get("x") if isinstance(answer, dict) else None
    limit = DEFAULT_TOLERANCE if tolerance is None else tolerance
    if (
        isinstance(expected, bool)
        or not isinstance(expected, int)
        or abs(expected) > MAX_COORDINATE
    ):
        return CheckResult.fail("invalid-challenge")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= MAX_COORDINATE:
        return CheckResult.fail("invalid-challenge")
    x = _submitted_x(submission)
    if x is None:
        return CheckResult.fail("invalid-answer")
    if not _trajectory_ok(trajectory, x):
        return CheckResult.fail("invalid-trajectory")
    if abs(x - expected) > limit:
        return CheckResult.fail("wrong-answer")
    return CheckResult.ok()
