"""Rotate: turn a disc cut from a landscape until it stands upright.

The payload is `{image, size}`: a lossy WebP data URL of a `size` px disc (transparent outside,
one flat grey under the transparency) showing a landscape turned counter-clockwise by a secret
angle. The private answer is `{"angle": a}`, a whole number of degrees in [min_angle,
360 - min_angle]: the clockwise turn that makes it upright; the client reports the turn it made.

A person sees ground below sky; trees, houses, people, lamps and rocks standing on it with their
shadows; clouds with flat bases; a sun or moon. Up is obvious at a glance.

A naive solver meets: a fresh scene every time (random palette and layout); a per-channel gain
ramp along the up axis that makes how much brighter or bluer the upper half is random, so
brightness and colour do not tell up from down; sloping, rolling hills, so the horizon is neither
straight nor level; ploughed rows, cirrus streaks, roads and fences at random angles, so lines,
edge orientations and mirror axes point anywhere. A model trained on this (open-source) generator
is another matter: see bench/adversary/rotate.py. All randomness comes from `rng`: the same seed
gives the same bytes.
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Sequence
from colorsys import hsv_to_rgb
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from humangate.challenges import _imaging
from humangate.challenges.base import JSON, Challenge, CheckResult, check_integers

DEFAULT_TOLERANCE = 12
MAX_SUBMITTED_ANGLE = 720
_SS = 2  # drawn at this multiple of the size, then halved
_OUTSIDE = (128, 128, 128)
Colour = tuple[int, int, int]
_Point = tuple[float, float]
Spec = tuple[float, float, float, float, float, float]  # h, s, v as lo/hi pairs

# Sky top, sky near the sun, far ground, near ground (before balancing), per mood.
_MOODS: dict[str, tuple[Spec, Spec, Spec, Spec]] = {
    "day": ((0.53, 0.66, 0.35, 0.7, 0.72, 0.95), (0.5, 0.6, 0.1, 0.3, 0.88, 1.0),
            (0.17, 0.33, 0.3, 0.6, 0.45, 0.7), (0.18, 0.36, 0.45, 0.75, 0.28, 0.5)),
    "dusk": ((0.62, 0.8, 0.4, 0.7, 0.16, 0.32), (0.02, 0.12, 0.5, 0.8, 0.8, 1.0),
             (0.6, 0.8, 0.2, 0.4, 0.2, 0.35), (0.6, 0.85, 0.2, 0.5, 0.08, 0.2)),
    "night": ((0.6, 0.7, 0.5, 0.8, 0.05, 0.14), (0.58, 0.68, 0.3, 0.6, 0.18, 0.3),
              (0.55, 0.62, 0.05, 0.2, 0.6, 0.78), (0.55, 0.62, 0.05, 0.15, 0.75, 0.92)),
    "snow": ((0.55, 0.62, 0.1, 0.35, 0.48, 0.68), (0.55, 0.62, 0.05, 0.2, 0.62, 0.78),
             (0.55, 0.6, 0.03, 0.1, 0.85, 0.95), (0.55, 0.6, 0.02, 0.08, 0.92, 1.0)),
    "desert": ((0.58, 0.66, 0.6, 0.9, 0.38, 0.58), (0.55, 0.62, 0.3, 0.6, 0.62, 0.78),
               (0.07, 0.12, 0.3, 0.5, 0.8, 0.92), (0.08, 0.12, 0.35, 0.6, 0.88, 1.0)),
    "overcast": ((0.0, 1.0, 0.0, 0.12, 0.55, 0.7), (0.0, 1.0, 0.0, 0.1, 0.7, 0.85),
                 (0.1, 0.4, 0.2, 0.5, 0.35, 0.55), (0.1, 0.4, 0.25, 0.6, 0.25, 0.45)),
}  # fmt: skip
_MOOD_WEIGHTS = ((6, 1, 0, 1, 1, 2), (4, 2, 1, 2, 2, 2), (3, 2, 2, 2, 2, 2), (2, 2, 2, 2, 2, 1),
                 (2, 2, 3, 2, 3, 1))  # fmt: skip
# Outlines in units of an object's height, x right and v up from its foot.
_GREEN = (0.22, 0.4, 0.4, 0.8, 0.25, 0.55)
_TRUNK = ((-0.05, 0), (0.05, 0), (0.03, 0.55), (-0.03, 0.55))
_BODY = (
    ((-0.055, 0), (-0.015, 0), (-0.01, 0.25), (-0.055, 0.25)),  # legs
    ((0.015, 0), (0.055, 0), (0.055, 0.25), (0.01, 0.25)),
    ((-0.07, 0.23), (0.07, 0.23), (0.055, 0.44), (-0.055, 0.44)),  # torso
)


@dataclass(frozen=True, slots=True)
class RotateParams:
    """`size` is the disc's diameter in px; the answer lies in [min_angle, 360 - min_angle];
    `level` 0..4 adds what misleads machines (steeper hillsides, more rows and streaks at random
    angles, moods with a bright ground) without hiding up from people; WebP `quality`."""

    size: int = 200
    min_angle: int = 30
    tolerance: int = DEFAULT_TOLERANCE
    level: int = 2
    quality: int = 80

    def __post_init__(self) -> None:
        check_integers(self, ("size", 96, 512), ("min_angle", 0, 150), ("tolerance", 1, 45),
                       ("level", 0, 4), ("quality", 30, 95))  # fmt: skip


@dataclass(slots=True)
class _Scene:
    """An upright canvas being drawn, light from `sun` (x, y)."""

    rng: random.Random
    img: Image.Image
    horizon: np.ndarray  # y of the ground's top edge for every x
    sun: tuple[float, float]
    dark: bool  # dusk or night: objects are dim silhouettes
    level: int

    def ground_y(self, x: float) -> float:
        return float(self.horizon[min(len(self.horizon) - 1, max(0, int(x)))])

    def tone(self, spec: Spec, dim: float = 0.65) -> Colour:
        return _scale(_hsv(self.rng, spec), dim if self.dark else 1.0)


def _hsv(rng: random.Random, spec: Spec) -> Colour:
    h, s, v = (rng.uniform(spec[i], spec[i + 1]) for i in (0, 2, 4))
    return tuple(round(255 * c) for c in hsv_to_rgb(h % 1.0, s, v))  # type: ignore[return-value]


def _scale(c: Colour | np.ndarray, f: float) -> Colour:
    return tuple(int(min(255, max(0, round(v * f)))) for v in c)  # type: ignore[return-value]


def _balanced(rng: random.Random, pal: list[Colour]) -> tuple[Colour, ...]:
    """Each channel of the ground moved halfway to the sky's, times a random factor around 1
    (all dimmed if that overflows): which half is brighter or bluer says little about up."""
    sky, ground = np.add(pal[0], pal[1]) / 2 + 1, np.add(pal[2], pal[3]) / 2 + 1
    gain = np.sqrt(sky / ground) * math.exp(rng.uniform(-0.5, 0.5))
    near, far = np.multiply(pal[2], gain), np.multiply(pal[3], gain)
    dim = min(1.0, 255 / max(near.max(), far.max()))
    return _scale(pal[0], dim), _scale(pal[1], dim), _scale(near, dim), _scale(far, dim)


def _waves(rng: random.Random, xs: np.ndarray, ys: np.ndarray, count: int, lo: float,
           hi: float) -> np.ndarray:  # fmt: skip
    """Isotropic mottling in [-1, 1] from plane waves at random angles, `lo`..`hi` cycles per
    `xs`/`ys` unit (grid-based noise would carry the canvas's axes into the turned image)."""
    out = np.zeros(xs.shape, np.float32)
    for _ in range(count):
        a, f = rng.uniform(0, 2 * math.pi), np.float32(rng.uniform(lo, hi) * 2 * math.pi)
        out += np.cos(f * (xs * math.cos(a) + ys * math.sin(a)) + rng.uniform(0, 6.3)) / f
    return out / max(float(np.abs(out).max()), 1e-6)


def _rows(rng: random.Random, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Ploughed-field rows at a random angle over part of the canvas (xs, ys in [-0.5, 0.5])."""
    a, b = rng.uniform(0, math.pi), rng.uniform(0, 2 * math.pi)
    cycles = np.float32(2 * math.pi / rng.uniform(0.025, 0.06))
    rows = np.tanh(3.0 * np.sin((xs * math.cos(a) + ys * math.sin(a)) * cycles)) * np.float32(
        rng.uniform(0.14, 0.26)
    )
    keep = xs * math.cos(b) + ys * math.sin(b) < rng.uniform(0.0, 0.4)
    return np.where(keep, rows, np.float32(0.0))


def _lerp(a: Colour, b: Colour, t: np.ndarray) -> np.ndarray:
    mixed: np.ndarray = np.array(a, np.float32) + t[..., None] * np.array(
        np.subtract(b, a), np.float32
    )
    return mixed


def _backdrop(rng: random.Random, w: int, mood: str, level: int) -> _Scene:
    """Sky lighter towards the sun over rolling, sloping ground lit across at a random angle;
    computed at half size (it is smooth) and scaled up."""
    pal = _balanced(rng, [_hsv(rng, spec) for spec in _MOODS[mood]])
    tilt = math.tan(math.radians(rng.choice((-1, 1)) * rng.uniform(4 + 2 * level, 8 + 5 * level)))
    xs = np.arange(w, dtype=np.float32) - w / 2
    horizon = w * rng.uniform(0.4, 0.58) + tilt * xs
    for _ in range(3):  # rolling hills
        amp = rng.uniform(0.2, 1.0) * w * rng.uniform(0.03, 0.05 + 0.015 * level)
        cycles = 2 * math.pi / w / rng.uniform(0.25, 1.2)
        horizon += amp * np.sin(xs * cycles + rng.uniform(0, 6.3))
    sun = (rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.8) * float(horizon.min()))
    half = w // 2
    ys, xs = (np.mgrid[0:half, 0:half].astype(np.float32) + 0.5) / np.float32(half) - 0.5
    near_sun = np.hypot(xs + 0.5 - sun[0] / w, ys + 0.5 - sun[1] / w) / rng.uniform(0.6, 1.0)
    sky = _lerp(pal[1], pal[0], np.clip(near_sun, 0.0, 1.0) ** 0.7)
    a = rng.uniform(0, 2 * math.pi)
    ground = _lerp(pal[2], pal[3], np.clip(0.5 + xs * math.cos(a) + ys * math.sin(a), 0, 1))
    ground *= 1.0 + np.float32(rng.uniform(0.08, 0.2)) * _waves(rng, xs, ys, 10, 3, 14)[..., None]
    sky *= 1.0 + np.float32(0.03) * _waves(rng, xs, ys, 6, 2, 8)[..., None]
    if rng.random() < 0.6 + 0.1 * level:
        ground *= 1.0 + _rows(rng, xs, ys)[..., None]
    if rng.random() < 0.4 + 0.1 * level:  # streaky cirrus
        sky *= 1.0 + 0.8 * _rows(rng, xs, ys)[..., None]
    below = (ys + 0.5) * w >= horizon[::_SS][None, :half]
    rgb = np.clip(np.where(below[..., None], ground, sky), 0, 255).astype(np.uint8)
    img = Image.fromarray(rgb).resize((w, w), Image.Resampling.BICUBIC)
    return _Scene(rng, img, horizon, sun, mood in ("dusk", "night"), level)


def _sky_things(sc: _Scene, mood: str) -> None:
    """Stars at night, a sun or moon, clouds with a flat base and shaded (at dusk lit) under."""
    rng, draw, w, top = sc.rng, ImageDraw.Draw(sc.img), sc.img.width, float(sc.horizon.min())
    for _ in range(rng.randint(20, 50) if mood == "night" else 0):
        x, y, r = rng.uniform(0, w), rng.uniform(0, top), rng.uniform(0.6, 1.6)
        _disc(draw, x, y, r, (230, 230, 240))
    if mood != "overcast":
        moon = (250, 248, 225) if sc.dark else (255, 236, 160)
        _disc(draw, *sc.sun, w * rng.uniform(0.035, 0.06), moon)
    lit = _hsv(rng, (0.0, 1.0, 0.0, 0.15, 0.85, 1.0))
    under = _scale(lit, 1.15 if mood == "dusk" else rng.uniform(0.7, 0.85))
    for _ in range(rng.randint(1, 4)):
        x, y, r = rng.uniform(0, w), rng.uniform(0.1, 0.85) * top, w * rng.uniform(0.05, 0.1)
        puffs = [(x + rng.uniform(-1.8, 1.8) * r, rng.uniform(0.5, 1.0) * r) for _ in range(5)]
        for px, pr in puffs:
            draw.ellipse((px - pr, y - 1.6 * pr, px + pr, y), fill=under)
        for px, pr in puffs:
            draw.ellipse((px - 0.9 * pr, y - 1.75 * pr, px + 0.9 * pr, y - 0.3 * pr), fill=lit)


def _rect(u0: float, v0: float, u1: float, v1: float) -> tuple[_Point, ...]:
    return ((u0, v0), (u1, v0), (u1, v1), (u0, v1))


def _disc(draw: ImageDraw.ImageDraw, x: float, y: float, r: float, fill: Colour) -> None:
    draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)


def _at(x: float, y: float, s: float, lean: float, pts: Sequence[_Point]) -> list[_Point]:
    """Object-unit points (u right, v up from the foot) on the canvas, leaning `lean` deg."""
    c, k = math.cos(math.radians(lean)), math.sin(math.radians(lean))
    return [(x + s * (u * c + v * k), y + s * (u * k - v * c)) for u, v in pts]


def _tree(sc: _Scene, draw: ImageDraw.ImageDraw, x: float, y: float, s: float) -> None:
    rng, lean, lit = sc.rng, sc.rng.uniform(-5.0, 5.0), 1 if sc.sun[0] > x else -1
    autumn = rng.random() < 0.25
    green = sc.tone((0.03, 0.12, 0.6, 0.9, 0.5, 0.8) if autumn else _GREEN, 0.6)
    draw.polygon(_at(x, y, s, lean, _TRUNK), fill=sc.tone((0.05, 0.1, 0.4, 0.6, 0.25, 0.45)))
    if rng.random() < 0.5:  # conifer: three tiers, the half facing the light lighter
        for k in range(3):
            base, half, tip = 0.25 + 0.22 * k, 0.32 - 0.07 * k, 0.7 + 0.2 * k
            for side in (-1, 1):
                tier = ((0, base), (side * half, base), (0, tip))
                shade = _scale(green, 1.15 if side == lit else 0.8)
                draw.polygon(_at(x, y, s, lean, tier), fill=shade)
        return
    for k in range(5):  # round crown: shaded puffs, then lit ones shifted towards the light
        u, v = rng.uniform(-0.2, 0.2) + 0.12 * lit * (k >= 3), 0.72 + rng.uniform(-0.1, 0.15)
        (px, py), r = _at(x, y, s, lean, ((u, v),))[0], s * rng.uniform(0.18, 0.26)
        _disc(draw, px, py, r, _scale(green, 1.2 if k >= 3 else 0.85))


def _house(sc: _Scene, draw: ImageDraw.ImageDraw, x: float, y: float, s: float) -> None:
    """Front wall, a darker side wall away from the light, a gable roof, door and windows."""
    rng, side = sc.rng, -1 if sc.sun[0] > x else 1
    wall, roof = sc.tone((0.0, 1.0, 0.1, 0.4, 0.7, 0.95)), sc.tone((0.0, 0.08, 0.4, 0.7, 0.35, 0.6))
    bw, bh, d, top = (rng.uniform(0.22, 0.3), rng.uniform(0.35, 0.45), rng.uniform(0.15, 0.25),
                      rng.uniform(0.55, 0.75))  # fmt: skip
    back, pane = side * (bw + d), (255, 220, 120) if sc.dark else (170, 200, 230)
    door, wall_2 = (200, 170, 90) if sc.dark else _scale(roof, 0.6), _scale(wall, 0.7)
    parts = (
        (((side * bw, 0), (back, 0.3 * d), (back, bh + 0.3 * d), (side * bw, bh)), wall_2),
        (_rect(-bw, 0, bw, bh), wall),
        (((side * 1.2 * bw, bh), (0, top), (side * d, top + 0.3 * d),
          (back + side * 0.2 * bw, bh + 0.3 * d)), _scale(roof, 0.75)),
        (((-1.2 * bw, bh), (1.2 * bw, bh), (0, top)), roof),
        (_rect(-0.16 * bw, 0, 0.16 * bw, 0.5 * bh), door),
        (_rect(-0.76 * bw, 0.52 * bh, -0.44 * bw, 0.78 * bh), pane),
        (_rect(0.44 * bw, 0.52 * bh, 0.76 * bw, 0.78 * bh), pane),
    )  # fmt: skip
    for pts, colour in parts:
        draw.polygon(_at(x, y, s, 0.0, pts), fill=colour)


def _person(sc: _Scene, draw: ImageDraw.ImageDraw, x: float, y: float, s: float) -> None:
    lean, h = sc.rng.uniform(-4.0, 4.0), 0.55 * s * 1.1
    cloth = sc.tone((0.0, 1.0, 0.4, 0.8, 0.3, 0.7))
    for k, part in enumerate(_BODY):
        draw.polygon(_at(x, y, h, lean, part), fill=cloth if k == 2 else _scale(cloth, 0.6))
    skin = _hsv(sc.rng, (0.05, 0.1, 0.3, 0.6, 0.4, 0.9))
    _disc(draw, *_at(x, y, h, lean, ((0, 0.5),))[0], 0.065 * h, skin)


def _post(sc: _Scene, draw: ImageDraw.ImageDraw, x: float, y: float, s: float) -> None:
    """A lamp post, or a rock sitting on its flat bottom."""
    if sc.rng.random() < 0.5:
        draw.polygon(_at(x, y, s, 0.0, _rect(-0.02, 0, 0.02, 0.8)), fill=(50, 50, 55))
        draw.polygon(_at(x, y, s, 0.0, _rect(-0.06, 0.8, 0.06, 0.9)), fill=(255, 230, 150))
        return
    arc = np.linspace(0, math.pi, 7)
    rock = [(0.2 * math.cos(a), 0.15 * math.sin(a) * sc.rng.uniform(0.7, 1.3)) for a in arc]
    draw.polygon(_at(x, y, s, 0.0, rock), fill=sc.tone((0.05, 0.15, 0.05, 0.2, 0.4, 0.6), 0.6))


def _lines(sc: _Scene, draw: ImageDraw.ImageDraw) -> None:
    """Straight edges at many angles: roads to the horizon and a fence along the slope."""
    rng, w = sc.rng, sc.img.width
    for _ in range(rng.randint(0, 1 + sc.level // 2)):
        vx, half = rng.uniform(0.2, 0.8) * w, rng.uniform(0.1, 0.3) * w
        bx, vy = vx + rng.uniform(-0.6, 0.6) * w, sc.ground_y(vx)
        road = sc.tone((0.05, 0.12, 0.05, 0.25, 0.35, 0.75))
        draw.polygon([(vx - 2, vy), (vx + 2, vy), (bx + half, w), (bx - half, w)], fill=road)
    if rng.random() < 0.3 + 0.1 * sc.level:
        x0, x1 = sorted(rng.uniform(0, w) for _ in range(2))
        dy = rng.uniform(0.05, 0.3) * (w - sc.ground_y(x0))
        tone = (30, 30, 30) if sc.dark else (70, 55, 40)
        for px in np.arange(x0, x1 + 1, 0.06 * w):
            foot = sc.ground_y(px) + dy
            draw.line([(px, foot), (px, foot - 0.06 * w)], fill=tone, width=3)
        for lift in (0.025, 0.05):
            rail = [(px, sc.ground_y(px) + dy - lift * w) for px in np.linspace(x0, x1, 12)]
            draw.line(rail, fill=tone, width=2)


_KINDS = (_tree, _tree, _tree, _tree, _tree, _house, _house, _person, _person, _post)


def _objects(sc: _Scene) -> None:
    """Trees, houses, people and posts standing on the ground, far ones first and smaller, each
    with a soft shadow on the ground away from the light."""
    rng, w = sc.rng, sc.img.width
    placed = []
    for _ in range(rng.randint(5, 8)):
        x, d = rng.uniform(0.08, 0.92) * w, rng.uniform(0.05, 0.75)
        y = sc.ground_y(x) + d * (w - sc.ground_y(x))
        kind = rng.choice(_KINDS)
        placed.append((y, x, w * (0.2 + 0.35 * d) * rng.uniform(0.85, 1.2), kind))
    placed.sort(key=lambda p: p[0])
    shadow = Image.new("L", sc.img.size, 0)
    for y, x, s, _ in placed:
        end = x + s * rng.uniform(0.5, 1.1) * (-1.0 if sc.sun[0] > x else 1.0)
        ImageDraw.Draw(shadow).ellipse((min(x, end), y - 0.06 * s, max(x, end), y + 0.08 * s), 200)
    shade = Image.blend(sc.img, Image.new("RGB", sc.img.size, (20, 20, 30)), 0.5)
    sc.img.paste(shade, mask=shadow.filter(ImageFilter.GaussianBlur(w * 0.006)))
    draw = ImageDraw.Draw(sc.img)
    for y, x, s, kind in placed:
        kind(sc, draw, x, y, s)


def _neutral(rng: random.Random, rgb: np.ndarray, along: np.ndarray, inside: np.ndarray,
             level: int) -> np.ndarray:  # fmt: skip
    """Per channel, a gain ramp along the up axis that sets how much brighter that channel is
    up than down to a random amount: brightness and colour halves say nothing about up."""
    mean = rgb[inside].mean(axis=0)
    dipole = (rgb[inside] * along[inside][:, None]).mean(axis=0) / np.maximum(mean, 1.0)
    target = rng.uniform(-0.06, 0.06) + np.array([rng.uniform(-0.02, 0.02) for _ in range(3)])
    cap = 0.35 + 0.05 * level
    gain = np.clip(4.0 * (target - dipole), -cap, cap).astype(np.float32)
    balanced: np.ndarray = rgb * (1.0 + along[..., None] * gain)
    return balanced


def _finish(rng: random.Random, disc: Image.Image, angle: int, level: int) -> np.ndarray:
    """Neutral halves, light from a random direction, grain, and the disc's alpha."""
    n = disc.width
    ys, xs = np.mgrid[0:n, 0:n].astype(np.float32) - np.float32((n - 1) / 2)
    up = (-math.sin(math.radians(angle)), -math.cos(math.radians(angle)))
    along = (xs * up[0] + ys * up[1]) / np.float32(n / 2)
    inside = np.hypot(xs, ys) < n / 2 - 2
    rgb = _neutral(rng, np.asarray(disc, dtype=np.float32), along, inside, level)
    gain = rng.uniform(0.1, 0.15 + 0.03 * level)
    rgb *= 1.0 + _imaging.tilt(n, n, rng.uniform(0, 2 * math.pi), 2 * gain / n)[..., None]
    rgb += _imaging.noise(_imaging.numpy_generator(rng), n, n, 3)[..., None]
    rgba = np.empty((n, n, 4), dtype=np.uint8)
    rgba[..., :3] = np.clip(rgb, 0, 255)
    rgba[..., 3] = np.round(np.clip(n / 2 - np.hypot(xs, ys), 0.0, 1.0) * 255)
    rgba[rgba[..., 3] == 0, :3] = _OUTSIDE
    return rgba


def _upright(rng: random.Random, params: RotateParams) -> tuple[int, Image.Image]:
    """The answer and the upright scene at _SS x the size, band-limited so that bicubic turning
    blurs alike at every angle (no angle leak)."""
    angle = rng.randint(params.min_angle, 360 - params.min_angle)
    mood = rng.choices(list(_MOODS), weights=_MOOD_WEIGHTS[params.level])[0]
    scene = _backdrop(rng, params.size * _SS, mood, params.level)
    _sky_things(scene, mood)
    _lines(scene, ImageDraw.Draw(scene.img))
    _objects(scene)
    return angle, scene.img.filter(ImageFilter.GaussianBlur(0.8))


def generate_rotate(rng: random.Random, params: RotateParams) -> Challenge:
    """Create a rotate challenge; every pixel comes from `rng`."""
    angle, upright = _upright(rng, params)
    disc = upright.rotate(angle, Image.Resampling.BICUBIC, fillcolor=_OUTSIDE).reduce(_SS)
    out = io.BytesIO()
    rgba = Image.fromarray(_finish(rng, disc, angle, params.level))
    rgba.save(out, format="WEBP", quality=params.quality, exact=True)
    payload = {"image": _imaging.webp_data_url(out.getvalue()), "size": params.size}
    return Challenge(kind="rotate", payload=payload, answer={"angle": angle})


def check_rotate(answer: JSON, submission: object, trajectory: object = None, *,
                 tolerance: int | None = None) -> CheckResult:  # fmt: skip
    """Pass when the submitted clockwise turn (degrees: a number or `{"angle": n}`, finite, in
    [-720, 720]) is within `tolerance` (default 12) of the answer around the circle.
    `trajectory` is ignored (accepted for a uniform checker signature).

    Error codes: "invalid-challenge" (bad stored answer or tolerance), "invalid-answer"
    (malformed, non-finite or out-of-range submission), "wrong-answer". Never raises.
    """
    expected = answer.get("angle") if isinstance(answer, dict) else None
    limit = DEFAULT_TOLERANCE if tolerance is None else tolerance
    if isinstance(expected, bool) or not isinstance(expected, int) or not 0 <= expected < 360:
        return CheckResult.fail("invalid-challenge")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= 180:
        return CheckResult.fail("invalid-challenge")
    turn = submission.get("angle") if isinstance(submission, dict) else submission
    if isinstance(turn, bool) or not isinstance(turn, int | float):
        return CheckResult.fail("invalid-answer")
    if not abs(turn) <= MAX_SUBMITTED_ANGLE:  # also NaN
        return CheckResult.fail("invalid-answer")
    off = abs(float(turn) % 360.0 - expected)
    if min(off, 360.0 - off) > limit:
        return CheckResult.fail("wrong-answer")
    return CheckResult.ok()
