"""Public-style solvers against the `slide` challenge; prints each one's success rate.

Success means the solver's x is within the checker's default tolerance of the answer. Every solver
sees only what a client sees (the payload's images and numbers) and, being generous, searches
only the row the piece lives on. Run: `.venv/bin/python -m bench.adversary.slide --n 300`.
"""

from __future__ import annotations

import argparse
import base64
import io
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

from humangate.challenges import _jigsaw
from humangate.challenges.slide import DEFAULT_TOLERANCE, SlideParams, generate_slide

try:
    import cv2
except ImportError:  # pragma: no cover - the `bench` extra provides it
    cv2 = None


@dataclass(frozen=True, slots=True)
class View:
    """What a client has: the decoded images and the payload's numbers."""

    background: np.ndarray  # H x W x 3 uint8 RGB
    piece: np.ndarray  # h x w x 4 uint8 RGBA
    piece_y: int
    background_bytes: bytes
    piece_bytes: bytes

    @property
    def grey(self) -> np.ndarray:
        return cv2.cvtColor(self.background, cv2.COLOR_RGB2GRAY)

    @property
    def band(self) -> np.ndarray:
        h = self.piece.shape[0]
        return self.background[self.piece_y : self.piece_y + h]


Solver = Callable[[View], float | None]


def decode(data_url: str) -> tuple[bytes, Image.Image]:
    raw = base64.b64decode(data_url.split(",", 1)[1])
    return raw, Image.open(io.BytesIO(raw))


def view_of(payload: dict) -> View:
    bg_bytes, bg = decode(payload["background"])
    piece_bytes, piece = decode(payload["piece"])
    return View(
        np.asarray(bg.convert("RGB")),
        np.asarray(piece.convert("RGBA")),
        payload["piece_y"],
        bg_bytes,
        piece_bytes,
    )


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


# --- (a) OpenCV template matching, row-restricted ---------------------------------------------


def _best_x(scores: np.ndarray) -> float:
    scores = np.nan_to_num(scores.reshape(-1), nan=-1e9, posinf=-1e9, neginf=-1e9)
    return float(np.argmax(scores))


def tm_grey(view: View) -> float:
    """Alpha-masked TM_CCOEFF_NORMED of the grey piece against the grey row band."""
    piece_grey = cv2.cvtColor(np.ascontiguousarray(view.piece[..., :3]), cv2.COLOR_RGB2GRAY)
    mask = (view.piece[..., 3] > 127).astype(np.uint8) * 255
    band = cv2.cvtColor(np.ascontiguousarray(view.band), cv2.COLOR_RGB2GRAY)
    return _best_x(cv2.matchTemplate(band, piece_grey, cv2.TM_CCOEFF_NORMED, mask=mask))


def _tm_edges(view: View, piece_edges: np.ndarray, lo: int, hi: int, blur: bool) -> float:
    band = cv2.cvtColor(np.ascontiguousarray(view.band), cv2.COLOR_RGB2GRAY)
    if blur:
        band = cv2.GaussianBlur(band, (3, 3), 0)
    edges = cv2.Canny(band, lo, hi)
    return _best_x(cv2.matchTemplate(edges, piece_edges, cv2.TM_CCOEFF_NORMED))


def tm_canny_composite(view: View) -> float:
    """Canny(50, 150) of the piece flattened on black (alpha dropped) vs Canny of the band."""
    alpha = view.piece[..., 3:4].astype(np.float32) / 255.0
    flat = (view.piece[..., :3] * alpha).astype(np.uint8)
    piece_edges = cv2.Canny(cv2.cvtColor(flat, cv2.COLOR_RGB2GRAY), 50, 150)
    return _tm_edges(view, piece_edges, 50, 150, blur=False)


def tm_canny_outline(view: View) -> float:
    """The piece's outline (Canny of its alpha) vs Canny(50, 150) of the band."""
    return _tm_edges(view, cv2.Canny(view.piece[..., 3].copy(), 50, 150), 50, 150, blur=False)


def tm_canny_outline_tuned(view: View) -> float:
    """The piece's outline vs Canny(20, 60) of the Gaussian-blurred band (soft edges show)."""
    return _tm_edges(view, cv2.Canny(view.piece[..., 3].copy(), 50, 150), 20, 60, blur=True)


# --- (b) NumPy gap detectors -----------------------------------------------------------------


def _body_columns(view: View) -> tuple[int, int, int, int]:
    """(first, last) columns and (first, last) rows where the piece is solid over >= 60%."""
    solid = view.piece[..., 3] > 127
    cols = np.flatnonzero(solid.mean(axis=0) >= 0.6 * solid.mean(axis=0).max())
    rows = np.flatnonzero(solid.mean(axis=1) >= 0.6 * solid.mean(axis=1).max())
    return int(cols[0]), int(cols[-1]), int(rows[0]), int(rows[-1])


def _band_profile(view: View) -> np.ndarray:
    c0, c1, r0, r1 = _body_columns(view)
    rows = view.background[view.piece_y + r0 : view.piece_y + r1 + 1].astype(np.float32)
    return rows.mean(axis=2).mean(axis=0)


def gap_darkest(view: View) -> float:
    """The darkest column band as wide as the piece's body, in the body's rows."""
    c0, c1, _, _ = _body_columns(view)
    width = c1 - c0 + 1
    means = np.convolve(_band_profile(view), np.ones(width) / width, mode="valid")
    return float(np.argmin(means) - c0)


def gap_contrast(view: View) -> float:
    """The body-wide band whose mean differs most from the bands on either side of it."""
    c0, c1, _, _ = _body_columns(view)
    width = c1 - c0 + 1
    means = np.convolve(_band_profile(view), np.ones(width) / width, mode="valid")
    inner = means[width:-width]
    flanks = (means[: len(inner)] + means[2 * width :]) / 2
    return float(np.argmax(np.abs(inner - flanks)) + width - c0)


def gap_edge_pair(view: View) -> float:
    """The strongest pair of vertical edges as far apart as the piece's body's sides."""
    c0, c1, r0, r1 = _body_columns(view)
    rows = view.background[view.piece_y + r0 : view.piece_y + r1 + 1].astype(np.float32)
    grad = np.abs(np.diff(rows.mean(axis=2), axis=1)).mean(axis=0)
    span = c1 - c0
    scores = grad[: len(grad) - span] + grad[span:]
    return float(np.argmax(scores) - c0)


# --- (c) ddddocr ------------------------------------------------------------------------------


def _ddddocr() -> object | None:
    try:
        import ddddocr
    except ImportError:
        return None
    return ddddocr.DdddOcr(det=False, ocr=False, show_ad=False)


def ddddocr_solvers() -> dict[str, Solver]:
    engine = _ddddocr()
    if engine is None:
        return {}

    def match(view: View, simple: bool) -> float:
        result = engine.slide_match(view.piece_bytes, view.background_bytes, simple_target=simple)
        if "target_x" in result:  # ddddocr >= 1.6 reports the match's centre
            return float(result["target_x"] - view.piece.shape[1] // 2)
        return float(result["target"][0])  # older releases report the left edge first

    return {
        "ddddocr slide_match (edges)": lambda v: match(v, False),
        "ddddocr slide_match (simple)": lambda v: match(v, True),
    }


# --- beyond the brief: continuity, a solver that knows the design, the positional prior --------


def continuity(view: View) -> float:
    """Correlate colours just inside the piece's outline with colours just outside each place."""
    alpha = view.piece[..., 3].astype(np.float32) / 255.0
    gy, gx = np.gradient(cv2.GaussianBlur(alpha, (5, 5), 0))
    norm = np.hypot(gx, gy)
    ys, xs = np.nonzero((np.abs(alpha - 0.5) < 0.45) & (norm > 0.05))
    ny, nx = -gy[ys, xs] / norm[ys, xs], -gx[ys, xs] / norm[ys, xs]  # outward normals
    h, w = alpha.shape
    iy = np.clip(np.rint(ys - 3 * ny), 0, h - 1).astype(int)
    ix = np.clip(np.rint(xs - 3 * nx), 0, w - 1).astype(int)
    inner = view.piece[iy, ix, :3].astype(np.float32).reshape(-1)
    oy = np.rint(ys + 5 * ny).astype(int) + view.piece_y
    ox = np.rint(xs + 5 * nx).astype(int)
    bg = view.background.astype(np.float32)
    height, width = bg.shape[:2]
    xs_all = np.arange(width - w + 1)[:, None] + ox[None, :]
    outer = bg[np.clip(oy, 0, height - 1)[None, :], np.clip(xs_all, 0, width - 1)]
    outer = outer.reshape(len(xs_all), -1)
    a = inner - inner.mean()
    b = outer - outer.mean(axis=1, keepdims=True)
    scores = (b @ a) / (np.linalg.norm(b, axis=1) * np.linalg.norm(a) + 1e-9)
    return _best_x(scores)


def tm_outline_rescaled(view: View) -> float:
    """Adaptive to the design before issue 16 (holes are the outline grown 1.2-1.3 about its
    centre): the outline grown by 1.1-1.4 vs Canny(20, 60) of the blurred background, rows
    centred on the piece's; best normalised score wins."""
    alpha = np.ascontiguousarray(view.piece[..., 3])
    h, w = alpha.shape
    grey = cv2.cvtColor(view.background, cv2.COLOR_RGB2GRAY)
    edges = cv2.Canny(cv2.GaussianBlur(grey, (3, 3), 0), 20, 60)
    centre_y = view.piece_y + h / 2
    best, best_x = -2.0, 0.0
    for scale in (1.1, 1.15, 1.2, 1.25, 1.3, 1.35, 1.4):
        sw, sh = round(w * scale), round(h * scale)
        top = round(centre_y - sh / 2)
        if top < 0 or top + sh > edges.shape[0]:
            continue
        outline = cv2.Canny(cv2.resize(alpha, (sw, sh), interpolation=cv2.INTER_LINEAR), 50, 150)
        scores = cv2.matchTemplate(edges[top : top + sh], outline, cv2.TM_CCOEFF_NORMED)
        scores = np.nan_to_num(scores.reshape(-1), nan=-2.0, posinf=-2.0, neginf=-2.0)
        i = int(np.argmax(scores))
        if scores[i] > best:
            best, best_x = float(scores[i]), i + sw / 2 - w / 2
    return best_x


def _warped_outline(alpha: np.ndarray, sx: float, sy: float, turn: float) -> np.ndarray:
    """The piece's mask stretched by (sx, sy) and turned `turn` degrees about its centre, on a
    canvas with room for it, as a 2 px outline (float32, 0/1)."""
    h, w = alpha.shape
    side = int(max(h, w) * max(sx, sy) * 1.3) + 6
    matrix = cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), -turn, 1.0)
    matrix[:, :2] = matrix[:, :2] @ np.diag([sx, sy])
    matrix[:, 2] += ((side - 1) / 2 - (w - 1) / 2, (side - 1) / 2 - (h - 1) / 2)
    matrix[:, 2] -= matrix[:, :2] @ np.array([(w - 1) / 2, (h - 1) / 2]) - np.array(
        [(w - 1) / 2, (h - 1) / 2]
    )
    warped = cv2.warpAffine(alpha, matrix, (side, side), flags=cv2.INTER_LINEAR)
    solid = (warped > 127).astype(np.uint8)
    ring = cv2.dilate(solid, np.ones((3, 3), np.uint8)) - cv2.erode(
        solid, np.ones((3, 3), np.uint8)
    )
    return ring.astype(np.float32)


def tm_outline_warped(view: View) -> float:
    """Adaptive to the current design (read from slide.py and _jigsaw.py: every hole is the
    outline stretched per axis over _jigsaw.SCALE, turned up to _jigsaw.TURN and rippled): the
    warped outline over a grid of those against the blurred gradient magnitude of the piece's
    row, each score normalised; the best over all warps wins."""
    alpha = np.ascontiguousarray(view.piece[..., 3])
    h, w = alpha.shape
    grey = cv2.GaussianBlur(cv2.cvtColor(view.background, cv2.COLOR_RGB2GRAY), (3, 3), 0)
    grad = np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))
    centre_y = view.piece_y + (h - 1) / 2
    best, best_x = -2.0, 0.0
    lo, hi = _jigsaw.SCALE
    stretches = [lo + (hi - lo) * k / 4 for k in (0.5, 2, 3.5)]
    turns = [_jigsaw.TURN * k / 4 for k in (-3, -1.5, 0, 1.5, 3)]
    for sx in stretches:
        for sy in stretches:
            for turn in turns:
                outline = _warped_outline(alpha, sx, sy, turn)
                side = len(outline)
                top = round(centre_y - (side - 1) / 2)
                if top < 0 or top + side > grad.shape[0]:
                    top = min(max(top, 0), grad.shape[0] - side)
                scores = cv2.matchTemplate(grad[top : top + side], outline, cv2.TM_CCOEFF_NORMED)
                scores = np.nan_to_num(scores.reshape(-1), nan=-2.0)
                i = int(np.argmax(scores))
                if scores[i] > best:
                    best, best_x = float(scores[i]), i + (side - 1) / 2 - (w - 1) / 2
    return best_x


KNOB_CHORD_MAX = 15.5  # px: a knob's widest chord (2 x 0.22 x 32) < this < a body row's fill


def _body_square(solid: np.ndarray) -> tuple[int, int, int, int]:
    """(x0, x1, y0, y1), ends exclusive, of the piece's square body: the rows and columns whose
    solid run is wider than any knob's (the generator's knob sizes say where that line is)."""
    cols = np.flatnonzero(solid.sum(axis=0) > KNOB_CHORD_MAX)
    rows = np.flatnonzero(solid.sum(axis=1) > KNOB_CHORD_MAX)
    return int(cols[0]), int(cols[-1]) + 1, int(rows[0]), int(rows[-1]) + 1


def twin_masks(alpha: np.ndarray, pad: int = 12) -> list[np.ndarray]:
    """The piece's mask, then its near twins as the generator makes decoys (one knob turned into
    a socket or one socket into a knob): each side's knob or socket mirrored across that side.
    Masks are uint8 0/255 on the piece's box grown by `pad` on every side."""
    solid = np.pad(alpha > 127, pad)
    x0, x1, y0, y1 = (v + pad for v in _body_square(alpha > 127))
    height, width = solid.shape
    ys, xs = np.mgrid[0:height, 0:width]
    body = (xs >= x0) & (xs < x1) & (ys >= y0) & (ys < y1)
    depth = np.stack([ys - y0, x1 - 1 - xs, y1 - 1 - ys, xs - x0])  # into the body, per side
    nearest = np.argmin(np.abs(depth), axis=0)
    beyond = (ys < y0, xs >= x1, ys >= y1, xs < x0)
    masks = [solid]
    for side in range(4):
        knob = solid & beyond[side]
        socket = ~solid & body & (nearest == side) & (depth[side] < 0.45 * (x1 - x0))
        if knob.sum() > 20:
            masks.append(solid & ~knob & ~_mirror(knob, side, (x0, x1, y0, y1)))
        elif socket.sum() > 20:
            masks.append(solid | socket | _mirror(socket, side, (x0, x1, y0, y1)))
    return [mask.astype(np.uint8) * 255 for mask in masks]


def _mirror(region: np.ndarray, side: int, square: tuple[int, int, int, int]) -> np.ndarray:
    x0, x1, y0, y1 = square
    ys, xs = np.nonzero(region)
    if side == 0:
        ys = 2 * y0 - 1 - ys
    elif side == 1:
        xs = 2 * x1 - 1 - xs
    elif side == 2:
        ys = 2 * y1 - 1 - ys
    else:
        xs = 2 * x0 - 1 - xs
    out = np.zeros_like(region)
    keep = (ys >= 0) & (ys < region.shape[0]) & (xs >= 0) & (xs < region.shape[1])
    out[ys[keep], xs[keep]] = True
    return out


def _warp_scores(view: View, masks: list[np.ndarray], pad: int, fine: bool = False) -> np.ndarray:
    """Per mask, per x (the piece box's left edge), the best normalised match of the mask's
    warped outline against the row's gradient over the generator's grid of stretches and turns
    (3 x 3 x 5, or 5 x 5 x 7 when `fine`)."""
    h = view.piece.shape[0]
    grey = cv2.GaussianBlur(cv2.cvtColor(view.background, cv2.COLOR_RGB2GRAY), (3, 3), 0)
    grad = np.hypot(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))
    centre_y = view.piece_y + (h - 1) / 2
    width = grad.shape[1]
    lo, hi = _jigsaw.SCALE
    stretches = [lo + (hi - lo) * k / 8 for k in ((0.5, 2, 4, 6, 7.5) if fine else (1, 4, 7))]
    turns = [_jigsaw.TURN * k / 8 for k in ((-7, -4.5, -2, 0, 2, 4.5, 7) if fine else
                                           (-6, -3, 0, 3, 6))]  # fmt: skip
    maps = np.full((len(masks), width), -2.0, np.float32)
    for m, mask in enumerate(masks):
        for sx in stretches:
            for sy in stretches:
                for turn in turns:
                    outline = _warped_outline(mask, sx, sy, turn)
                    side = len(outline)
                    rows = np.flatnonzero(outline.any(axis=1))
                    trim = min(int(rows[0]), side - 1 - int(rows[-1]))  # same off both ends
                    outline = outline[trim : side - trim]
                    top = round(centre_y - (len(outline) - 1) / 2)
                    top = min(max(top, 0), grad.shape[0] - len(outline))
                    found = cv2.matchTemplate(grad[top : top + len(outline)], outline,
                                              cv2.TM_CCOEFF_NORMED)  # fmt: skip
                    found = np.nan_to_num(found.reshape(-1), nan=-2.0)
                    xs = np.rint(np.arange(len(found)) + (side - len(mask[0])) / 2 + pad)
                    xs = xs.astype(int)
                    keep = (xs >= 0) & (xs < width)
                    np.maximum.at(maps[m], xs[keep], found[keep])
    return maps


def twin_aware(view: View, candidates: int = 4) -> float:
    """Adaptive to the near-twin decoys (reads slide.py and _jigsaw.py): builds the piece's
    twins from its mask, scores the piece and each twin at every x over the warp grid, takes the
    best few separated places (the holes), and picks the one where the piece's own outline beats
    the most twins (ties: by the widest margin over the best twin)."""
    pad = 12
    masks = twin_masks(np.ascontiguousarray(view.piece[..., 3]), pad)
    maps = _warp_scores(view, masks, pad)
    best = maps.max(axis=0)
    places: list[int] = []
    for x in np.argsort(-best):
        if all(abs(int(x) - p) > 20 for p in places):
            places.append(int(x))
        if len(places) == candidates:
            break

    def verdict(x: int) -> float:
        here = maps[:, max(0, x - 4) : x + 5].max(axis=1)
        if len(here) == 1:
            return float(here[0])
        return float((here[0] > here[1:]).mean() + 0.01 * (here[0] - here[1:].max()))

    pick = max(places, key=verdict)
    lo = max(0, pick - 6)
    own = _warp_scores(view, masks[:1], pad, fine=True)[0]
    return float(lo + np.argmax(own[lo : pick + 7]))


def prior_guess(answers: list[int]) -> float:
    """The x that a solver ignoring the images would bet on: the densest +-tolerance window."""
    counts = np.bincount(np.asarray(answers))
    window = np.convolve(counts, np.ones(2 * DEFAULT_TOLERANCE + 1), mode="same")
    return float(np.argmax(window))


def solvers() -> dict[str, Solver]:
    table: dict[str, Solver] = {
        "cv2 TM grey (alpha-masked)": tm_grey,
        "cv2 TM Canny (piece on black)": tm_canny_composite,
        "cv2 TM Canny (alpha outline)": tm_canny_outline,
        "cv2 TM Canny tuned (blur+20/60)": tm_canny_outline_tuned,
        "numpy gap: darkest band": gap_darkest,
        "numpy gap: most contrasting band": gap_contrast,
        "numpy gap: vertical edge pair": gap_edge_pair,
    }
    table.update(ddddocr_solvers())
    table["numpy boundary continuity"] = continuity
    table["adaptive (old design): outline TM"] = tm_outline_rescaled
    table["adaptive (new design): warped TM"] = tm_outline_warped
    table["adaptive (twins): piece vs its twins"] = twin_aware
    return table


def run(n: int, seed: int) -> None:
    params = SlideParams()
    table = solvers()
    wins = dict.fromkeys(table, 0)
    errors = dict.fromkeys(table, 0)
    spent = dict.fromkeys(table, 0.0)
    prior_answers = [
        generate_slide(random.Random(f"prior-{i}"), params).answer["x"] for i in range(1000)
    ]
    prior_x = prior_guess(prior_answers)
    prior_wins = 0
    for i in range(n):
        challenge = generate_slide(random.Random(seed * 1_000_003 + i), params)
        view = view_of(challenge.payload)
        truth = challenge.answer["x"]
        prior_wins += abs(prior_x - truth) <= DEFAULT_TOLERANCE
        for name, solve in table.items():
            start = time.perf_counter()
            try:
                guess = solve(view)
            except Exception:  # a crashing solver just fails that challenge
                guess, errors[name] = None, errors[name] + 1
            spent[name] += time.perf_counter() - start
            wins[name] += guess is not None and abs(guess - truth) <= DEFAULT_TOLERANCE
    print(f"slide adversary: n={n} seed={seed} tolerance=+-{DEFAULT_TOLERANCE}px "
          f"decoys={params.decoys}")  # fmt: skip
    print(f"{'solver':36} {'success':>8} {'95% Wilson CI':>16} {'ms/each':>8}")
    rows = [(name, wins[name], spent[name] / n * 1e3) for name in table]
    rows.append(("positional prior (no images)", prior_wins, 0.0))
    for name, won, ms in rows:
        lo, hi = wilson(won, n)
        note = f"  ({errors[name]} errors)" if errors.get(name) else ""
        print(f"{name:36} {won / n:8.1%} {f'[{lo:.1%}, {hi:.1%}]':>16} {ms:8.2f}{note}")
    if not ddddocr_solvers():
        print("ddddocr: not installed, skipped")
    print("ddddocr slide_comparison: not applicable (needs the hole-free background, never sent)")
    best = max(rows, key=lambda row: row[1])
    drag_gate(best[0], best[1] / n, n, seed)


def drag_gate(solver: str, position_rate: float, n: int, seed: int) -> None:
    """The whole attack: the best solver's position, dragged by a bot, past the server's gate.

    A right slide answer still fails when its drag scores below the floor (half the unit's
    threshold). Each bot family drags to the solver's x; the environment is taken as clean
    (a careful bot spoofs it) and every trace is fresh (no replay finding), so this is the gate
    at its most lenient. Position and drag are independent, so the rates multiply.
    """
    from bench.risk.external import GeneratorUnavailable
    from bench.risk.families import BOT_FAMILIES, FAMILIES
    from bench.risk.task import DragTask
    from humangate.risk.assess import assess, combine_weights, default_threshold

    floor = default_threshold() * combine_weights().visual_floor_fraction
    print(f"\nwith the drag gate (floor {floor:.3f}); {solver}: {position_rate:.1%} placed")
    print(f"{'drag by':36} {'gate pass':>9} {'whole attack':>13} {'95% Wilson CI':>16}")
    for family in ("human", *BOT_FAMILIES):
        rng = random.Random(f"gate-{seed}-{family}")
        passed = 0
        try:
            for _ in range(n):
                distance = rng.uniform(40, 260)
                task = DragTask(distance=distance, tolerance=4.0, handle_size=44.0, pointer="mouse")
                trace = FAMILIES[family](rng, task)
                passed += (assess(trace, "mouse", ()).gesture or 0.0) >= floor
        except GeneratorUnavailable as missing:
            print(f"{family:36} not installed: {missing}")
            continue
        whole = round(passed / n * position_rate * n)
        lo, hi = wilson(whole, n)
        label = "human model (for reference)" if family == "human" else family
        print(f"{label:36} {passed / n:9.1%} {whole / n:13.1%} {f'[{lo:.1%}, {hi:.1%}]':>16}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="challenges to attack")
    parser.add_argument("--seed", type=int, default=2024, help="seed of the challenge stream")
    args = parser.parse_args(argv)
    if cv2 is None:
        raise SystemExit("opencv-python-headless is needed: pip install -e '.[bench]'")
    run(args.n, args.seed)


if __name__ == "__main__":
    main()
