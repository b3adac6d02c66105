"""Public-style solvers against the `rotate` challenge; prints each one's success rate.

A solver estimates where "up" points in the served disc and answers the clockwise turn that
brings it to the top; success means the checker (default tolerance) would pass it. Solvers see
only the payload's image. Chance is not zero: the answer is uniform over [min_angle,
360 - min_angle], so any fixed guess in that range wins (2 x tolerance + 1) / (361 - 2 x
min_angle), 13/321 = 4.0% by default (±6° over [20, 340]; it was 25/301 = 8.3% at ±12° over
[30, 330]). Beyond the public heuristics, a linear model trained on HOG features
of discs from the open-source generator (another seed stream) shows what a trained attacker gets.
Run: `.venv/bin/python -m bench.adversary.rotate --n 300 [--level 2] [--train 600]`.
"""

from __future__ import annotations

import argparse
import base64
import io
import math
import random
import time
from collections.abc import Callable

import numpy as np
from PIL import Image

from bench.adversary.slide import wilson
from humangate.challenges.rotate import RotateParams, check_rotate, generate_rotate

try:
    import cv2
except ImportError:  # pragma: no cover - the `bench` extra provides it
    cv2 = None

Solver = Callable[[np.ndarray], float | None]  # RGBA disc -> clockwise turn in degrees


def decode(data_url: str) -> np.ndarray:
    raw = base64.b64decode(data_url.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(raw)).convert("RGBA"))


def turn_for_up(dx: float, dy: float) -> float:
    """The clockwise turn that brings image direction (dx, dy) (y down) to the top."""
    return (-math.degrees(math.atan2(dx, -dy))) % 360.0


def _grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    c = (n - 1) / 2
    ys, xs = np.mgrid[0:n, 0:n].astype(np.float32)
    return xs - c, ys - c


def _luma(rgba: np.ndarray) -> np.ndarray:
    return rgba[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)


def _inner(rgba: np.ndarray, margin: float = 4.0) -> np.ndarray:
    xs, ys = _grid(len(rgba))
    return np.hypot(xs, ys) < len(rgba) / 2 - margin


def _centroid_turn(rgba: np.ndarray, weight: np.ndarray) -> float:
    xs, ys = _grid(len(rgba))
    mask = _inner(rgba)
    w = np.where(mask, weight, 0.0)
    w = w - w[mask].mean() * mask
    return turn_for_up(float((w * xs).sum()), float((w * ys).sum()))


def brightness_centroid(rgba: np.ndarray) -> float:
    """Up is where the image is brighter (sky above ground)."""
    return _centroid_turn(rgba, _luma(rgba))


def blue_centroid(rgba: np.ndarray) -> float:
    """Up is where the image is bluer (sky colour)."""
    rgb = rgba[..., :3].astype(np.float32)
    return _centroid_turn(rgba, rgb[..., 2] - (rgb[..., 0] + rgb[..., 1]) / 2)


def smooth_centroid(rgba: np.ndarray) -> float:
    """Up is where the image is smoothest (sky) as against busy (ground and objects)."""
    grey = cv2.GaussianBlur(_luma(rgba), (3, 3), 0)
    busy = np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))
    return _centroid_turn(rgba, -cv2.GaussianBlur(busy, (15, 15), 0))


def _pick_by_brightness(rgba: np.ndarray, turns: list[float]) -> float:
    """Of candidate turns, the one whose up side is brightest."""
    xs, ys = _grid(len(rgba))
    luma, mask = _luma(rgba), _inner(rgba)

    def score(turn: float) -> float:
        a = math.radians(turn)  # up in the image points at -turn clockwise from the top
        ux, uy = -math.sin(a), -math.cos(a)
        return float(luma[mask & (xs * ux + ys * uy > 0)].mean())

    return max(turns, key=score)


def _edges(rgba: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(np.ascontiguousarray(rgba[..., :3]), cv2.COLOR_RGB2GRAY)
    edges = cv2.Canny(cv2.GaussianBlur(grey, (3, 3), 0), 40, 120)
    edges[~_inner(rgba, 6.0)] = 0  # not the disc's own rim
    return edges


def hough_horizon(rgba: np.ndarray) -> float | None:
    """The strongest straight line is the horizon; up is perpendicular to it, brighter side."""
    lines = cv2.HoughLines(_edges(rgba), 1, np.pi / 180, 30)
    if lines is None or not len(lines):
        return None
    theta = float(lines[0][0][1])  # the line's normal, from the x axis, y down
    # The horizon is level when its normal points straight up: normal angle 90 or 270 deg.
    base = (math.degrees(theta) - 90.0) % 360.0
    return _pick_by_brightness(rgba, [(-base) % 360, (180 - base) % 360])


def hough_segments(rgba: np.ndarray) -> float | None:
    """Probabilistic Hough: the longest segment is the horizon; brighter side is up."""
    segs = cv2.HoughLinesP(_edges(rgba), 1, np.pi / 180, 25, minLineLength=30, maxLineGap=4)
    if segs is None or not len(segs):
        return None
    x0, y0, x1, y1 = max(segs.reshape(-1, 4), key=lambda s: math.hypot(s[2] - s[0], s[3] - s[1]))
    tilt = math.degrees(math.atan2(y1 - y0, x1 - x0))  # clockwise tilt of the horizon
    return _pick_by_brightness(rgba, [(-tilt) % 360, (180 - tilt) % 360])


def orientation_histogram(rgba: np.ndarray) -> float:
    """Dominant gradient orientation (mod 90: verticals and horizontals of the world), then the
    brightest of the four ups it allows."""
    grey = cv2.GaussianBlur(_luma(rgba), (3, 3), 0)
    gx, gy = cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1)
    mask = _inner(rgba, 6.0)
    mag, ang = np.hypot(gx, gy)[mask], np.arctan2(gy, gx)[mask]
    quad = np.angle(np.sum(mag * np.exp(4j * ang))) / 4  # mean orientation mod 90
    base = math.degrees(quad)
    return _pick_by_brightness(rgba, [(-base + k * 90) % 360 for k in range(4)])


def symmetry_axis(rgba: np.ndarray) -> float:
    """The mirror axis through the centre that best maps the disc onto itself is vertical;
    the brighter end is up."""
    grey = _luma(rgba)
    grey = cv2.resize(grey, (64, 64), interpolation=cv2.INTER_AREA)
    mask = _inner(np.zeros((64, 64, 4), np.uint8), 2.0)
    best, best_axis = -2.0, 0.0
    for axis in range(0, 180, 3):
        rot = cv2.getRotationMatrix2D((31.5, 31.5), axis, 1.0)
        upright = cv2.warpAffine(grey, rot, (64, 64))
        mirror = upright[:, ::-1]
        a, b = upright[mask], mirror[mask]
        score = float(np.corrcoef(a, b)[0, 1])
        if score > best:
            best, best_axis = score, axis
    return _pick_by_brightness(rgba, [(-best_axis) % 360, (180 - best_axis) % 360])


# --- beyond the brief: a model trained on the open-source generator ----------------------------


def _hog(disc: np.ndarray) -> np.ndarray:
    """Signed-gradient orientation histograms (8 bins) and mean colour on a 6 x 6 grid of a
    48 x 48 copy, a 16-bin histogram over the whole disc and over its upper and lower halves
    (where things stand does not matter to those), plus a bias term: what "trees stand on the
    ground" looks like to a linear model."""
    small = cv2.resize(np.ascontiguousarray(disc[..., :3]), (48, 48), interpolation=cv2.INTER_AREA)
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float32)
    gx, gy = cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1)
    angle = (np.arctan2(gy, gx) + np.pi) / (2 * np.pi)
    bins, fine = (angle * 8).astype(int) % 8, (angle * 16).astype(int) % 16
    mag = np.hypot(gx, gy)
    cells = []
    for i in range(6):
        for j in range(6):
            block = (slice(8 * i, 8 * i + 8), slice(8 * j, 8 * j + 8))
            hist = np.bincount(bins[block].ravel(), mag[block].ravel(), minlength=8)
            cells.append(hist / (np.linalg.norm(hist) + 1e-3))
            cells.append(small[block].reshape(-1, 3).mean(axis=0) / 255.0)
    for rows in (slice(0, 48), slice(0, 24), slice(24, 48)):
        hist = np.bincount(fine[rows].ravel(), mag[rows].ravel(), minlength=16)
        cells.append(hist / (np.linalg.norm(hist) + 1e-3))
    return np.concatenate([*cells, [1.0]])


def _turned(disc: np.ndarray, turn: float) -> np.ndarray:
    """The disc turned clockwise by `turn` degrees."""
    n = len(disc)
    matrix = cv2.getRotationMatrix2D(((n - 1) / 2, (n - 1) / 2), -turn, 1.0)
    return cv2.warpAffine(disc, matrix, (n, n), flags=cv2.INTER_LINEAR)


def train_uprightness(n: int, level: int, seed: int = 99, scatter: bool = True) -> Solver:
    """Logistic regression on _hog of discs turned upright (1) or to a wrong angle (0), from
    `n` challenges of a seed stream disjoint from the attacked one; solves by scoring 36 turns."""
    rows, labels = [], []
    for i in range(n):
        params = RotateParams(level=level, scatter=scatter)
        challenge = generate_rotate(random.Random(f"train-{seed}-{i}"), params)
        disc, angle = decode(challenge.payload["image"]), challenge.answer["angle"]
        for offset in (0, 0, 0, 90, 180, 270, random.Random(i).uniform(20, 340)):
            rows.append(_hog(_turned(disc, angle + offset)))
            labels.append(1.0 if offset == 0 else 0.0)
    x, y = np.array(rows), np.array(labels)
    w = np.zeros(x.shape[1])
    for _ in range(1500):  # plain gradient descent with a little L2
        p = 1 / (1 + np.exp(-(x @ w)))
        w -= 0.5 * (x.T @ (p - y) / len(y) + 1e-4 * w)

    def solve(disc: np.ndarray) -> float:
        turns = np.arange(0, 360, 5)
        scores = [float(_hog(_turned(disc, t)) @ w) for t in turns]
        return float(turns[int(np.argmax(scores))])

    return solve


def solvers() -> dict[str, Solver]:
    return {
        "brightness centroid": brightness_centroid,
        "blue (sky colour) centroid": blue_centroid,
        "smoothness centroid": smooth_centroid,
        "cv2 HoughLines horizon + brighter": hough_horizon,
        "cv2 HoughLinesP longest + brighter": hough_segments,
        "gradient orientation hist mod 90": orientation_histogram,
        "mirror-symmetry axis + brighter": symmetry_axis,
    }


def _report(name: str, won: int, n: int, ms: float, errors: int = 0) -> None:
    lo, hi = wilson(won, n)
    note = f"  ({errors} errors)" if errors else ""
    print(f"{name:38} {won / n:8.1%} {f'[{lo:.1%}, {hi:.1%}]':>16} {ms:8.2f}{note}")


def run(n: int, seed: int, level: int, train: int = 0, scatter: bool = True) -> None:
    params = RotateParams(level=level, scatter=scatter)
    table = solvers()
    if train:
        table[f"trained HOG+logistic ({train} imgs)"] = train_uprightness(train, level, 99, scatter)
    wins, errors, spent = (
        dict.fromkeys(table, 0),
        dict.fromkeys(table, 0),
        dict.fromkeys(table, 0.0),
    )
    fixed_wins = 0
    for i in range(n):
        challenge = generate_rotate(random.Random(seed * 1_000_003 + i), params)
        disc, answer = decode(challenge.payload["image"]), challenge.answer
        fixed_wins += check_rotate(answer, 180, tolerance=params.tolerance).passed
        for name, solve in table.items():
            start = time.perf_counter()
            try:
                guess = solve(disc)
            except Exception:  # a crashing solver just fails that challenge
                guess, errors[name] = None, errors[name] + 1
            spent[name] += time.perf_counter() - start
            wins[name] += guess is not None and check_rotate(answer, guess).passed
    chance = (2 * params.tolerance + 1) / (361 - 2 * params.min_angle)
    print(f"rotate adversary: n={n} seed={seed} level={level} tolerance=+-{params.tolerance} deg "
          f"min_angle={params.min_angle} (chance {chance:.1%})")  # fmt: skip
    print(f"{'solver':38} {'success':>8} {'95% Wilson CI':>16} {'ms/each':>8}")
    for name in table:
        _report(name, wins[name], n, spent[name] / n * 1e3, errors[name])
    _report("fixed guess 180 (no image)", fixed_wins, n, 0.0)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="challenges to attack")
    parser.add_argument("--seed", type=int, default=2024, help="seed of the challenge stream")
    parser.add_argument("--level", type=int, default=RotateParams().level, choices=range(5))
    parser.add_argument("--train", type=int, default=600, help="training images, 0: skip")
    parser.add_argument("--landscape", action="store_true", help="the landscape scene instead")
    args = parser.parse_args(argv)
    if cv2 is None:
        raise SystemExit("opencv-python-headless is needed: pip install -e '.[bench]'")
    run(args.n, args.seed, args.level, args.train, not args.landscape)


if __name__ == "__main__":
    main()
