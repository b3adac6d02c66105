"""Public OCR solvers against the `text` challenge; prints each one's success rate.

Success means `check_text` passes the solver's reading (case and whitespace ignored). Solvers see
only the payload's JPEG. "chars" is the share of characters read right in place, over readings
of the right length, to show how close each solver gets. Beyond the public readers, two adaptive
ones know the open generator: ddddocr reading each letter alone between the paper's light and
dark bands, and a reader trained only on `--train` challenges generated locally (another seed
stream; what anyone with the source can do). Run:
`.venv/bin/python -m bench.adversary.text --n 300 [--level 2] [--train 600]`.
"""

from __future__ import annotations

import argparse
import base64
import io
import math
import random
import shutil
import time
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageFilter

try:
    import cv2
except ImportError:  # pragma: no cover - the `bench` extra provides it
    cv2 = None

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


# --- an attacker that learns from the open generator ------------------------------------------


def ink_map(rgb: np.ndarray) -> np.ndarray:
    """How far each pixel is from the paper behind it, 0..1, blurred so that hatched strokes read
    as solid: the paper of a column is its median colour (letters take less than half of a
    column), so negative bands read like the rest."""
    rgb = rgb.astype(np.float32)
    paper = np.median(rgb, axis=0, keepdims=True)
    dist = cv2.GaussianBlur(np.linalg.norm(rgb - paper, axis=2), (7, 7), 1.6)  # fills hatching
    return dist / max(1.0, float(np.percentile(dist, 99)))


def band_edges(rgb: np.ndarray) -> list[float]:
    """Where the paper turns from light to dark or back across the picture (the generator cuts
    between letters): columns whose median brightness crosses the midpoint of the extremes."""
    luma = np.median(rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32), axis=0)
    luma = np.convolve(luma, np.ones(5) / 5, mode="same")[2:-2]
    mid = (np.percentile(luma, 5) + np.percentile(luma, 95)) / 2
    light = luma > mid
    if np.percentile(luma, 95) - np.percentile(luma, 5) < 40:
        return []
    flips = np.flatnonzero(light[1:] != light[:-1])
    return [float(x + 2.5) for x in flips]


def letter_slots(ink: np.ndarray, length: int,
                 bands: list[float] | None = None) -> list[np.ndarray]:  # fmt: skip
    """The word's extent (where most ink lies) cut into `length` slots, at the paper's light and
    dark bands when there is one per gap, else equal; each widened by a quarter on both sides
    (letters overlap), as 32 x 32 crops of the ink map."""
    h, w = ink.shape
    mass = np.cumsum(np.clip(ink - 0.25, 0, None).sum(axis=0))
    x0, x1 = np.searchsorted(mass, [0.02 * mass[-1], 0.98 * mass[-1]])
    step = max(1.0, (x1 - x0) / length)
    edges = [x0 + i * step for i in range(length + 1)]
    if bands is not None and len(bands) == length - 1:
        edges = [float(x0), *bands, float(x1)]
    crops = []
    for i in range(length):
        pad = 0.25 * (edges[i + 1] - edges[i])
        a, b = edges[i] - pad, edges[i + 1] + pad
        lo, hi = max(0, int(a)), min(w, int(math.ceil(b)))
        crop = np.zeros((h, int(math.ceil(b - a)) + 1), np.float32)
        crop[:, lo - int(a) : lo - int(a) + hi - lo] = ink[:, lo:hi]
        crops.append(cv2.resize(crop, (32, 32), interpolation=cv2.INTER_AREA))
    return crops


def letter_features(crop: np.ndarray) -> np.ndarray:
    """Gradient orientation histograms (9 unsigned bins on a 4 x 4 grid) and a 16 x 16 copy."""
    gx = cv2.Sobel(crop, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(crop, cv2.CV_32F, 0, 1)
    mag, ang = np.hypot(gx, gy), np.arctan2(gy, gx) % np.pi
    bins = np.minimum((ang / np.pi * 9).astype(np.int32), 8)
    hist = np.zeros((4, 4, 9), np.float32)
    cells = np.arange(32) // 8
    np.add.at(hist, (cells[:, None], cells[None, :], bins), mag)
    hist /= np.linalg.norm(hist) + 1e-6
    small = cv2.resize(crop, (16, 16), interpolation=cv2.INTER_AREA)
    return np.concatenate([hist.ravel(), small.ravel() - small.mean(), [1.0]])


def _mlp(x: np.ndarray, y: np.ndarray, classes: int, seed: int, epochs: int = 30,
         hidden: int = 256) -> Callable[[np.ndarray], np.ndarray]:  # fmt: skip
    """A one-hidden-layer network trained with Adam on softmax cross-entropy; returns
    features (one row per letter) -> the likeliest class of each row."""
    gen = np.random.default_rng(seed)
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-6
    x = (x - mean) / std
    params = [gen.normal(0, (2 / x.shape[1]) ** 0.5, (x.shape[1], hidden)).astype(np.float32),
              np.zeros(hidden, np.float32),
              gen.normal(0, (2 / hidden) ** 0.5, (hidden, classes)).astype(np.float32),
              np.zeros(classes, np.float32)]  # fmt: skip
    moments = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
    step = 0
    for _ in range(epochs):
        order = gen.permutation(len(x))
        for start in range(0, len(x), 128):
            idx = order[start : start + 128]
            xb, yb = x[idx], y[idx]
            w1, b1, w2, b2 = params
            hid = np.maximum(xb @ w1 + b1, 0)
            logits = hid @ w2 + b2
            p = np.exp(logits - logits.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            p[np.arange(len(yb)), yb] -= 1
            p /= len(yb)
            dhid = (p @ w2.T) * (hid > 0)
            grads = [xb.T @ dhid + 1e-4 * w1, dhid.sum(0), hid.T @ p + 1e-4 * w2, p.sum(0)]
            step += 1
            for param, grad, (m, v) in zip(params, grads, moments, strict=True):
                m *= 0.9
                m += 0.1 * grad
                v *= 0.999
                v += 0.001 * grad * grad
                param -= 1e-3 * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)

    def predict(feats: np.ndarray) -> np.ndarray:
        w1, b1, w2, b2 = params
        logits = np.maximum((feats - mean) / std @ w1 + b1, 0) @ w2 + b2
        return np.argmax(logits, axis=1)

    return predict


def train_reader(count: int, params: TextParams, seed: int = 99,
                 public: bool = True) -> Solver:  # fmt: skip
    """A reader trained only on `count` challenges generated locally from the open generator:
    the word cut into letters at the paper's bands, each letter classified over the alphabet by
    a small network from its gradient histograms and (`public`, when ddddocr is installed) what
    ddddocr believes that letter alone is."""
    alphabet = "".join(sorted(set(params.alphabet.upper())))
    believe: Callable[[np.ndarray], np.ndarray] | None = None
    if public:
        try:
            import ddddocr

            engine = ddddocr.DdddOcr(show_ad=False, beta=True)
            believe = letter_probabilities(engine, alphabet)
        except ImportError:
            pass

    def features(rgb: np.ndarray) -> np.ndarray:
        crops = letter_slots(ink_map(rgb), params.length, band_edges(rgb))
        rows = [letter_features(c) for c in crops]
        if believe is not None:
            rows = [np.concatenate([r, believe(c)]) for r, c in
                    zip(rows, rgb_slots(rgb, params.length), strict=True)]  # fmt: skip
        return np.array(rows, np.float32)

    rows, labels = [], []
    for i in range(count):
        challenge = generate_text(random.Random(seed * 7_919 + i), params)
        data = decode(challenge.payload["image"])
        rows.append(features(np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))))
        labels.extend(alphabet.index(char) for char in challenge.answer["text"])
    predict = _mlp(np.concatenate(rows), np.array(labels), len(alphabet), seed)

    def read(data: bytes) -> str:
        rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        return "".join(alphabet[k] for k in predict(features(rgb)))

    return read


def letter_probabilities(engine: object, alphabet: str) -> Callable[[np.ndarray], np.ndarray]:
    """ddddocr's belief over `alphabet` (both cases summed, every step but the blank) for one
    letter's RGB crop: what the public model thinks one letter is."""
    charset = engine.ocr_engine.charset_manager.get_charset()
    groups = [[i for i, c in enumerate(charset) if c in (ch, ch.lower())] for ch in alphabet]

    def probs(crop: np.ndarray) -> np.ndarray:
        out = engine.classification(_png(Image.fromarray(crop)), probability=True)
        p = np.asarray(out["probabilities"], dtype=np.float32)
        p = p.reshape(-1, p.shape[-1])
        steps = np.stack([p[:, idx].sum(axis=1) for idx in groups], axis=1)
        return steps.max(axis=0)

    return probs


def rgb_slots(rgb: np.ndarray, length: int) -> list[np.ndarray]:
    """Each letter's slot (between the paper's bands, widened a little) as dark ink on light
    paper: slots on dark paper are inverted."""
    h, w, _ = rgb.shape
    bands = band_edges(rgb)
    ink = ink_map(rgb)
    mass = np.cumsum(np.clip(ink - 0.25, 0, None).sum(axis=0))
    x0, x1 = np.searchsorted(mass, [0.02 * mass[-1], 0.98 * mass[-1]])
    step = max(1.0, (x1 - x0) / length)
    edges = [x0 + i * step for i in range(length + 1)]
    if len(bands) == length - 1:
        edges = [float(x0), *bands, float(x1)]
    crops = []
    for i in range(length):
        pad = 0.12 * (edges[i + 1] - edges[i])
        lo, hi = max(0, int(edges[i] - pad)), min(w, int(edges[i + 1] + pad) + 1)
        crop = rgb[:, lo:hi]
        if np.median(crop.astype(np.float32).mean(axis=2)) < 128:
            crop = 255 - crop
        crops.append(np.ascontiguousarray(crop))
    return crops


def ddddocr_per_letter(alphabet: str, length: int) -> Solver | None:
    """Knows the generator: reads each letter alone between the paper's bands, turned to dark
    on light, with ddddocr's belief over the alphabet."""
    try:
        import ddddocr
    except ImportError:
        return None
    chars = "".join(sorted(set(alphabet.upper())))
    probs = letter_probabilities(ddddocr.DdddOcr(show_ad=False, beta=True), chars)

    def read(data: bytes) -> str:
        rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        return "".join(chars[int(np.argmax(probs(c)))] for c in rgb_slots(rgb, length))

    return read


def _chars_right(guess: str, truth: str) -> tuple[int, int]:
    guess = "".join(guess.split()).upper()
    if len(guess) != len(truth):
        return 0, 0
    return sum(a == b for a, b in zip(guess, truth, strict=True)), len(truth)


def run(n: int, seed: int, params: TextParams, train: int = 0) -> None:
    table = ddddocr_solvers(params.alphabet) | tesseract_solvers(params.alphabet)
    per_letter = ddddocr_per_letter(params.alphabet, params.length)
    if per_letter is not None:
        table["adaptive: ddddocr per letter, bands"] = per_letter
    if train:
        start = time.perf_counter()
        table[f"adaptive: trained on {train} local"] = train_reader(train, params)
        print(f"trained reader: {train} local challenges in {time.perf_counter() - start:.0f} s")
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
    parser.add_argument("--train", type=int, default=600, help="local challenges, 0: skip")
    args = parser.parse_args(argv)
    if cv2 is None:
        raise SystemExit("opencv-python-headless is needed: pip install -e '.[bench]'")
    run(args.n, args.seed, TextParams(level=args.level), args.train)


if __name__ == "__main__":
    main()
