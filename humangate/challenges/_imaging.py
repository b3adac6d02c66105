"""Private image helpers for the `slide` challenge: procedural backgrounds and lean encoders.

Everything here is pure: randomness comes only from the `random.Random` and the NumPy generator
handed in (the caller derives the latter from the former). The background is built in a palette
index space: multi-scale value noise at a quarter of the final resolution with soft blobs drawn
at that scale, a bicubic upscale to half resolution with a few crisper shapes, a bilinear upscale
to full size and a film grain. Holes are drawn in that index space too, and a single palette
lookup turns it all into RGB at the end. That keeps the whole challenge within a few
milliseconds.
"""

from __future__ import annotations

import base64
import colorsys
import io
import math
import random
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

Array = np.ndarray

# (rows, cols) of each value-noise octave and its weight; coarse to fine.
_OCTAVES = ((2, 3, 1.0), (3, 5, 0.7), (5, 9, 0.45), (9, 17, 0.25), (17, 33, 0.12))
_LOW_RES_DIVISOR = 4
_INDEX_SPAN = 248  # palette indices used by the field; the grain adds up to _GRAIN on top
_GRAIN = 7


def numpy_generator(rng: random.Random) -> np.random.Generator:
    """A NumPy generator seeded from `rng`, so array noise is as reproducible as `rng` itself."""
    return np.random.Generator(np.random.PCG64(rng.getrandbits(128)))


@lru_cache(maxsize=64)
def _interp_matrix(n_out: int, n_in: int) -> Array:
    """A (n_out, n_in) matrix that resamples a vector with smoothstep-weighted interpolation."""
    pos = (np.arange(n_out, dtype=np.float64) + 0.5) * (n_in - 1) / n_out
    lo = np.minimum(np.floor(pos).astype(np.intp), n_in - 2)
    frac = pos - lo
    frac = frac * frac * (3.0 - 2.0 * frac)
    out = np.zeros((n_out, n_in), dtype=np.float32)
    rows = np.arange(n_out)
    out[rows, lo] = 1.0 - frac
    out[rows, lo + 1] = frac
    out.setflags(write=False)
    return out


def value_noise(gen: np.random.Generator, rows: int, cols: int) -> Array:
    """Fractal value noise in [0, 1] of shape (rows, cols), float32."""
    field = np.zeros((rows, cols), dtype=np.float32)
    for grid_r, grid_c, weight in _OCTAVES:
        grid = gen.random((grid_r, grid_c), dtype=np.float32)
        field += weight * (_interp_matrix(rows, grid_r) @ grid @ _interp_matrix(cols, grid_c).T)
    field -= field.min()
    field *= 1.0 / max(float(field.max()), 1e-6)
    return field


@lru_cache(maxsize=8)
def _ramp_segments(n_stops: int) -> tuple[Array, Array]:
    """For each of 256 palette entries: the colour stop it starts from and how far past it."""
    pos = np.arange(256, dtype=np.float32) * ((n_stops - 1) / 255.0)
    first = np.minimum(pos.astype(np.intp), n_stops - 2)
    frac = (pos - first)[:, None]
    first.setflags(write=False)
    frac.setflags(write=False)
    return first, frac


def random_palette(rng: random.Random) -> Array:
    """A (256, 3) uint8 palette through 4-5 related colours, dark to light."""
    hue = rng.random()
    spread = rng.choice((-1, 1)) * rng.uniform(0.04, 0.16)
    n_stops = rng.randint(4, 5)
    stops = []
    for i in range(n_stops):
        h = (hue + spread * i + (0.5 if rng.random() < 0.15 else 0.0)) % 1.0
        v = min(0.97, 0.22 + 0.7 * i / (n_stops - 1) + rng.uniform(-0.08, 0.08))
        stops.append(colorsys.hsv_to_rgb(h, rng.uniform(0.25, 0.7), v))
    colours = np.array(stops, dtype=np.float32) * 255.0
    first, frac = _ramp_segments(n_stops)
    lut = colours[first] * (1.0 - frac) + colours[first + 1] * frac
    rounded: np.ndarray = (lut + 0.5).astype(np.uint8)
    return rounded


def _draw_blobs(img: Image.Image, rng: random.Random, count: int, crisp: bool) -> None:
    """Draw `count` random ellipses, rounded boxes and triangles with random palette indices."""
    draw = ImageDraw.Draw(img)
    w, h = img.size
    for _ in range(count):
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        rx = rng.uniform(0.03, 0.14 if crisp else 0.22) * w
        ry = rx * rng.uniform(0.5, 1.6)
        box = (cx - rx, cy - ry, cx + rx, cy + ry)
        fill = rng.randrange(_INDEX_SPAN)
        kind = rng.random()
        if kind < 0.5:
            draw.ellipse(box, fill=fill)
        elif kind < 0.75:
            draw.rounded_rectangle(box, radius=min(rx, ry) * 0.4, fill=fill)
        else:
            pts = [(cx + rx * rng.uniform(-1, 1), cy + ry * rng.uniform(-1, 1)) for _ in range(3)]
            draw.polygon(pts, fill=fill)


def render_background(
    rng: random.Random, gen: np.random.Generator, width: int, height: int
) -> tuple[Array, Array]:
    """A fresh natural-looking background: an (height, width) uint8 array of palette indices
    and its (256, 3) uint8 palette; see `to_rgb`."""
    low_w = max(8, width // _LOW_RES_DIVISOR)
    low_h = max(8, height // _LOW_RES_DIVISOR)
    field = value_noise(gen, low_h, low_w)
    index = Image.fromarray((field * (_INDEX_SPAN - 1)).astype(np.uint8))
    _draw_blobs(index, rng, rng.randint(3, 6), crisp=False)
    half = index.resize((width // 2, height // 2), Image.Resampling.BICUBIC)
    _draw_blobs(half, rng, rng.randint(2, 5), crisp=True)
    half = half.filter(ImageFilter.BoxBlur(0.6))  # anti-alias the shapes' stair steps
    full = np.asarray(half.resize((width, height), Image.Resampling.BILINEAR))
    grain = np.frombuffer(gen.bytes(width * height), dtype=np.uint8).reshape(height, width)
    # Bicubic overshoots: clamp before the grain so indices never wrap past 255.
    indices = np.minimum(full, _INDEX_SPAN - 1) + (grain & _GRAIN)
    return indices, random_palette(rng)


def to_rgb(index: Array, palette: Array) -> Image.Image:
    """The index array coloured through `palette` (one C lookup per pixel)."""
    paletted = Image.fromarray(index)
    paletted.putpalette(palette.tobytes())  # turns the "L" image into a "P" one
    return paletted.convert("RGB")


def noise(gen: np.random.Generator, h: int, w: int, amplitude: int) -> Array:
    """Cheap uniform noise in [-amplitude, amplitude], (h, w) float32; amplitude + 1 must be a
    power of two."""
    raw = np.frombuffer(gen.bytes(h * w), dtype=np.uint8).reshape(h, w) & (2 * amplitude + 1)
    return raw.astype(np.float32) - amplitude


def foreign(source: np.ndarray, rng: random.Random, w: int, h: int) -> np.ndarray:
    """A w x h patch of `source` (a view) from a random place, turned half a turn."""
    sx, sy = rng.randrange(source.shape[1] - w + 1), rng.randrange(source.shape[0] - h + 1)
    return source[
        sy + h - 1 : sy - 1 if sy else None : -1, sx + w - 1 : sx - 1 if sx else None : -1
    ]


def channel_mean(image: np.ndarray) -> np.ndarray:
    """Mean over the first two axes (two 1-axis sums: far faster than axis=(0, 1))."""
    sums: np.ndarray = image.sum(axis=0, dtype=np.float64).sum(axis=0)
    return sums / max(1, len(image) * len(image[0]))


def tilt(h: int, w: int, angle: float, slope: float) -> np.ndarray:
    """An (h, w) linear ramp through zero at the centre, rising `slope` per pixel at `angle`."""
    ys = (np.arange(h, dtype=np.float32) - h / 2)[:, None] * np.float32(slope * math.sin(angle))
    xs = (np.arange(w, dtype=np.float32) - w / 2)[None, :] * np.float32(slope * math.cos(angle))
    return xs + ys


def inner_ring(alpha: Array, width: int = 2) -> Array:
    """The outermost `width` px of an alpha mask's opaque part: alpha minus its erosion by a
    4-neighbour minimum, `width` times (the mask must be transparent on its border)."""
    eroded = alpha.astype(np.float32)
    for _ in range(width):
        step = eroded.copy()
        np.minimum(step[1:], eroded[:-1], out=step[1:])
        np.minimum(step[:-1], eroded[1:], out=step[:-1])
        np.minimum(step[:, 1:], eroded[:, :-1], out=step[:, 1:])
        np.minimum(step[:, :-1], eroded[:, 1:], out=step[:, :-1])
        eroded = step
    return alpha - eroded


def _data_url(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def encode_jpeg(image: Image.Image, quality: int) -> bytes:
    """Baseline JPEG, no EXIF/ICC/comment (Pillow writes only the JFIF header)."""
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def encode_webp_rgba(rgba: Array) -> bytes:
    """Lossless WebP at the fastest setting (about twice as quick as lossy with alpha here), no
    EXIF/XMP/ICC chunks; `exact` keeps the colour we chose under transparent pixels."""
    out = io.BytesIO()
    Image.fromarray(rgba).save(out, format="WEBP", lossless=True, quality=0, method=0, exact=True)
    return out.getvalue()


def jpeg_data_url(data: bytes) -> str:
    return _data_url("image/jpeg", data)


def webp_data_url(data: bytes) -> str:
    return _data_url("image/webp", data)
