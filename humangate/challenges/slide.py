"""Jigsaw slider: drag a puzzle piece along its row into the one hole that has its outline.

The payload is `{width, height, background, piece, piece_width, piece_height, piece_y}`: a JPEG
background (data URL) drawn fresh for every challenge, the piece as a lossless WebP data URL with
alpha, the piece's box size and the row its top sits on. The client moves the piece horizontally
only. The private answer is `{"x": left}`: the left edge of the piece's box, in background pixels,
when the piece sits centred in its hole; the client reports the same quantity.

What a person sees: the real hole and up to `decoys` others (two by default) on the piece's row,
each a clearly lighter or darker patch, all the same size and drawn alike. Only the real hole
has the piece's outline, grown by 18-34% so the piece drops in with a visible margin all round.
Each decoy is the piece's near twin: the same body and knobs in the same places, with one knob
turned into a socket or one socket into a knob (a bump where the piece bites in, or a bite where
it bulges), each decoy on a side of its own. So a person finds the hole by checking the piece's
four sides, and no decoy is a turn or mirror image of the piece (its counts of knobs and sockets
differ). The piece has at most one flat side, so it always has three sides a decoy can differ
on.

The answer is uniform over `SlideParams.answer_range()` (wherever any hole fits right of
`min_x`), so no fixed guess wins more often than the tolerance window over that range; decoys
take uniform free places around it. Every hole is drawn in a style of its own: stretched on
each axis apart, turned up to 10 degrees, its edge rippled, filled either with a flattened
foreign patch or with the ground under it pressed flat, with a soft edge and a rim of random
width and strength, its knobs of a radius and neck of their own, nudged along their sides; so
"the outline grown by a fixed factor, with a rim" is no signature, and the real hole is no exact
copy of the piece either.

What a naive solver meets: no pixels of the piece's picture or of its original place remain in
the hole; the hole's outline never coincides with the piece's, so template and edge matching
peak off or on a decoy; the piece's picture is a patch from a random place turned half a turn
and nudged, so it continues nothing around any hole. A matcher that reads this code (warps the
outline over the same grid) finds the holes but must tell the twins apart by one knob's worth
of outline under the warp; one that also builds the twins and compares them hole by hole, as a
person checks the four sides, mostly does (bench/adversary/slide.py): against a generator-aware
attacker the picture alone does not hold, the drag gate must.

Everything is drawn in palette-index space (one channel) and coloured once at the end, and all
randomness comes from the `rng` argument, so the same seed gives the same bytes.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import numpy as np

from humangate.challenges import _imaging, _jigsaw
from humangate.challenges.base import JSON, Challenge, CheckResult, finite_number

DEFAULT_TOLERANCE = 4
MAX_COORDINATE = 4096
TRAJECTORY_MIN_POINTS = 2
TRAJECTORY_MAX_POINTS = 2000
TRAJECTORY_MIN_DURATION_MS = 150.0
TRAJECTORY_END_SLACK = 3.0

_RIM = 3  # pixels around a hole that its soft edge and rim may touch
_GAP = 4  # minimum horizontal gap between two holes


@dataclass(frozen=True, slots=True)
class SlideParams:
    """Sizes in background pixels. `piece_size` is the side of the piece's square body (jittered
    by +-2 px); a knob adds ~0.33 x that on its side, so by default the piece's box is 37 to 67 px
    a side, ~50 px typically. Holes are up to ~2.3 x `piece_size` wide and tall."""

    width: int = 360
    height: int = 160
    piece_size: int = 30
    decoys: int = 2
    min_x: int = 64
    jpeg_quality: int = 82

    def __post_init__(self) -> None:
        if not 160 <= self.width <= 2048 or not 80 <= self.height <= 2048:
            raise ValueError("width must be in [160, 2048] and height in [80, 2048]")
        if not 20 <= self.piece_size or 2 * (_hole_reach(self) + _RIM) > self.height:
            raise ValueError("piece_size must be at least 20 and its hole fit the height")
        if not 0 <= self.decoys <= 4:
            raise ValueError("decoys must be in [0, 4]")
        lo, hi = self.answer_range()
        if not 0 <= self.min_x or hi < lo:
            raise ValueError("min_x leaves no room for the hole")
        if not 30 <= self.jpeg_quality <= 95:
            raise ValueError("jpeg_quality must be in [30, 95]")

    def answer_range(self) -> tuple[int, int]:
        """The inclusive range the answer (the piece's left edge) is uniform over: wherever any
        piece's hole, however drawn, fits between `min_x` and the right edge."""
        reach = _hole_reach(self) + _RIM
        body = self.piece_size + 2.0
        knob = body * _jigsaw.RADIUS[1] * (1 + _jigsaw.NECK[1])
        lo = math.ceil(self.min_x + reach - _jigsaw.AA - (self.piece_size - 2) / 2)
        centre = max(_jigsaw.AA + knob + body / 2, _jigsaw.MIN_BOX_W / 2 + knob)
        hi = math.floor(self.width - reach - centre)
        return lo, hi


def _hole_reach(params: SlideParams) -> float:
    return _jigsaw.widest_reach(params.piece_size)


_Box = tuple[int, int, int, int]  # y0, y1, x0, x1
_Span = tuple[float, float]


@dataclass(frozen=True, slots=True)
class _Hole:
    """One hole to carve: its outline, how it is drawn, and its body centre."""

    shape: _jigsaw.Jigsaw
    form: _jigsaw.HoleShape
    cx: float
    cy: float

    def span(self) -> _Span:
        left, right, _ = _jigsaw.reach(self.shape, self.form)
        return self.cx - left - _RIM, self.cx + right + _RIM

    def box(self, size: tuple[int, int]) -> _Box:
        left, right, vertical = _jigsaw.reach(self.shape, self.form)
        y0 = max(0, math.floor(self.cy - vertical - _RIM))
        y1 = min(size[1], math.ceil(self.cy + vertical + _RIM))
        x0 = max(0, math.floor(self.cx - left - _RIM))
        return y0, y1, x0, min(size[0], math.ceil(self.cx + right + _RIM))


def _free_places(first: int, last: int, lo: float, hi: float, taken: list[_Span]) -> list[int]:
    """The x in [first, last] where the span (x + lo, x + hi) keeps `_GAP` from every span taken."""
    xs = np.arange(first, last + 1)
    free = np.ones(len(xs), dtype=bool)
    for a, b in taken:
        free &= (xs + hi + _GAP <= a) | (b + _GAP <= xs + lo)
    places: list[int] = xs[free].tolist()
    return places


def _layout(rng: random.Random, shapes: list[_jigsaw.Jigsaw], params: SlideParams,
            cy: float) -> tuple[int, list[_Hole]]:  # fmt: skip
    """The answer (uniform over the answer range) and the holes, the real one first; each decoy
    at a uniform free place on the row, or left out when there is none."""
    piece = shapes[0]
    left = rng.randint(*params.answer_range())
    cx = left + piece.body_x + piece.size / 2
    holes = [_Hole(_jigsaw.hole_outline(rng, piece), _jigsaw.HoleShape.draw(rng), cx, cy)]
    taken = [holes[0].span()]
    for shape in shapes[1:]:
        hole = _Hole(_jigsaw.hole_outline(rng, shape), _jigsaw.HoleShape.draw(rng), 0.0, cy)
        lo, hi = hole.span()
        first, last = math.ceil(params.min_x - lo), math.floor(params.width - hi)
        places = _free_places(first, last, lo, hi, taken)
        if places:
            x = rng.choice(places)
            holes.append(_Hole(hole.shape, hole.form, x, cy))
            taken.append((x + lo, x + hi))
    return left, holes


def _carve(index: np.ndarray, source: np.ndarray, luma: np.ndarray, hole: _Hole,
           rng: random.Random) -> None:  # fmt: skip
    """Draw one hole in the palette-index array `index`, in a style of its own: filled with a
    flattened foreign patch or with the ground under it pressed flat, moved along the palette
    (lighter or darker), with a soft edge of random width and a rim of random strength."""
    y0, y1, x0, x1 = box = hole.box(index.shape[::-1])
    sd = _jigsaw.hole_sdf(hole.shape, hole.form, hole.cx, hole.cy, box)
    ring = sd[::2, ::2]  # every other pixel of the band around the hole is plenty
    around = source[y0:y1:2, x0:x1:2][(ring > 1.0) & (ring < 6.0)]
    base = float(around.mean()) if len(around) else float(source.mean())
    shift = _shift(luma, base, np.sort(luma[around]), rng)
    region = index[y0:y1, x0:x1].astype(np.float32)
    if rng.random() < 0.5:
        patch = _imaging.foreign(source, rng, x1 - x0, y1 - y0).astype(np.float32)
        contrast = rng.uniform(0.12, 0.25)
    else:
        patch, contrast = region.copy(), rng.uniform(0.25, 0.5)
    fill = patch * np.float32(contrast) + np.float32(base + shift - contrast * patch.mean())
    region += np.clip(1.0 - sd / rng.uniform(0.8, 2.5), 0.0, 1.0) * (fill - region)
    rim = np.exp(np.square(sd) * -rng.uniform(0.4, 2.5)) * rng.uniform(0.0, 0.5)
    region += rim * (np.float32(base + rng.choice((1.6, -0.6)) * shift) - region)
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


def _cut_piece(source: np.ndarray, palette: np.ndarray, shape: _jigsaw.Jigsaw,
               rng: random.Random, gen: np.random.Generator) -> np.ndarray:  # fmt: skip
    """The piece as RGBA with a light bevel. Its picture is a patch from a random place, turned
    half a turn and nudged, so it continues nothing around any hole: people match the outline."""
    w, h = shape.box_w, shape.box_h
    patch = palette[_imaging.foreign(source, rng, w, h)]
    mean = _imaging.channel_mean(patch)
    offset = np.array([rng.uniform(-12.0, 12.0) + rng.uniform(-8.0, 8.0) for _ in range(3)])
    contrast = rng.uniform(0.8, 1.1)
    rgb = patch * np.float32(contrast) + ((1 - contrast) * mean + offset).astype(np.float32)
    alpha = np.clip(0.5 - _jigsaw.piece_sdf(shape, (h, w)), 0.0, 1.0) * 255.0
    shade = _imaging.tilt(h, w, rng.uniform(0.0, 2 * math.pi), rng.uniform(0.3, 0.6))
    shade += _imaging.noise(gen, h, w, 1) + _imaging.inner_ring(alpha) * (50.0 / 255.0)  # bevel
    rgb += shade[..., None]
    rgba = np.empty((h, w, 4), dtype=np.uint8)
    rgba[..., :3] = np.clip(rgb, 0, 255)
    rgba[..., 3] = alpha + 0.5
    # no silhouette once the alpha is dropped
    rgba[rgba[..., 3] == 0, :3] = _imaging.channel_mean(rgba[..., :3])
    return rgba


def generate_slide(rng: random.Random, params: SlideParams) -> Challenge:
    """Create a jigsaw-slider challenge; every pixel comes from `rng`."""
    gen = _imaging.numpy_generator(rng)
    source, palette = _imaging.render_background(rng, gen, params.width, params.height)
    index = source.copy()  # holes are drawn on the copy; foreign patches come from the source
    luma = palette @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    shapes = _jigsaw.shapes(rng, params.piece_size, params.decoys)
    piece = shapes[0]
    reach = _hole_reach(params) + _RIM
    centre = _jigsaw.AA + piece.extent(0) + piece.size / 2  # the body centre below the box top
    top = rng.randint(math.ceil(reach - centre), math.floor(params.height - reach - centre))
    left, holes = _layout(rng, shapes, params, top + centre)
    for hole in holes:
        _carve(index, source, luma, hole, rng)
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
