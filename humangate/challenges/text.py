"""Distorted text: type the characters in the picture.

The payload is `{image, width, height, length}`: a JPEG data URL of `length` characters drawn
from a set with no look-alikes (`_glyphs.LATIN_SAFE` by default), and the private answer is
`{"text": ...}` in upper case. The checker ignores case and whitespace.

What a person sees: bold letters of mixed faces, each turned, sheared and sized on its own and
hatched with fine stripes that turn with it, neighbours in different inks and touching, the
word bent by a gentle wave and a softer local wobble and crossed by thin strokes, on a pale
mottled paper with faint scribbles. A wavy cut between two letters (level 1, half the time)
shows one side in negative: light letters on dark paper; from level 2 there is such a cut in
every gap, so the paper turns light, dark, light under successive letters.

What a solver meets: stripes and crossing strokes leave no clean outlines, a binarising
threshold cannot serve both polarities, a reader trained on captchas of one polarity meets
letters of both in one word, touching, turned letters give no gaps to segment on, and the
wobble bends every letter differently. `level` (0..4) scales all of it. bench/adversary/text.py
measures what it buys: at the default, 2, public OCR reads under 5% of words, where the level
below (one cut, milder turns and wobble) let it read 14%. The bands do tell an attacker who
knows the generator where the letters are (its adaptive reader uses them), which is why the
letters themselves still carry the distortion.

All randomness comes from the `rng` argument, so the same seed gives the same bytes.
"""

from __future__ import annotations

import colorsys
import hmac
import math
import random
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageChops, ImageDraw

from humangate.challenges import _glyphs, _imaging
from humangate.challenges.base import JSON, Challenge, CheckResult

MAX_SUBMISSION = 64
_MARGIN = 3  # pixels kept clear at the left and right edges


@dataclass(frozen=True, slots=True)
class _Level:
    turn: float  # max turn of a letter, degrees
    shear: float
    size: tuple[float, float]  # font size over image height
    overlap: tuple[float, float]  # share of the narrower neighbour's width
    stripes: float  # how much of a letter's ink the hatching takes away, 0..1
    negative: float  # chance of a negative cut
    strokes: int
    warp: float  # sine wave amplitude, px
    elastic: float  # amplitude of a smooth random displacement, px
    bend: float  # how far letters leave the baseline, px
    scribbles: int
    cuts: int = 1  # cuts of a negative picture, at most one per gap between letters


_LEVELS = (
    _Level(10, 0.05, (0.64, 0.72), (0.0, 0.06), 0.0, 0.0, 1, 1.5, 0.0, 3, 4),
    _Level(20, 0.1, (0.58, 0.74), (0.04, 0.1), 0.45, 0.5, 1, 2.0, 1.5, 4, 6),
    _Level(38, 0.2, (0.48, 0.79), (0.12, 0.2), 0.72, 1.0, 2, 3.0, 4.5, 5, 10, cuts=11),
    _Level(39, 0.22, (0.47, 0.8), (0.14, 0.22), 0.74, 1.0, 2, 3.2, 4.8, 5, 11, cuts=11),
    _Level(40, 0.24, (0.46, 0.8), (0.16, 0.24), 0.76, 1.0, 3, 3.5, 5.0, 6, 12, cuts=11),
)


@dataclass(frozen=True, slots=True)
class TextParams:
    """Sizes in image pixels; `level` 0 is mild, 4 the hardest a person still reads."""

    width: int = 200
    height: int = 70
    length: int = 5
    alphabet: str = _glyphs.LATIN_SAFE
    level: int = 2
    jpeg_quality: int = 70

    def __post_init__(self) -> None:
        if not 80 <= self.width <= 1024 or not 32 <= self.height <= 512:
            raise ValueError("width must be in [80, 1024] and height in [32, 512]")
        if not 1 <= self.length <= 12 or self.length * self.height * 0.4 > self.width:
            raise ValueError("length must be in [1, 12] and fit the width")
        if len(set(self.alphabet)) < 2 or not set(self.alphabet) <= set(_glyphs.LATIN_SUBSET):
            raise ValueError("alphabet needs two or more of A-Z, a-z, 0-9")
        if not 0 <= self.level <= 4:
            raise ValueError("level must be in [0, 4]")
        if not 30 <= self.jpeg_quality <= 95:
            raise ValueError("jpeg_quality must be in [30, 95]")


@dataclass(frozen=True, slots=True)
class _Letter:
    char: str
    face: str
    size: float  # font size over image height
    turn: float
    stretch: float
    shear: float
    stripe_angle: float
    stripe_period: float
    stripe_phase: float


def _letters(rng: random.Random, text: str, level: _Level) -> list[_Letter]:
    return [
        _Letter(
            char,
            rng.choice(_glyphs.LATIN_FONTS),
            rng.uniform(*level.size),
            rng.uniform(-level.turn, level.turn),
            rng.uniform(0.85, 1.15),
            rng.uniform(-level.shear, level.shear),
            rng.uniform(0.0, math.pi),
            rng.uniform(3.6, 4.6),
            rng.uniform(0.0, 2 * math.pi),
        )
        for char in text
    ]


def _box_width(letter: _Letter, height: int) -> float:
    """The width `_hatched` will give the letter at full size, near enough to plan a layout."""
    h, w = _glyphs.glyph(letter.char, letter.face, max(8, round(letter.size * height))).shape
    rad = math.radians(letter.turn)
    w, h = w * letter.stretch + abs(letter.shear) * h, h / math.sqrt(letter.stretch)
    return float(w * abs(math.cos(rad)) + h * abs(math.sin(rad)) + 2)


def _hatched(letter: _Letter, height: int, shrink: float, stripes: float) -> np.ndarray:
    """One letter's coverage: hatched in its own frame, then turned, stretched and sheared."""
    mask = _glyphs.glyph(letter.char, letter.face, max(8, round(letter.size * height * shrink)))
    if stripes:
        mask = _glyphs.hatch(
            mask, stripes, letter.stripe_angle, letter.stripe_period, letter.stripe_phase
        )
    s = letter.stretch
    return _glyphs.transform(mask, letter.turn, s, 1 / math.sqrt(s), letter.shear)


def _layout(rng: random.Random, widths: list[int], overlaps: list[float],
            width: int) -> list[float]:  # fmt: skip
    """Left edges of boxes of `widths`, each overlapping the next by its share of the narrower
    one, placed with some play; squeezed together if they still do not fit."""
    lefts, x = [], 0.0
    for i, w in enumerate(widths):
        lefts.append(x)
        if i + 1 < len(widths):
            x += w - overlaps[i] * min(w, widths[i + 1])
    span, room = lefts[-1] + widths[-1], width - 2 * _MARGIN
    squeeze = min(1.0, (room - widths[-1]) / max(1.0, lefts[-1]))
    start = _MARGIN + rng.uniform(0.2, 0.8) * max(0.0, room - span)
    return [start + left * squeeze for left in lefts]


def _ink(rng: random.Random, text: str,
         params: TextParams) -> tuple[np.ndarray, np.ndarray, list[float]]:  # fmt: skip
    """(coverage uint8, label uint8, centre x of each letter): the letters laid out; label i
    marks letter i's pixels."""
    level = _LEVELS[params.level]
    letters = _letters(rng, text, level)
    overlaps = [rng.uniform(*level.overlap) for _ in letters[1:]]
    planned = [_box_width(let, params.height) for let in letters]
    span = sum(planned) - sum(
        o * min(a, b) for o, a, b in zip(overlaps, planned, planned[1:], strict=False)
    )
    shrink = min(1.0, (params.width - 2 * _MARGIN) / span)  # _layout squeezes any remainder
    masks = [_hatched(let, params.height, shrink, level.stripes) for let in letters]
    widths = [m.shape[1] for m in masks]
    lefts = _layout(rng, widths, overlaps, params.width)
    cover = np.zeros((params.height, params.width), dtype=np.uint8)
    labels = np.zeros_like(cover)
    bend, phase = rng.uniform(0.3, 1.0) * level.bend, rng.uniform(0, 2 * math.pi)
    for i, (mask, left) in enumerate(zip(masks, lefts, strict=True)):
        cy = params.height / 2 + bend * math.sin(phase + 1.3 * i) + rng.uniform(-2.0, 2.0)
        top = min(max(0, round(cy - mask.shape[0] / 2)), max(0, params.height - mask.shape[0]))
        _glyphs.paste_labelled(cover, labels, mask, round(left), top, i)
    centres = [left + mask.shape[1] / 2 for mask, left in zip(masks, lefts, strict=True)]
    return cover, labels, centres


def _strokes(rng: random.Random, params: TextParams, cover: np.ndarray,
             labels: np.ndarray) -> None:  # fmt: skip
    """Thin wavy strokes across the word, each in the ink of a random letter."""
    w, h = params.width, params.height
    cols = np.flatnonzero(cover.max(axis=0) > 128)
    x0, x1 = (int(cols[0]), int(cols[-1])) if len(cols) else (0, w)
    for _ in range(_LEVELS[params.level].strokes):
        layer = Image.new("L", (w, h))
        start, end = x0 - rng.uniform(0, 12), x1 + rng.uniform(0, 12)
        left, right = rng.uniform(0.3, 0.7) * h, rng.uniform(0.3, 0.7) * h
        amp, freq = rng.uniform(3, 6 + 2 * params.level), rng.uniform(0.6, 1.6)
        phase = rng.uniform(0, 2 * math.pi)
        points = []
        for k in range(25):
            t = k / 24
            y = left + (right - left) * t + amp * math.sin(phase + 2 * math.pi * freq * t)
            points.append((start + (end - start) * t, y))
        ImageDraw.Draw(layer).line(points, fill=255, width=rng.choice((1, 2, 2)), joint="curve")
        label = rng.randrange(params.length)
        _glyphs.paste_labelled(cover, labels, np.asarray(layer), 0, 0, label)


def _elastic(gen: np.random.Generator, w: int, h: int, amp: float) -> np.ndarray:
    """A smooth random displacement field in [-amp, amp], (h, w) float32."""
    rows, cols = max(2, h // 14), max(2, w // 14)
    grid = gen.random((rows, cols), dtype=np.float32) * np.float32(2 * amp) - np.float32(amp)
    shift: np.ndarray = _imaging._interp_matrix(h, rows) @ grid @ _imaging._interp_matrix(w, cols).T
    return shift


def _warp_coords(rng: random.Random, gen: np.random.Generator, w: int, h: int,
                 level: _Level) -> tuple[np.ndarray, ...]:  # fmt: skip
    """A sine warp plus an elastic one, as (flat index of each output pixel's top-left source
    pixel, its x and y fractions, flat index of its nearest source pixel)."""
    amp = level.warp
    amp_y, amp_x = rng.uniform(0.6, 1.0) * amp, rng.uniform(0.3, 0.6) * amp
    wave_y, wave_x = rng.uniform(0.7, 1.3) * w / 2, rng.uniform(0.7, 1.3) * h
    phase_y, phase_x = rng.uniform(0, 2 * math.pi), rng.uniform(0, 2 * math.pi)
    xs, ys = np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32)
    dy = np.float32(amp_y) * np.sin(xs * np.float32(2 * math.pi / wave_y) + np.float32(phase_y))
    dx = np.float32(amp_x) * np.sin(ys * np.float32(2 * math.pi / wave_x) + np.float32(phase_x))
    src_x = xs[None, :] + dx[:, None]
    src_y = ys[:, None] + dy[None, :]
    if level.elastic:
        src_x += _elastic(gen, w, h, level.elastic)
        src_y += _elastic(gen, w, h, level.elastic)
    np.clip(src_x, 0, w - 1.001, out=src_x)
    np.clip(src_y, 0, h - 1.001, out=src_y)
    x0, y0 = np.floor(src_x), np.floor(src_y)
    fx, fy = src_x - x0, src_y - y0
    index = y0.astype(np.int32) * np.int32(w) + x0.astype(np.int32)
    return index, fx, fy, index + (fx > 0.5) + w * (fy > 0.5)


def _sample(image: np.ndarray, coords: tuple[np.ndarray, ...]) -> np.ndarray:
    """Bilinear sample of a 2-D array at `coords` (from `_warp_coords`), float32."""
    i, fx, fy, _ = coords
    w = image.shape[1]
    flat = image.ravel().astype(np.float32)
    t0, t1, b0, b1 = flat.take(i), flat.take(i + 1), flat.take(i + w), flat.take(i + w + 1)
    top = t0 + (t1 - t0) * fx
    sampled: np.ndarray = top + (b0 + (b1 - b0) * fx - top) * fy
    return sampled


def _inks(rng: random.Random, n: int) -> bytes:
    """A palette of n dark inks (RGB bytes); neighbours alternate between two hue families."""
    hues = (rng.random(), rng.random())
    rows: list[int] = []
    for i in range(n):
        hue = (hues[i % 2] + rng.uniform(-0.05, 0.05)) % 1.0
        rgb = colorsys.hsv_to_rgb(hue, rng.uniform(0.5, 0.9), rng.uniform(0.15, 0.42))
        rows.extend(round(c * 255) for c in rgb)
    return bytes(rows)


def _paper(rng: random.Random, gen: np.random.Generator, params: TextParams) -> Image.Image:
    """A pale mottled RGB background with faint scribbles."""
    w, h = params.width, params.height
    paper = colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.05, 0.25), rng.uniform(0.88, 0.98))
    field = _imaging.value_noise(gen, max(8, h // 3), max(8, w // 3))
    low = Image.fromarray((field * (16 + 6 * params.level)).astype(np.uint8))
    shade = low.resize((w, h), Image.Resampling.BILINEAR)
    draw = ImageDraw.Draw(shade)
    faint = 45 + 11 * params.level
    for _ in range(_LEVELS[params.level].scribbles):
        x, y, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(6, 30)
        start = rng.uniform(0, 360)
        draw.arc((x - r, y - r, x + r, y + r), start, start + rng.uniform(60, 200), fill=faint,
                 width=rng.choice((1, 1, 2)))  # fmt: skip
    grain = np.frombuffer(gen.bytes(w * h), dtype=np.uint8).reshape(h, w) & 7
    shade = Image.fromarray(np.asarray(shade) + grain)
    base = Image.new("RGB", (w, h), tuple(round(c * 255) for c in paper))
    return ImageChops.subtract(base, Image.merge("RGB", (shade, shade, shade)))


def _negative_side(rng: random.Random, w: int, h: int, centres: list[float],
                   cuts: int) -> Image.Image:  # fmt: skip
    """An L mask of every other region between `cuts` wavy cuts across the picture, each
    between two letters (a cut through a letter's middle would hide it from people too)."""
    xs, ys = np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32)
    gaps = range(len(centres) - 1)
    side = np.full((h, w), rng.random() < 0.5)
    for gap in rng.sample(gaps, min(cuts, len(gaps))):
        at = (centres[gap] + centres[gap + 1]) / 2
        slant, wave = rng.uniform(-0.15, 0.15), rng.uniform(0.1, 0.2)
        cut = at + slant * (ys - h / 2) + 3 * np.sin(ys * wave + rng.random() * 6)
        side ^= xs[None, :] > cut[:, None]
    return Image.fromarray(side.view(np.uint8) * np.uint8(255))


def generate_text(rng: random.Random, params: TextParams) -> Challenge:
    """Create a distorted-text challenge; every pixel comes from `rng`."""
    gen = _imaging.numpy_generator(rng)
    level = _LEVELS[params.level]
    text = "".join(rng.choice(params.alphabet) for _ in range(params.length))
    cover, labels, centres = _ink(rng, text, params)
    _strokes(rng, params, cover, labels)
    coords = _warp_coords(rng, gen, params.width, params.height, level)
    alpha = Image.fromarray((_sample(cover, coords) + 0.5).astype(np.uint8))
    ink = Image.fromarray(labels.ravel().take(coords[3]).reshape(labels.shape))
    ink.putpalette(_inks(rng, params.length))
    image = Image.composite(ink.convert("RGB"), _paper(rng, gen, params), alpha)
    if rng.random() < level.negative:  # the negative of paper and ink is the negative of both
        flip = _negative_side(rng, params.width, params.height, centres, level.cuts)
        image = Image.composite(ImageChops.invert(image), image, flip)
    payload = {
        "image": _imaging.jpeg_data_url(_imaging.encode_jpeg(image, params.jpeg_quality)),
        "width": params.width,
        "height": params.height,
        "length": params.length,
    }
    return Challenge(kind="text", payload=payload, answer={"text": text.upper()})


def _normalise(value: object) -> str | None:
    if not isinstance(value, str) or len(value) > MAX_SUBMISSION:
        return None
    folded = "".join(value.split()).upper()
    return folded or None


def check_text(answer: JSON, submission: object, trajectory: object = None) -> CheckResult:
    """Pass when the submission equals the answer, ignoring case and whitespace.

    `submission` is a string or `{"text": string}`; `trajectory` is ignored. Error codes:
    "invalid-challenge" (bad stored answer), "invalid-answer" (malformed), "wrong-answer".
    Never raises.
    """
    expected = _normalise(answer.get("text")) if isinstance(answer, dict) else None
    if expected is None:
        return CheckResult.fail("invalid-challenge")
    if isinstance(submission, dict):
        submission = submission.get("text")
    given = _normalise(submission)
    if given is None:
        return CheckResult.fail("invalid-answer")
    if not hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode()):
        return CheckResult.fail("wrong-answer")
    return CheckResult.ok()
