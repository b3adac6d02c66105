"""Private scenery for the `rotate` challenge: an upright canvas being drawn, and the things that
stand on its ground (trees, houses, people, lamps and rocks, roads and fences) with their shadows.

Pure: randomness comes only from the scene's `random.Random`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from colorsys import hsv_to_rgb
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

Colour = tuple[int, int, int]
_Point = tuple[float, float]
Spec = tuple[float, float, float, float, float, float]  # h, s, v as lo/hi pairs

# Outlines in units of an object's height, x right and v up from its foot.
_GREEN = (0.22, 0.4, 0.4, 0.8, 0.25, 0.55)
_TRUNK = ((-0.05, 0), (0.05, 0), (0.03, 0.55), (-0.03, 0.55))
_BODY = (
    ((-0.055, 0), (-0.015, 0), (-0.01, 0.25), (-0.055, 0.25)),  # legs
    ((0.015, 0), (0.055, 0), (0.055, 0.25), (0.01, 0.25)),
    ((-0.07, 0.23), (0.07, 0.23), (0.055, 0.44), (-0.055, 0.44)),  # torso
)


@dataclass(slots=True)
class Scene:
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
        return scale(hsv(self.rng, spec), dim if self.dark else 1.0)


def hsv(rng: random.Random, spec: Spec) -> Colour:
    h, s, v = (rng.uniform(spec[i], spec[i + 1]) for i in (0, 2, 4))
    return tuple(round(255 * c) for c in hsv_to_rgb(h % 1.0, s, v))  # type: ignore[return-value]


def scale(c: Colour | np.ndarray, f: float) -> Colour:
    return tuple(int(min(255, max(0, round(v * f)))) for v in c)  # type: ignore[return-value]


def _rect(u0: float, v0: float, u1: float, v1: float) -> tuple[_Point, ...]:
    return ((u0, v0), (u1, v0), (u1, v1), (u0, v1))


def disc(draw: ImageDraw.ImageDraw, x: float, y: float, r: float, fill: Colour) -> None:
    draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)


def _at(x: float, y: float, s: float, lean: float, pts: Sequence[_Point]) -> list[_Point]:
    """Object-unit points (u right, v up from the foot) on the canvas, leaning `lean` deg."""
    c, k = math.cos(math.radians(lean)), math.sin(math.radians(lean))
    return [(x + s * (u * c + v * k), y + s * (u * k - v * c)) for u, v in pts]


def _tree(sc: Scene, draw: ImageDraw.ImageDraw, x: float, y: float, s: float) -> None:
    rng, lean, lit = sc.rng, sc.rng.uniform(-5.0, 5.0), 1 if sc.sun[0] > x else -1
    autumn = rng.random() < 0.25
    green = sc.tone((0.03, 0.12, 0.6, 0.9, 0.5, 0.8) if autumn else _GREEN, 0.6)
    draw.polygon(_at(x, y, s, lean, _TRUNK), fill=sc.tone((0.05, 0.1, 0.4, 0.6, 0.25, 0.45)))
    if rng.random() < 0.5:  # conifer: three tiers, the half facing the light lighter
        for k in range(3):
            base, half, tip = 0.25 + 0.22 * k, 0.32 - 0.07 * k, 0.7 + 0.2 * k
            for side in (-1, 1):
                tier = ((0, base), (side * half, base), (0, tip))
                shade = scale(green, 1.15 if side == lit else 0.8)
                draw.polygon(_at(x, y, s, lean, tier), fill=shade)
        return
    for k in range(5):  # round crown: shaded puffs, then lit ones shifted towards the light
        u, v = rng.uniform(-0.2, 0.2) + 0.12 * lit * (k >= 3), 0.72 + rng.uniform(-0.1, 0.15)
        (px, py), r = _at(x, y, s, lean, ((u, v),))[0], s * rng.uniform(0.18, 0.26)
        disc(draw, px, py, r, scale(green, 1.2 if k >= 3 else 0.85))


def _house(sc: Scene, draw: ImageDraw.ImageDraw, x: float, y: float, s: float) -> None:
    """Front wall, a darker side wall away from the light, a gable roof, door and windows."""
    rng, side = sc.rng, -1 if sc.sun[0] > x else 1
    wall, roof = sc.tone((0.0, 1.0, 0.1, 0.4, 0.7, 0.95)), sc.tone((0.0, 0.08, 0.4, 0.7, 0.35, 0.6))
    bw, bh, d, top = (rng.uniform(0.22, 0.3), rng.uniform(0.35, 0.45), rng.uniform(0.15, 0.25),
                      rng.uniform(0.55, 0.75))  # fmt: skip
    back, pane = side * (bw + d), (255, 220, 120) if sc.dark else (170, 200, 230)
    door, wall_2 = (200, 170, 90) if sc.dark else scale(roof, 0.6), scale(wall, 0.7)
    parts = (
        (((side * bw, 0), (back, 0.3 * d), (back, bh + 0.3 * d), (side * bw, bh)), wall_2),
        (_rect(-bw, 0, bw, bh), wall),
        (((side * 1.2 * bw, bh), (0, top), (side * d, top + 0.3 * d),
          (back + side * 0.2 * bw, bh + 0.3 * d)), scale(roof, 0.75)),
        (((-1.2 * bw, bh), (1.2 * bw, bh), (0, top)), roof),
        (_rect(-0.16 * bw, 0, 0.16 * bw, 0.5 * bh), door),
        (_rect(-0.76 * bw, 0.52 * bh, -0.44 * bw, 0.78 * bh), pane),
        (_rect(0.44 * bw, 0.52 * bh, 0.76 * bw, 0.78 * bh), pane),
    )  # fmt: skip
    for pts, colour in parts:
        draw.polygon(_at(x, y, s, 0.0, pts), fill=colour)


def _person(sc: Scene, draw: ImageDraw.ImageDraw, x: float, y: float, s: float) -> None:
    lean, h = sc.rng.uniform(-4.0, 4.0), 0.55 * s * 1.1
    cloth = sc.tone((0.0, 1.0, 0.4, 0.8, 0.3, 0.7))
    for k, part in enumerate(_BODY):
        draw.polygon(_at(x, y, h, lean, part), fill=cloth if k == 2 else scale(cloth, 0.6))
    skin = hsv(sc.rng, (0.05, 0.1, 0.3, 0.6, 0.4, 0.9))
    disc(draw, *_at(x, y, h, lean, ((0, 0.5),))[0], 0.065 * h, skin)


def _post(sc: Scene, draw: ImageDraw.ImageDraw, x: float, y: float, s: float) -> None:
    """A lamp post, or a rock sitting on its flat bottom."""
    if sc.rng.random() < 0.5:
        draw.polygon(_at(x, y, s, 0.0, _rect(-0.02, 0, 0.02, 0.8)), fill=(50, 50, 55))
        draw.polygon(_at(x, y, s, 0.0, _rect(-0.06, 0.8, 0.06, 0.9)), fill=(255, 230, 150))
        return
    arc = np.linspace(0, math.pi, 7)
    rock = [(0.2 * math.cos(a), 0.15 * math.sin(a) * sc.rng.uniform(0.7, 1.3)) for a in arc]
    draw.polygon(_at(x, y, s, 0.0, rock), fill=sc.tone((0.05, 0.15, 0.05, 0.2, 0.4, 0.6), 0.6))


def lines(sc: Scene, draw: ImageDraw.ImageDraw) -> None:
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


Draw = Callable[[Scene, ImageDraw.ImageDraw, float, float, float], None]
_KINDS: tuple[Draw, ...] = (
    _tree,
    _tree,
    _tree,
    _tree,
    _tree,
    _house,
    _house,
    _person,
    _person,
    _post,
)


def clutter(sc: Scene) -> None:
    """Things with no up, seen from above: round bushes and flower beds (rings of discs) and
    ponds (ellipses at any angle), so that edges and blobs alone do not say where up is."""
    rng, w = sc.rng, sc.img.width
    draw = ImageDraw.Draw(sc.img)
    for _ in range(rng.randint(8, 12)):
        x, y, r = rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.9) * w, rng.uniform(0.03, 0.07) * w
        kind = rng.random()
        if kind < 0.4:  # a pond: an ellipse turned at random, a darker rim
            water = sc.tone((0.5, 0.62, 0.3, 0.6, 0.45, 0.8))
            a, b, turn = r * rng.uniform(1.0, 1.8), r, rng.uniform(0, math.pi)
            pts = [(x + a * math.cos(t) * math.cos(turn) - b * math.sin(t) * math.sin(turn),
                    y + a * math.cos(t) * math.sin(turn) + b * math.sin(t) * math.cos(turn))
                   for t in np.linspace(0, 2 * math.pi, 24, endpoint=False)]  # fmt: skip
            draw.polygon(pts, fill=water, outline=scale(water, 0.7))
            continue
        green = sc.tone(_GREEN if kind < 0.7 else (0.0, 1.0, 0.5, 0.8, 0.7, 0.95), 0.6)
        disc(draw, x, y, r, scale(green, 0.8))
        for k in range(rng.randint(5, 8)):  # a ring of puffs round a centre
            t = 2 * math.pi * k / 7 + rng.uniform(0, 0.5)
            disc(draw, x + 0.6 * r * math.cos(t), y + 0.6 * r * math.sin(t), 0.45 * r,
                 scale(green, rng.uniform(0.9, 1.2)))  # fmt: skip


def objects(sc: Scene, scatter: bool = False) -> None:
    """Trees, houses, people and posts standing on the ground, far ones first and smaller, each
    with a soft shadow on the ground away from the light. `scatter`: on ground seen from high
    above, anywhere in the disc and of one size range wherever they stand (no perspective)."""
    rng, w = sc.rng, sc.img.width
    placed: list[tuple[float, float, float, Draw]] = []
    while scatter and len(placed) < 6:
        x, y = rng.uniform(0.12, 0.88) * w, rng.uniform(0.2, 0.92) * w
        s = w * rng.uniform(0.15, 0.24)
        if math.hypot(x - w / 2, y - s / 2 - w / 2) < 0.4 * w - s / 3:
            placed.append((y, x, s, rng.choice(_KINDS)))
    for _ in range(0 if scatter else rng.randint(5, 8)):
        x, d = rng.uniform(0.08, 0.92) * w, rng.uniform(0.05, 0.75)
        y = sc.ground_y(x) + d * (w - sc.ground_y(x))
        kind = rng.choice(_KINDS)
        placed.append((y, x, w * (0.2 + 0.35 * d) * rng.uniform(0.85, 1.2), kind))
    placed.sort(key=lambda p: p[0])
    shadow = Image.new("L", sc.img.size, 0)
    for y, x, s, _ in [] if scatter else placed:  # seen from above, no shadow says "below"
        end = x + s * rng.uniform(0.5, 1.1) * (-1.0 if sc.sun[0] > x else 1.0)
        ImageDraw.Draw(shadow).ellipse((min(x, end), y - 0.06 * s, max(x, end), y + 0.08 * s), 200)
    shade = Image.blend(sc.img, Image.new("RGB", sc.img.size, (20, 20, 30)), 0.5)
    sc.img.paste(shade, mask=shadow.filter(ImageFilter.GaussianBlur(w * 0.006)))
    draw = ImageDraw.Draw(sc.img)
    for y, x, s, kind in placed:
        kind(sc, draw, x, y, s)
