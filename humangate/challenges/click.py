"""Click the glyphs in order: a scene of scattered glyphs and a prompt showing some of them.

The payload is `{image, width, height, prompt_image, prompt_width, prompt_height, count}`: the
scene as a JPEG data URL, the prompt as a lossless WebP data URL of the `count` targets in click
order, left to right, each in an equal slot between 6 px margins (a picture, so the JSON names
no glyph), and the sizes. The private answer is `{"points": [[x, y], ...], "radius": r, "width":
w, "height": h}`: each target's centre in scene pixels, in the order to click, the tolerance,
and the scene's size.

What a person sees: five or six bold symbols (sun, cloud, umbrella, star, anchor, heart, ...;
`_glyphs.SYMBOLS`) or, when a site asks for them, characters, scattered over a fresh procedural
background, each turned, sized and coloured on its own, hatched with stripes that turn with it,
outlined and softly shadowed, some touching a neighbour; faint pieces of others and a few arcs
underneath. Above it, the prompt shows the targets drawn the same way, turned 15 degrees further
than the scene allows, over a small background of its own: matching pictures, not reading.

What a solver meets: symbols, not text, so public OCR (which reads prompts and scenes of
characters: ddddocr read the old plain prompt 89% of the time in Chinese) has nothing to read;
the prompt's glyphs are no template of the scene's (another turn, stretch, hatching and colour).
A matcher built from this code (silhouettes over turns) wins sometimes: see
bench/adversary/click.py and click_adaptive.py.

All randomness comes from the `rng` argument, so the same seed gives the same bytes.
"""

from __future__ import annotations

import colorsys
import io
import itertools
import math
import random
from dataclasses import dataclass
from typing import Literal

import numpy as np
from PIL import Image, ImageDraw

from humangate.challenges import _glyphs, _imaging
from humangate.challenges.base import JSON, Challenge, CheckResult, finite_number

Script = Literal["symbols", "latin", "cjk", "mixed"]
_Colour = tuple[int, int, int]
_Point = tuple[float, float]
MAX_COORDINATE = 4096
MAX_COUNT = 8
_PROMPT_SIZE = (32.0, 38.0)  # the prompt's font size, px
_PROMPT_PITCH = 50  # the prompt's advance per character, px
_BADGE = 8  # the radius of the badge with a target's click order, px
_PROMPT_HEIGHT = 54
_PROMPT_EXTRA_TURN = 15.0  # the prompt's glyphs turn this much further than the scene's
_GROW = 1.3  # Latin capitals and symbols fill less of the em than CJK characters
_SHADOW = [v * 45 // 100 for v in range(256)]  # a shadow's opacity from the outline's


@dataclass(frozen=True, slots=True)
class _Level:
    turn: float  # max turn of a glyph, degrees
    size: tuple[float, float]  # font size, px at the default 200 px height
    touch: float  # how close a distractor may come to a target, over the glyph size
    strokes: int  # glyph-coloured scribbles over the scene
    fragments: int  # pieces of other characters, faint, under the glyphs
    hatch: float  # how much of a glyph's fill the stripes take away, 0..1


_LEVELS = (
    _Level(12, (38, 44), 0.95, 0, 0, 0.0),
    _Level(22, (36, 46), 0.85, 1, 1, 0.5),
    _Level(35, (34, 48), 0.72, 2, 2, 0.7),
    _Level(40, (32, 50), 0.66, 3, 3, 0.75),
    _Level(45, (30, 52), 0.6, 4, 4, 0.8),
)


@dataclass(frozen=True, slots=True)
class ClickParams:
    """Scene size in pixels, how many targets to click (in order), how many distractors (drawn
    at random in the inclusive range), which characters, the click tolerance and the level."""

    width: int = 320
    height: int = 200
    targets: int = 3
    distractors: tuple[int, int] = (3, 4)
    script: Script = "symbols"
    radius: int = 16
    level: int = 2
    jpeg_quality: int = 80

    def __post_init__(self) -> None:
        if not 200 <= self.width <= 1024 or not 120 <= self.height <= 1024:
            raise ValueError("width must be in [200, 1024] and height in [120, 1024]")
        lo, hi = self.distractors
        if not 1 <= self.targets <= MAX_COUNT or not 0 <= lo <= hi <= 6:
            raise ValueError(f"targets must be in [1, {MAX_COUNT}] and distractors in [0, 6]")
        if self.targets + hi > self.width * self.height // 6000:
            raise ValueError("too many glyphs for the scene")
        if self.script not in ("symbols", "latin", "cjk", "mixed"):
            raise ValueError("script must be symbols, latin, cjk or mixed")
        if not 8 <= self.radius <= 40:
            raise ValueError("radius must be in [8, 40]")
        if not 0 <= self.level <= 4 or not 30 <= self.jpeg_quality <= 95:
            raise ValueError("level must be in [0, 4] and jpeg_quality in [30, 95]")


@dataclass(frozen=True, slots=True)
class _Glyph:
    char: str
    face: str
    mask: np.ndarray  # coverage, turned
    fill: np.ndarray  # coverage of the fill (the mask, hatched), turned
    x: int  # top-left of the mask in the scene
    y: int

    @property
    def centre(self) -> tuple[int, int]:
        return self.x + self.mask.shape[1] // 2, self.y + self.mask.shape[0] // 2


def _characters(rng: random.Random, script: Script, n: int) -> list[str]:
    latin, cjk = _glyphs.LATIN_SAFE, _glyphs.CJK_COMMON
    if script == "symbols":
        return rng.sample(_glyphs.SYMBOLS, n)
    if script == "latin":
        return rng.sample(latin, n)
    if script == "cjk":
        return rng.sample(cjk, n)
    chars: list[str] = []
    while len(chars) < n:
        char = rng.choice(latin if rng.random() < 0.5 else cjk)
        if char not in chars:
            chars.append(char)
    return chars


def _face(rng: random.Random, char: str) -> str:
    if char in _glyphs.SYMBOLS:
        return rng.choice(_glyphs.SYMBOL_FONTS)
    return rng.choice(_glyphs.LATIN_FONTS if char in _glyphs.LATIN_SAFE else _glyphs.CJK_FONTS)


def _grow(char: str) -> float:
    return 1.0 if char in _glyphs.CJK_COMMON else _GROW


def _place(rng: random.Random, masks: list[np.ndarray], n_targets: int, params: ClickParams,
           level: _Level) -> list[tuple[int, int]] | None:  # fmt: skip
    """Top-left corners for `masks` (targets first) inside the scene: targets far enough apart
    that their click circles never meet, distractors allowed to touch them. None if 200 tries
    found no room."""
    centres: list[_Point] = []
    corners: list[tuple[int, int]] = []
    for i, mask in enumerate(masks):
        h, w = mask.shape
        for _ in range(200):
            x, y = rng.randint(2, params.width - w - 2), rng.randint(2, params.height - h - 2)
            cx, cy = x + w / 2, y + h / 2
            if all(math.dist((cx, cy), c) >= _gap(i, j, n_targets, params, level, h)
                   for j, c in enumerate(centres)):  # fmt: skip
                centres.append((cx, cy))
                corners.append((x, y))
                break
        else:
            return None
    return corners


def _gap(i: int, j: int, n_targets: int, params: ClickParams, level: _Level, size: int) -> float:
    """The least distance between the centres of glyphs i and j (j placed before i)."""
    if i < n_targets and j < n_targets:
        return max(2 * params.radius + 8, 0.95 * size)
    return max(params.radius + 6, level.touch * size)


def _glyph_set(rng: random.Random, params: ClickParams) -> list[_Glyph]:
    """The targets (first, in click order) then the distractors, turned and placed."""
    level = _LEVELS[params.level]
    n = params.targets + rng.randint(*params.distractors)
    scale = params.height / 200
    for _ in range(20):
        chars = _characters(rng, params.script, n)
        faces = [_face(rng, c) for c in chars]
        masks, fills = [], []
        for char, face in zip(chars, faces, strict=True):
            grow = _grow(char)
            size = 4 * round(rng.uniform(*level.size) * scale * grow / 4)  # few sizes: cache hits
            mask = _glyphs.glyph(char, face, size)
            stripes = (rng.uniform(0, math.pi), rng.uniform(4.0, 5.0), rng.uniform(0, 6.3))
            both = np.dstack((mask, _glyphs.hatch(mask, level.hatch, *stripes)))
            turned = _glyphs.transform(both, rng.uniform(-level.turn, level.turn))
            masks.append(turned[..., 0])
            fills.append(turned[..., 1])
        corners = _place(rng, masks, params.targets, params, level)
        if corners is not None:
            return [
                _Glyph(c, f, m, fill, x, y)
                for c, f, m, fill, (x, y) in zip(chars, faces, masks, fills, corners, strict=True)
            ]
    raise ValueError("the scene is too small for these glyphs")


def _rgb(h: float, s: float, v: float) -> _Colour:
    r, g, b = colorsys.hsv_to_rgb(h, s, v)
    return round(r * 255), round(g * 255), round(b * 255)


def _colours(rng: random.Random, luma: float) -> tuple[_Colour, _Colour]:
    """(fill, outline) that stand out from a background of mean `luma`: a light fill with a
    dark outline on dark ground, and the reverse on light."""
    light = luma < 150
    v_fill = rng.uniform(0.85, 1.0) if light else rng.uniform(0.2, 0.45)
    s_fill = rng.uniform(0.3, 0.75) if light else rng.uniform(0.6, 0.95)
    fill = _rgb(rng.random(), s_fill, v_fill)
    return fill, _rgb(rng.random(), rng.uniform(0, 0.3), 0.1 if light else 0.97)


def _paint(scene: Image.Image, luma: float, glyph: _Glyph, rng: random.Random,
           hollow: bool = False) -> None:  # fmt: skip
    """Draw one glyph with a soft shadow, an outline and a hatched fill (`hollow`: an outline in
    the contrasting colour around a fill of the ground's own mean colour); `luma` is the mean
    luma of the background under it."""
    fill, edge = _colours(rng, luma)
    if hollow:  # the outline takes the colour that stands out; the inside, the ground's
        box = (glyph.x, glyph.y, glyph.x + glyph.mask.shape[1], glyph.y + glyph.mask.shape[0])
        ground = _imaging.channel_mean(np.asarray(scene.crop(box)))
        fill, edge = (round(ground[0]), round(ground[1]), round(ground[2])), fill
    grown = Image.fromarray(_glyphs.dilate(glyph.mask, 2))
    x, y = glyph.x, glyph.y
    scene.paste((0, 0, 0), (x - 2 + rng.choice((-2, 2)), y - 2 + rng.randint(1, 3)),
                grown.point(_SHADOW))  # fmt: skip
    scene.paste(edge, (x - 2, y - 2), grown)
    scene.paste(fill, (x, y), Image.fromarray(glyph.fill))


def _fragment(rng: random.Random, params: ClickParams) -> np.ndarray:
    """Part of a random character cut off by a straight line: clutter no one would click."""
    char = _characters(rng, params.script, 1)[0]
    size = 2 * round(rng.uniform(*_LEVELS[params.level].size) * params.height / 400)
    mask = _glyphs.glyph(char, _face(rng, char), size)
    h, w = mask.shape
    angle = rng.uniform(0, 2 * math.pi)
    xs = (np.arange(w, dtype=np.float32) - w / 2) * np.float32(math.cos(angle))
    ys = (np.arange(h, dtype=np.float32) - h / 2) * np.float32(math.sin(angle))
    keep = xs[None, :] + ys[:, None] > rng.uniform(-3, 3)
    return _glyphs.transform(mask * keep.astype(np.uint8), rng.uniform(-90, 90))


def _clutter(rng: random.Random, scene: Image.Image, params: ClickParams) -> None:
    """Faint fragments of characters and thin scribbles, under the glyphs."""
    level = _LEVELS[params.level]
    w, h = scene.size
    for _ in range(level.fragments):
        faint = np.float32(rng.uniform(0.35, 0.6))
        alpha = Image.fromarray((_fragment(rng, params) * faint).astype(np.uint8))
        colour = _rgb(rng.random(), 0.6, rng.uniform(0.2, 0.95))
        left = rng.randint(-alpha.width // 3, w - alpha.width // 2)
        scene.paste(colour, (left, rng.randint(-alpha.height // 3, h - alpha.height // 2)), alpha)
    draw = ImageDraw.Draw(scene)
    colour = _rgb(rng.random(), 0.5, rng.uniform(0.3, 0.9))
    for _ in range(level.strokes):
        x, y, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(15, 60)
        start = rng.uniform(0, 360)
        draw.arc((x - r, y - r, x + r, y + r), start, start + rng.uniform(50, 140), fill=colour,
                 width=rng.choice((2, 3)))  # fmt: skip


def _prompt(rng: random.Random, chars: list[str], params: ClickParams) -> tuple[bytes, int, int]:
    """The targets drawn the way the scene draws its glyphs (a face of their own, hatched,
    outlined in the colour that stands out around the ground's own colour, shadowed, turned
    further than in the scene) over a small procedural background with a fragment of another
    glyph, in a shuffled order, each with its click order in a numbered badge: a person reads
    "1, 2, 3"; OCR gets no clean line of text, and left to right is not the order.
    (lossless WebP, width, height)"""
    level = _LEVELS[params.level]
    width, height = 12 + _PROMPT_PITCH * len(chars), _PROMPT_HEIGHT
    gen = _imaging.numpy_generator(rng)
    index, palette = _imaging.render_background(rng, gen, width, height)
    image = _imaging.to_rgb(index, palette)
    luma = palette @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    alpha = Image.fromarray((_fragment(rng, params) * np.float32(0.5)).astype(np.uint8))
    colour = _rgb(rng.random(), 0.6, rng.uniform(0.2, 0.95))
    image.paste(colour, (rng.randint(0, max(0, width - alpha.width)), rng.randint(-8, 8)), alpha)
    turn = level.turn + _PROMPT_EXTRA_TURN
    order = rng.sample(range(len(chars)), len(chars))  # slot i shows target order[i]
    for i, char in enumerate(chars[k] for k in order):
        size = 4 * round(rng.uniform(*_PROMPT_SIZE) * _grow(char) / 4)
        mask = _glyphs.glyph(char, _face(rng, char), size)
        stripes = (rng.uniform(0, math.pi), rng.uniform(4.5, 5.5), rng.uniform(0, 6.3))
        both = np.dstack((mask, _glyphs.hatch(mask, max(0.4, 0.7 * level.hatch), *stripes)))
        turned = _glyphs.transform(both, rng.uniform(-turn, turn), rng.uniform(0.85, 1.15),
                                   rng.uniform(0.85, 1.15), rng.uniform(-0.2, 0.2))  # fmt: skip
        h, w = turned.shape[:2]
        x = round(6 + _PROMPT_PITCH * (i + 0.5) - w / 2 + rng.uniform(-3, 3))
        y = round((height - h) / 2 + rng.uniform(-3, 3))
        glyph = _Glyph(char, "", turned[..., 0], turned[..., 1], x, y)
        under = index[max(0, y) : y + h, max(0, x) : x + w]
        _paint(image, float(luma[under].mean()), glyph, rng, hollow=True)
    for i, k in enumerate(order):
        paper = _rgb(rng.random(), rng.uniform(0.0, 0.15), rng.uniform(0.92, 1.0))
        x = round(6 + _PROMPT_PITCH * i + rng.uniform(0, 3))
        _glyphs.badge(ImageDraw.Draw(image), str(k + 1), (x, 1), _BADGE, paper)
    out = io.BytesIO()  # lossless WebP, fastest setting; Pillow writes no metadata chunks
    image.save(out, format="WEBP", lossless=True, quality=0, method=0)
    return out.getvalue(), width, height


def generate_click(rng: random.Random, params: ClickParams) -> Challenge:
    """Create a click-in-order challenge; every pixel comes from `rng`."""
    gen = _imaging.numpy_generator(rng)
    index, palette = _imaging.render_background(rng, gen, params.width, params.height)
    scene = _imaging.to_rgb(index, palette)
    luma = palette @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    _clutter(rng, scene, params)
    glyphs = _glyph_set(rng, params)
    for i in rng.sample(range(len(glyphs)), len(glyphs)):
        g = glyphs[i]
        under = index[max(0, g.y) : g.y + g.mask.shape[0], max(0, g.x) : g.x + g.mask.shape[1]]
        _paint(scene, float(luma[under].mean()), g, rng)
    targets = glyphs[: params.targets]
    prompt, prompt_w, prompt_h = _prompt(rng, [g.char for g in targets], params)
    payload = {
        "image": _imaging.jpeg_data_url(_imaging.encode_jpeg(scene, params.jpeg_quality)),
        "width": params.width,
        "height": params.height,
        "prompt_image": _imaging.webp_data_url(prompt),
        "prompt_width": prompt_w,
        "prompt_height": prompt_h,
        "count": params.targets,
    }
    answer = {
        "points": [list(g.centre) for g in targets],
        "radius": params.radius,
        "width": params.width,
        "height": params.height,
    }
    return Challenge(kind="click", payload=payload, answer=answer)


def _point(value: object, width: float, height: float) -> _Point | None:
    if not isinstance(value, list | tuple) or len(value) != 2:
        return None
    x, y = finite_number(value[0]), finite_number(value[1])
    if x is None or y is None or not (0 <= x <= width and 0 <= y <= height):
        return None
    return x, y


def _points(values: list[object] | tuple[object, ...], width: float,
            height: float) -> list[_Point] | None:  # fmt: skip
    """Every value as a point inside the (width, height) scene, or None if any is not one."""
    points = [_point(value, width, height) for value in values]
    return [p for p in points if p is not None] if None not in points else None


def _expected(answer: object) -> tuple[list[_Point], float, float, float] | None:
    """(points, radius, width, height) of a stored answer, or None if it is malformed."""
    if not isinstance(answer, dict):
        return None
    width = finite_number(answer.get("width", MAX_COORDINATE))
    height = finite_number(answer.get("height", MAX_COORDINATE))
    radius = finite_number(answer.get("radius"))
    raw = answer.get("points")
    if width is None or height is None or radius is None or radius <= 0:
        return None
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_COUNT:
        return None
    points = _points(raw, MAX_COORDINATE, MAX_COORDINATE)
    return None if points is None else (points, radius, width, height)


def check_click(answer: JSON, submission: object, trajectory: object = None) -> CheckResult:
    """Pass when each submitted point is within the radius of its target, in order.

    `submission` is `{"points": [[x, y], ...]}` or the bare list, with exactly as many points
    as targets, each a pair of finite numbers inside the scene; `trajectory` is ignored. Error
    codes: "invalid-challenge" (bad stored answer), "invalid-answer" (malformed),
    "wrong-order" (every target hit, in another order), "wrong-answer". Never raises.
    """
    expected = _expected(answer)
    if expected is None:
        return CheckResult.fail("invalid-challenge")
    targets, radius, width, height = expected
    if isinstance(submission, dict):
        submission = submission.get("points")
    if not isinstance(submission, list | tuple) or len(submission) != len(targets):
        return CheckResult.fail("invalid-answer")
    points = _points(submission, width, height)
    if points is None:
        return CheckResult.fail("invalid-answer")
    hits = [[math.dist(p, t) <= radius for t in targets] for p in points]
    if all(hits[i][i] for i in range(len(targets))):
        return CheckResult.ok()
    for order in itertools.permutations(range(len(targets))):
        if all(hits[i][j] for i, j in enumerate(order)):
            return CheckResult.fail("wrong-order")
    return CheckResult.fail("wrong-answer")
