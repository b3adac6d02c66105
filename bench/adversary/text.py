"""Public OCR solvers against the `text` challenge; prints each one's success rate.

Success means `check_text` passes the solver's reading (case and whitespace ignored). Solvers see
only the payload's JPEG. "chars" is the share of characters read right in place, over readings
of the right length, to show how close each solver gets. Run:
`.venv/bin/python -m bench.adversary.text --n 300 [--level 2]`.
"""

from __future__ import annotations

import argparse
import base64
import io
import random
import shutil
import time
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageFilter

from bench.adversary.slide import wilson
from humangate.challenges.text import TextParams, check_text, generate_text

Solver = Callable[[bytes], str]


def decode(data_url: str) -> bytes:
    return base64.b64decode(data_url.split(",", 1)[1])


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def otsu(grey: np.ndarray) -> int:
    hist = np.bincount(grey.ravel(), minlength=256).astype(np.float64)
    levels = np.arange(256)
    weight = np.cumsum(hist)
    mean = np.cumsum(hist * levels)
    total, total_mean = weight[-1], mean[-1]
    between = (total_mean * weight - mean * total) ** 2 / (weight * (total - weight) + 1e-9)
    return int(np.argmax(between))


def binarise(data: bytes) -> bytes:
    """Otsu on grey, then a 3x3 median: dark text on white."""
    grey = np.asarray(Image.open(io.BytesIO(data)).convert("L"))
    bw = Image.fromarray(np.where(grey > otsu(grey), 255, 0).astype(np.uint8))
    return _png(bw.filter(ImageFilter.MedianFilter(3)))


def ink_distance(data: bytes) -> bytes:
    """Distance from the paper colour (the image's median), Otsu-thresholded, median-filtered:
    keeps dark ink and drops the faint scribbles whatever their hue."""
    rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.float32)
    paper = np.median(rgb.reshape(-1, 3), axis=0)
    dist = np.linalg.norm(rgb - paper, axis=2)
    dist = (dist * (255.0 / max(1.0, float(dist.max())))).astype(np.uint8)
    bw = Image.fromarray(np.where(dist > otsu(dist), 0, 255).astype(np.uint8))
    return _png(bw.filter(ImageFilter.MedianFilter(3)))


def blurred(data: bytes, radius: float = 1.2) -> bytes:
    """A Gaussian blur: melts fine hatching into flat ink."""
    return _png(Image.open(io.BytesIO(data)).filter(ImageFilter.GaussianBlur(radius)))


def constrained(engine: object, alphabet: str) -> Solver:
    """Greedy CTC decoding over the alphabet only (both cases summed) plus the blank, from the
    model's per-step probabilities: stronger than ddddocr's set_ranges, which only drops
    characters from the unconstrained reading."""
    charset = engine.ocr_engine.charset_manager.get_charset()
    groups = [
        (char, [i for i, c in enumerate(charset) if c in (char.upper(), char.lower())])
        for char in dict.fromkeys(alphabet.upper())
    ]
    groups = [(char, idx) for char, idx in groups if idx]

    def read(data: bytes) -> str:
        out = engine.classification(data, probability=True)
        probs = np.asarray(out["probabilities"], dtype=np.float32)
        probs = probs.reshape(-1, probs.shape[-1])
        columns = [probs[:, 0]] + [probs[:, idx].sum(axis=1) for _, idx in groups]
        best = np.argmax(np.stack(columns, axis=1), axis=1)
        text, previous = [], 0
        for k in best:
            if k not in (0, previous):
                text.append(groups[k - 1][0])
            previous = k
        return "".join(text)

    return read


def ddddocr_solvers(alphabet: str) -> dict[str, Solver]:
    try:
        import ddddocr
    except ImportError:
        return {}
    default = ddddocr.DdddOcr(show_ad=False)
    beta = ddddocr.DdddOcr(show_ad=False, beta=True)
    ranged = ddddocr.DdddOcr(show_ad=False, beta=True)
    ranged.set_ranges(alphabet.upper() + alphabet.lower())
    c_default, c_beta = constrained(default, alphabet), constrained(beta, alphabet)
    return {
        "ddddocr default": default.classification,
        "ddddocr beta": beta.classification,
        "ddddocr beta, set_ranges(alphabet)": ranged.classification,
        "ddddocr default after Otsu+median": lambda d: default.classification(binarise(d)),
        "ddddocr beta after Otsu+median": lambda d: beta.classification(binarise(d)),
        "adaptive: default, alphabet CTC": c_default,
        "adaptive: beta, alphabet CTC": c_beta,
        "adaptive: beta, alphabet CTC, blur": lambda d: c_beta(blurred(d)),
        "adaptive: beta, alphabet CTC, Otsu": lambda d: c_beta(binarise(d)),
        "adaptive: beta, alphabet CTC, ink-dist": lambda d: c_beta(ink_distance(d)),
    }


def tesseract_solvers(alphabet: str) -> dict[str, Solver]:
    if shutil.which("tesseract") is None:
        return {}
    try:
        import pytesseract
    except ImportError:
        return {}
    config = f"--psm 7 -c tessedit_char_whitelist={alphabet}"

    def read(data: bytes) -> str:
        return pytesseract.image_to_string(Image.open(io.BytesIO(data)), config=config)

    return {
        "tesseract psm7 whitelist": read,
        "tesseract psm7 whitelist, Otsu": lambda d: read(binarise(d)),
    }


def _chars_right(guess: str, truth: str) -> tuple[int, int]:
    guess = "".join(guess.split()).upper()
    if len(guess) != len(truth):
        return 0, 0
    return sum(a == b for a, b in zip(guess, truth, strict=True)), len(truth)


def run(n: int, seed: int, params: TextParams) -> None:
    table = ddddocr_solvers(params.alphabet) | tesseract_solvers(params.alphabet)
    wins = dict.fromkeys(table, 0)
    chars = {name: [0, 0] for name in table}
    spent = dict.fromkeys(table, 0.0)
    errors = dict.fromkeys(table, 0)
    sizes = []
    for i in range(n):
        challenge = generate_text(random.Random(seed * 1_000_003 + i), params)
        data = decode(challenge.payload["image"])
        sizes.append(len(data))
        truth = challenge.answer["text"]
        for name, solve in table.items():
            start = time.perf_counter()
            try:
                guess = solve(data)
            except Exception:  # a crashing solver just fails that challenge
                guess, errors[name] = "", errors[name] + 1
            spent[name] += time.perf_counter() - start
            wins[name] += check_text(challenge.answer, guess).passed
            right, total = _chars_right(guess, truth)
            chars[name][0] += right
            chars[name][1] += total
    print(f"text adversary: n={n} seed={seed} level={params.level} length={params.length} "
          f"alphabet={params.alphabet} ({len(params.alphabet)}) "
          f"image bytes mean={np.mean(sizes):.0f}")  # fmt: skip
    print(f"{'solver':40} {'success':>8} {'95% Wilson CI':>16} {'chars':>6} {'ms/each':>8}")
    for name in table:
        lo, hi = wilson(wins[name], n)
        right, total = chars[name]
        share = f"{right / total:.0%}" if total else "-"
        note = f"  ({errors[name]} errors)" if errors[name] else ""
        print(f"{name:40} {wins[name] / n:8.1%} {f'[{lo:.1%}, {hi:.1%}]':>16} {share:>6} "
              f"{spent[name] / n * 1e3:8.1f}{note}")  # fmt: skip
    if not table:
        print("no solver available: install ddddocr (and tesseract-ocr + pytesseract)")
    elif not tesseract_solvers(params.alphabet):
        print("tesseract: not installed, skipped")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="challenges to attack")
    parser.add_argument("--seed", type=int, default=2024, help="seed of the challenge stream")
    parser.add_argument("--level", type=int, default=TextParams().level, help="0..4")
    args = parser.parse_args(argv)
    run(args.n, args.seed, TextParams(level=args.level))


if __name__ == "__main__":
    main()
