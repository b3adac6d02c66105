"""Slide-challenge generation speed against a plain-Pillow reference, in the same run.

The reference is the straightforward way to build a jigsaw slider with Pillow alone: a full-size
gradient drawn line by line, random ImageDraw shapes, a GaussianBlur, a jigsaw mask cut with
ImageDraw, the hole darkened through that mask, the background saved as WebP (quality 80) and the
piece as PNG, both as base64 data URLs. Both generators run in this one process (one core),
interleaved in short blocks so drift hits both alike. Quality is compared on a sample outside the
timed loop: encoded bytes, PSNR of the served background against the pixels handed to the encoder,
and a sharpness figure (mean absolute Laplacian of the decoded background's luma). A usability
proxy closes the report: how much of the piece's outline a person must see differ to reject a
decoy (each decoy is the piece's near twin: one knob turned into a socket or back).

Run: `.venv/bin/python -m bench.slide_generation [--seconds 8]`.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import math
import random
import statistics
import time
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from bench._machine import print_facts
from humangate.challenges import _imaging, _jigsaw
from humangate.challenges.slide import SlideParams, generate_slide

WIDTH, HEIGHT = 320, 160
BLOCK = 20
WEBP_ROW = "humangate canvas as WebP q80 (n/t)"


def _colour(rng: random.Random) -> tuple[int, int, int]:
    return rng.randrange(256), rng.randrange(256), rng.randrange(256)


def _reference_mask(rng: random.Random, size: int, knob: int) -> Image.Image:
    """A jigsaw mask: a square with a knob (drawn) or a socket (erased) on each side."""
    full = size + 2 * knob
    mask = Image.new("L", (full, full), 0)
    draw = ImageDraw.Draw(mask)
    draw.rectangle((knob, knob, knob + size - 1, knob + size - 1), fill=255)
    mid = knob + size // 2
    centres = ((mid, knob), (knob + size, mid), (mid, knob + size), (knob, mid))
    for cx, cy in centres:
        out = rng.random() < 0.5
        r = knob if out else knob - 2
        dx, dy = (cx - mid, cy - mid)
        shift = 0.4 * knob if out else -0.6 * knob
        cx += int(shift * (dx > 0) - shift * (dx < 0))
        cy += int(shift * (dy > 0) - shift * (dy < 0))
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=255 if out else 0)
    return mask


def reference_challenge(rng: random.Random) -> tuple[dict, dict, Image.Image]:
    """(payload, answer, background before encoding) the plain-Pillow way."""
    background = Image.new("RGB", (WIDTH, HEIGHT))
    draw = ImageDraw.Draw(background)
    top, bottom = _colour(rng), _colour(rng)
    for y in range(HEIGHT):
        t = y / (HEIGHT - 1)
        colour = tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        draw.line([(0, y), (WIDTH, y)], fill=colour)
    for _ in range(rng.randint(8, 14)):
        x, y = rng.randrange(WIDTH), rng.randrange(HEIGHT)
        w, h = rng.randint(20, 120), rng.randint(20, 90)
        box = (x - w // 2, y - h // 2, x + w // 2, y + h // 2)
        kind = rng.random()
        if kind < 0.5:
            draw.ellipse(box, fill=_colour(rng))
        elif kind < 0.8:
            draw.rectangle(box, fill=_colour(rng))
        else:
            points = [(rng.randrange(WIDTH), rng.randrange(HEIGHT)) for _ in range(3)]
            draw.polygon(points, fill=_colour(rng))
    background = background.filter(ImageFilter.GaussianBlur(2))
    mask = _reference_mask(rng, 40, 9)
    size = mask.width
    x = rng.randint(70, WIDTH - size - 4)
    y = rng.randint(4, HEIGHT - size - 4)
    box = (x, y, x + size, y + size)
    piece = background.crop(box)
    piece.putalpha(mask)
    darker = Image.blend(background.crop(box), Image.new("RGB", (size, size)), 0.5)
    background.paste(darker, (x, y), mask)
    bg_out, piece_out = io.BytesIO(), io.BytesIO()
    background.save(bg_out, format="WEBP", quality=80)
    piece.save(piece_out, format="PNG")
    payload = {
        "width": WIDTH,
        "height": HEIGHT,
        "background": "data:image/webp;base64," + base64.b64encode(bg_out.getvalue()).decode(),
        "piece": "data:image/png;base64," + base64.b64encode(piece_out.getvalue()).decode(),
        "piece_width": size,
        "piece_height": size,
        "piece_y": y,
    }
    return payload, {"x": x}, background


def reference(rng: random.Random) -> dict:
    return reference_challenge(rng)[0]


def humangate(rng: random.Random) -> dict:
    return generate_slide(rng, SlideParams()).payload


def timed(generators: dict[str, Callable[[random.Random], dict]], seconds: float) -> dict:
    """Per-challenge (CPU s, wall s) of each generator, interleaved in blocks of BLOCK.

    CPU time (time.process_time) is what one core spends, so other jobs on the machine do not
    count against either generator; wall time is kept to show the difference."""
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in generators}
    for make in generators.values():  # warm-up: imports, caches, encoder setup
        for seed in range(5):
            make(random.Random(-1 - seed))
    deadline = time.perf_counter() + seconds * len(generators)
    seed = 0
    while time.perf_counter() < deadline:
        for name, make in generators.items():
            for _ in range(BLOCK):
                rng = random.Random(seed)
                seed += 1
                cpu, wall = time.process_time(), time.perf_counter()
                make(rng)
                samples[name].append((time.process_time() - cpu, time.perf_counter() - wall))
    return samples


def _decoded(data_url: str) -> tuple[int, np.ndarray]:
    raw = base64.b64decode(data_url.split(",", 1)[1])
    return len(raw), np.asarray(Image.open(io.BytesIO(raw)).convert("RGB"), dtype=np.float64)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a - b) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


def _sharpness(rgb: np.ndarray) -> float:
    luma = rgb @ np.array([0.299, 0.587, 0.114])
    lap = 4 * luma[1:-1, 1:-1] - luma[:-2, 1:-1] - luma[2:, 1:-1] - luma[1:-1, :-2] - luma[1:-1, 2:]
    return float(np.mean(np.abs(lap)))


def quality(n: int) -> dict[str, dict[str, float]]:
    """Bytes, encode PSNR and sharpness over `n` challenges of each generator, plus humangate's
    own canvases put through the reference's encoder (WebP q80), to judge the encoder choice."""
    canvases: list[Image.Image] = []
    encode_jpeg = _imaging.encode_jpeg

    def capture(rgb: Image.Image, q: int) -> bytes:
        canvases.append(rgb.copy())
        return encode_jpeg(rgb, q)

    rows: dict[str, list[tuple[float, ...]]] = {"reference": [], "humangate": [], WEBP_ROW: []}
    _imaging.encode_jpeg = capture  # record the pixels handed to the encoder
    try:
        for seed in range(n):
            payload, _, raw = reference_challenge(random.Random(10_000 + seed))
            rows["reference"].append(_measure(payload, raw))
            payload = generate_slide(random.Random(10_000 + seed), SlideParams()).payload
            canvas = canvases.pop()
            rows["humangate"].append(_measure(payload, canvas))
            out = io.BytesIO()
            canvas.save(out, format="WEBP", quality=80)
            as_webp = dict(payload, background="data:image/webp;base64," + _b64(out.getvalue()))
            rows[WEBP_ROW].append(_measure(as_webp, canvas))
    finally:
        _imaging.encode_jpeg = encode_jpeg
    keys = ("bytes", "background bytes", "piece bytes", "json", "PSNR dB", "sharpness")
    return {name: dict(zip(keys, np.mean(v, axis=0), strict=True)) for name, v in rows.items()}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _measure(payload: dict, raw: Image.Image) -> tuple[float, ...]:
    bg_bytes, decoded = _decoded(payload["background"])
    piece_bytes = len(base64.b64decode(payload["piece"].split(",", 1)[1]))
    psnr = _psnr(decoded, np.asarray(raw, dtype=np.float64))
    total = bg_bytes + piece_bytes
    return total, bg_bytes, piece_bytes, len(json.dumps(payload)), psnr, _sharpness(decoded)


def report(samples: dict[str, list[tuple[float, float]]], qual: dict[str, dict]) -> float:
    print(f"\n{'generator':11} {'n':>6} {'chal/s/core':>12} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'wall/s':>7}")  # fmt: skip
    rates = {}
    for name, pairs in samples.items():
        cpu = sorted(c for c, _ in pairs)
        rates[name] = len(cpu) / sum(cpu)
        wall_rate = len(pairs) / sum(w for _, w in pairs)
        p99 = cpu[min(len(cpu) - 1, int(0.99 * len(cpu)))]
        print(f"{name:11} {len(cpu):6d} {rates[name]:12.1f} {statistics.median(cpu) * 1e3:7.2f} "
              f"{p99 * 1e3:7.2f} {wall_rate:7.1f}")  # fmt: skip
    print("(chal/s/core, p50, p99: CPU time of this one process; wall/s: wall-clock rate)")
    print(f"\n{'mean per challenge':34} {'bytes':>6} {'bg':>6} {'piece':>6} {'JSON':>6} "
          f"{'PSNR dB':>8} {'sharp':>6}")  # fmt: skip
    for name, q in qual.items():
        print(f"{name:34} {q['bytes']:6.0f} {q['background bytes']:6.0f} {q['piece bytes']:6.0f} "
              f"{q['json']:6.0f} {q['PSNR dB']:8.2f} {q['sharpness']:6.2f}")  # fmt: skip
    print("(bytes: encoded images; JSON: the payload; PSNR: served background vs the pixels")
    print(" handed to its encoder; sharp: mean |Laplacian| of the served background's luma)")
    ratio = rates["humangate"] / rates["reference"]
    print(f"\nspeed ratio humangate / reference (CPU): {ratio:.2f}x  (target >= 2.0)")
    return ratio


def twin_difference(n: int, piece_size: int = 30, decoys: int = 2) -> np.ndarray:
    """A usability proxy: for `n` pieces, the least share of the piece's area that differs from
    any decoy's outline (symmetric difference, outlines laid over each other at the same body).
    That share is the bump or bite a person must spot; every decoy differs by one knob turned
    inside out, never by a knob's place or size alone."""
    rng = random.Random(31)
    step = 0.25
    grid = np.arange(-piece_size, 2 * piece_size, step, dtype=np.float32)
    xs, ys = grid[None, :], grid[:, None]
    least = np.empty(n)
    for i in range(n):
        piece, *twins = _jigsaw.shapes(rng, piece_size, decoys)
        inside = piece.sdf(xs, ys) < 0
        least[i] = min(float(np.mean(inside != (t.sdf(xs, ys) < 0))) for t in twins)
        least[i] /= float(np.mean(inside))
    return least


def report_twins(least: np.ndarray, piece_size: int = 30) -> None:
    area = piece_size * piece_size
    print(f"\nusability proxy over {len(least)} pieces ({piece_size} px body, two decoys): the "
          "least share of the piece's area a decoy differs by")  # fmt: skip
    print(f"  min {least.min():.1%}  p5 {np.percentile(least, 5):.1%}  median "
          f"{np.median(least):.1%}  (~{np.median(least) * area:.0f} px at the piece's size; "
          "one knob is ~" f"{math.pi * (0.205 * piece_size) ** 2:.0f} px)")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="timed seconds per generator")
    parser.add_argument("--quality-n", type=int, default=40, help="challenges for quality figures")
    args = parser.parse_args(argv)
    print_facts()
    print(f"   image: {WIDTH}x{HEIGHT}; one process; {args.seconds:g} s of each, interleaved")
    samples = timed({"reference": reference, "humangate": humangate}, args.seconds)
    ratio = report(samples, quality(args.quality_n))
    report_twins(twin_difference(args.quality_n * 5))
    if ratio < 2.0:
        raise SystemExit("FAIL: humangate is less than 2x the plain-Pillow reference")


if __name__ == "__main__":
    main()
