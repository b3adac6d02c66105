"""Rotate: turn a disc of a small world until it stands upright.

The payload is `{image, size}`: a lossy WebP data URL of a `size` px disc (transparent outside,
one flat grey under the transparency) showing a scene turned counter-clockwise by a secret
angle. The private answer is `{"angle": a}`, a whole number of degrees in [min_angle,
360 - min_angle]: the clockwise turn that makes it upright; the client reports the turn it made.

A person sees (the default, `scatter`) ground seen from high above, with six trees, houses,
people and lamps standing on it, all upright, among eight to twelve bushes, flower beds and
ponds that have no up; or (`scatter=False`) a landscape: ground below sky, things standing on
it with their shadows, clouds with flat bases, a sun or moon. Up is obvious at a glance in both.

A naive solver meets: a fresh scene every time (random palette and layout); a per-channel gain
ramp along the up axis that makes how much brighter or bluer the upper half is random, so
brightness and colour do not tell up from down; ploughed rows at random angles. The scatter
scene has no horizon, no sky, no perspective (things are one size wherever they stand) and no
shadows, so the layout, the colours of the halves and the long edges that an upright
classifier trained on this open generator learns from landscapes (69% of discs within the
tolerance, against 19% on scatter scenes) say nothing; only the few small upright things do. See
bench/adversary/rotate.py. All randomness comes from `rng`: the same seed gives the same bytes.
"""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from humangate.challenges import _imaging
from humangate.challenges._scenery import (
    Colour,
    Scene,
    Spec,
    clutter,
    disc,
    hsv,
    lines,
    objects,
    scale,
)
from humangate.challenges.base import JSON, Challenge, CheckResult, check_integers

DEFAULT_TOLERANCE = 6  # a fixed guess wins 13 of 321 answers (4.0%); docs/decisions/0011
MAX_SUBMITTED_ANGLE = 720
_SS = 2  # drawn at this multiple of the size, then halved
_OUTSIDE = (128, 128, 128)

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
_PLOT: Spec = (0.0, 0.15, 0.1, 0.45, 0.35, 0.75)  # soil, brick or paving, seen from above
_MOOD_WEIGHTS = ((6, 1, 0, 1, 1, 2), (4, 2, 1, 2, 2, 2), (3, 2, 2, 2, 2, 2), (2, 2, 2, 2, 2, 1),
                 (2, 2, 3, 2, 3, 1))  # fmt: skip


@dataclass(frozen=True, slots=True)
class RotateParams:
    """`size` is the disc's diameter in px; the answer lies in [min_angle, 360 - min_angle];
    `level` 0..4 adds what misleads machines (steeper hillsides, more rows and streaks at random
    angles, moods with a bright ground) without hiding up from people; WebP `quality`;
    `scatter`: upright things on ground seen from above (the default) rather than a landscape."""

    size: int = 200
    min_angle: int = 20
    tolerance: int = DEFAULT_TOLERANCE
    level: int = 2
    quality: int = 80
    scatter: bool = True

    def __post_init__(self) -> None:
        check_integers(self, ("size", 96, 512), ("min_angle", 0, 150), ("tolerance", 1, 45),
                       ("level", 0, 4), ("quality", 30, 95))  # fmt: skip


def _balanced(rng: random.Random, pal: list[Colour]) -> tuple[Colour, ...]:
    """Each channel of the ground moved halfway to the sky's, times a random factor around 1
    (all dimmed if that overflows): which half is brighter or bluer says little about up."""
    sky, ground = np.add(pal[0], pal[1]) / 2 + 1, np.add(pal[2], pal[3]) / 2 + 1
    gain = np.sqrt(sky / ground) * math.exp(rng.uniform(-0.5, 0.5))
    near, far = np.multiply(pal[2], gain), np.multiply(pal[3], gain)
    dim = min(1.0, 255 / max(near.max(), far.max()))
    return scale(pal[0], dim), scale(pal[1], dim), scale(near, dim), scale(far, dim)


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


def _backdrop(rng: random.Random, w: int, mood: str, level: int, open_ground: bool) -> Scene:
    """Sky lighter towards the sun over rolling, sloping ground lit across at a random angle, or
    (`open_ground`) ground only; computed at half size (it is smooth) and scaled up."""
    pal = _balanced(rng, [hsv(rng, spec) for spec in _MOODS[mood]])
    tilt = math.tan(math.radians(rng.choice((-1, 1)) * rng.uniform(4 + 2 * level, 8 + 5 * level)))
    xs = np.arange(w, dtype=np.float32) - w / 2
    horizon = w * rng.uniform(0.4, 0.58) + tilt * xs
    for _ in range(3):  # rolling hills
        amp = rng.uniform(0.2, 1.0) * w * rng.uniform(0.03, 0.05 + 0.015 * level)
        cycles = 2 * math.pi / w / rng.uniform(0.25, 1.2)
        horizon += amp * np.sin(xs * cycles + rng.uniform(0, 6.3))
    sun = (rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.8) * float(horizon.min()))
    if open_ground:
        horizon = np.full(w, -1.0, np.float32)
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
    return Scene(rng, img, horizon, sun, mood in ("dusk", "night"), level)


def _sky_things(sc: Scene, mood: str) -> None:
    """Stars at night, a sun or moon, clouds with a flat base and shaded (at dusk lit) under."""
    rng, draw, w, top = sc.rng, ImageDraw.Draw(sc.img), sc.img.width, float(sc.horizon.min())
    for _ in range(rng.randint(20, 50) if mood == "night" else 0):
        x, y, r = rng.uniform(0, w), rng.uniform(0, top), rng.uniform(0.6, 1.6)
        disc(draw, x, y, r, (230, 230, 240))
    if mood != "overcast":
        moon = (250, 248, 225) if sc.dark else (255, 236, 160)
        disc(draw, *sc.sun, w * rng.uniform(0.035, 0.06), moon)
    lit = hsv(rng, (0.0, 1.0, 0.0, 0.15, 0.85, 1.0))
    under = scale(lit, 1.15 if mood == "dusk" else rng.uniform(0.7, 0.85))
    for _ in range(rng.randint(1, 4)):
        x, y, r = rng.uniform(0, w), rng.uniform(0.1, 0.85) * top, w * rng.uniform(0.05, 0.1)
        puffs = [(x + rng.uniform(-1.8, 1.8) * r, rng.uniform(0.5, 1.0) * r) for _ in range(5)]
        for px, pr in puffs:
            draw.ellipse((px - pr, y - 1.6 * pr, px + pr, y), fill=under)
        for px, pr in puffs:
            draw.ellipse((px - 0.9 * pr, y - 1.75 * pr, px + 0.9 * pr, y - 0.3 * pr), fill=lit)


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


def _plots(sc: Scene) -> None:
    """Straight-edged things with no up, at any angle: a path or two across the ground and
    paved plots or beds, so that the longest straight edges and the four-fold orientation of
    walls (what line and orientation heuristics read) point anywhere."""
    rng, w = sc.rng, sc.img.width
    draw = ImageDraw.Draw(sc.img)
    for k in range(rng.randint(3, 5)):
        path = k < rng.randint(1, 2)
        long, wide = (rng.uniform(0.5, 0.9), rng.uniform(0.03, 0.05)) if path else (
            rng.uniform(0.1, 0.2), rng.uniform(0.06, 0.12))  # fmt: skip
        x, y, turn = (
            rng.uniform(0.25, 0.75) * w,
            rng.uniform(0.25, 0.75) * w,
            rng.uniform(0, math.pi),
        )
        u, v = (math.cos(turn), math.sin(turn)), (-math.sin(turn), math.cos(turn))
        corners = [(x + (su * long * u[0] + sv * wide * v[0]) * w / 2,
                    y + (su * long * u[1] + sv * wide * v[1]) * w / 2)
                   for su, sv in ((-1, -1), (1, -1), (1, 1), (-1, 1))]  # fmt: skip
        fill = sc.tone((0.05, 0.12, 0.1, 0.35, 0.5, 0.8) if path else _PLOT, 0.7)
        draw.polygon(corners, fill=fill, outline=scale(fill, 0.75), width=2)


def _upright(rng: random.Random, params: RotateParams) -> tuple[int, Image.Image]:
    """The answer and the upright scene at _SS x the size, band-limited so that bicubic turning
    blurs alike at every angle (no angle leak)."""
    angle = rng.randint(params.min_angle, 360 - params.min_angle)
    mood = rng.choices(list(_MOODS), weights=_MOOD_WEIGHTS[params.level])[0]
    scene = _backdrop(rng, params.size * _SS, mood, params.level, params.scatter)
    if params.scatter:
        _plots(scene)
        clutter(scene)
    else:
        _sky_things(scene, mood)
        lines(scene, ImageDraw.Draw(scene.img))
    objects(scene, params.scatter)
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
    [-720, 720]) is within `tolerance` (default 6) of the answer around the circle.
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
