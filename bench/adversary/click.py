"""Public-style solvers against the `click` challenge; prints each one's success rate.

Success means `check_click` passes the solver's points: every target within the radius, in
order. Solvers see only what a client sees (scene and prompt images, the count). Run:
`.venv/bin/python -m bench.adversary.click --n 300 [--script cjk] [--level 2]`.
"""

from __future__ import annotations

import argparse
import base64
import io
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

from bench.adversary.click_adaptive import silhouette_match
from bench.adversary.slide import wilson
from humangate.challenges.click import ClickParams, check_click, generate_click

try:
    import cv2
except ImportError:  # pragma: no cover - the `bench` extra provides it
    cv2 = None

Point = list[float]


@dataclass(frozen=True, slots=True)
class View:
    """What a client has: decoded scene and prompt, their bytes, and the count."""

    scene: np.ndarray  # H x W x 3 uint8 RGB
    prompt: np.ndarray  # h x w x 3 uint8 RGB
    scene_bytes: bytes
    prompt_bytes: bytes
    count: int


Solver = Callable[[View], list[Point] | None]


def _decode(data_url: str) -> tuple[bytes, np.ndarray]:
    raw = base64.b64decode(data_url.split(",", 1)[1])
    return raw, np.asarray(Image.open(io.BytesIO(raw)).convert("RGB"))


def view_of(payload: dict) -> View:
    scene_bytes, scene = _decode(payload["image"])
    prompt_bytes, prompt = _decode(payload["prompt_image"])
    return View(scene, prompt, scene_bytes, prompt_bytes, payload["count"])


def png(rgb: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format="PNG")
    return out.getvalue()


def prompt_slots(view: View) -> list[np.ndarray]:
    """The prompt cut into `count` equal slots between its 6 px side margins (its layout is
    public: any client sees it, and click.py says so)."""
    h, w = view.prompt.shape[:2]
    pitch = (w - 12) / view.count
    return [
        view.prompt[:, round(6 + i * pitch) : round(6 + (i + 1) * pitch)] for i in range(view.count)
    ]


def in_order(points: list[Point], order: list[int]) -> list[Point]:
    """Points found per prompt slot, rearranged so that slot i's lands at place order[i]."""
    out = list(points)
    for slot, place in enumerate(order):
        out[place] = points[slot]
    return out


def centre(box: list[int]) -> Point:
    return [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2]


def crop(view: View, box: list[int], pad: int = 3) -> np.ndarray:
    h, w = view.scene.shape[:2]
    x0, y0 = max(0, box[0] - pad), max(0, box[1] - pad)
    return view.scene[y0 : min(h, box[3] + pad), x0 : min(w, box[2] + pad)]


def assign(scores: np.ndarray) -> list[int]:
    """For each prompt character (rows), a distinct candidate (columns), best pairs first."""
    rows, cols = scores.shape
    chosen = [-1] * rows
    used: set[int] = set()
    for flat in np.argsort(-scores, axis=None):
        r, c = divmod(int(flat), cols)
        if chosen[r] < 0 and c not in used:
            chosen[r] = c
            used.add(c)
    return chosen


# --- ddddocr: detection, then OCR of each box --------------------------------------------------


class Dddd:
    def __init__(self) -> None:
        import ddddocr

        self.det = ddddocr.DdddOcr(det=True, show_ad=False)
        self.ocr = ddddocr.DdddOcr(show_ad=False)
        self.beta = ddddocr.DdddOcr(show_ad=False, beta=True)
        self.charset = self.beta.ocr_engine.charset_manager.get_charset()
        self.index = {c: i for i, c in enumerate(self.charset)}

    def boxes(self, view: View) -> list[list[int]]:
        return [list(map(int, b)) for b in self.det.detection(view.scene_bytes)]

    def read_prompt(self, view: View) -> list[str]:
        """OCR of the whole prompt; per-slot OCR when that gives the wrong length."""
        text = "".join(self.ocr.classification(view.prompt_bytes).split())
        if len(text) == view.count:
            return list(text)
        return [(self.ocr.classification(png(s)) or "?")[0] for s in prompt_slots(view)]

    def text_match(self, view: View) -> list[Point] | None:
        """Prompt OCR, detection, OCR of each box; each prompt character goes to the first
        unused box whose reading contains it, else to the first unused box."""
        boxes = self.boxes(view)
        if len(boxes) < view.count:
            return None
        readings = [self.ocr.classification(png(crop(view, b))) for b in boxes]
        scores = np.array([[float(c in r) for r in readings] for c in self.read_prompt(view)])
        scores -= np.arange(len(boxes))[None, :] * 1e-3  # ties: earlier boxes first
        return [centre(boxes[i]) for i in assign(scores)]

    def _probabilities(self, rgb: np.ndarray) -> np.ndarray:
        out = self.beta.classification(png(rgb), probability=True)
        probs = np.asarray(out["probabilities"], dtype=np.float32)
        return probs.reshape(-1, probs.shape[-1]).max(axis=0)

    def probability_match(self, view: View) -> list[Point] | None:
        """Adaptive: each box read upright and turned +-20 and +-40 degrees; a box's score for
        a prompt character is its best probability over turns and time steps; best pairs win."""
        boxes = self.boxes(view)
        if len(boxes) < view.count:
            return None
        prompt = self.read_prompt(view)
        wanted = [self.index.get(c, 0) for c in prompt]
        scores = np.zeros((len(prompt), len(boxes)))
        for j, box in enumerate(boxes):
            patch = Image.fromarray(crop(view, box, pad=6))
            for turn in (0, -20, 20, -40, 40):
                turned = np.asarray(patch.rotate(turn, expand=True, fillcolor=(128, 128, 128)))
                probs = self._probabilities(turned)
                scores[:, j] = np.maximum(scores[:, j], probs[wanted])
        return [centre(boxes[i]) for i in assign(scores)]

    def _turned_probabilities(self, rgb: np.ndarray, turns: tuple[float, ...]) -> np.ndarray:
        """Each character's best probability over the turns and time steps, unit length."""
        patch = Image.fromarray(np.ascontiguousarray(rgb))
        best = np.zeros(len(self.charset), dtype=np.float32)
        for turn in turns:
            turned = np.asarray(patch.rotate(turn, expand=True, fillcolor=(128, 128, 128)))
            np.maximum(best, self._probabilities(turned), out=best)
        best[0] = 0.0  # the CTC blank says nothing about which character
        return best / (np.linalg.norm(best) + 1e-9)

    def badge_order(self, view: View) -> list[int]:
        """Adaptive (click.py draws each slot's click order in a badge at its top-left): the
        order shown in each slot, read by OCR; left to right when the readings are no order."""
        readings = []
        for slot in prompt_slots(view):
            badge = Image.fromarray(np.ascontiguousarray(slot[:20, :22])).resize((66, 60))
            digits = [c for c in self.ocr.classification(png(np.asarray(badge))) if c.isdigit()]
            readings.append(int(digits[0]) - 1 if digits else -1)
        if sorted(readings) != list(range(view.count)):
            return list(range(view.count))
        return readings

    def slot_match(self, view: View) -> list[Point] | None:
        """Adaptive (reads click.py: the prompt's glyphs sit in equal slots, turned up to 50
        degrees, drawn like the scene's, their order in badges): each prompt slot and each
        detected box described by the OCR model's best probability per character over turns,
        matched by cosine similarity, best pairs first, then put in the badges' order; no
        reading of the glyphs as text is needed."""
        boxes = self.boxes(view)
        if len(boxes) < view.count:
            return None
        slot_turns = (-45.0, -30.0, -15.0, 0.0, 15.0, 30.0, 45.0)
        box_turns = (-40.0, -20.0, 0.0, 20.0, 40.0)
        slots = np.stack([self._turned_probabilities(s, slot_turns) for s in prompt_slots(view)])
        found = np.stack([self._turned_probabilities(crop(view, b, 6), box_turns) for b in boxes])
        return in_order([centre(boxes[i]) for i in assign(slots @ found.T)], self.badge_order(view))

    def random_order(self, view: View, rng: random.Random) -> list[Point] | None:
        """Floor: detection only, then `count` boxes in random order."""
        boxes = self.boxes(view)
        if len(boxes) < view.count:
            return None
        return [centre(b) for b in rng.sample(boxes, view.count)]


# --- OpenCV template matching ------------------------------------------------------------------


def _ink(rgb: np.ndarray) -> np.ndarray:
    """The prompt glyph as white-on-black, tight-cropped."""
    grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    _, ink = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    ys, xs = np.nonzero(ink)
    if not len(xs):
        return ink
    return ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


def _turned(ink: np.ndarray, scale: float, angle: float) -> np.ndarray:
    h, w = ink.shape
    side = int(max(h, w) * scale * 1.5) + 4
    canvas = np.zeros((side, side), np.uint8)
    small = cv2.resize(ink, (max(1, round(w * scale)), max(1, round(h * scale))))
    y, x = (side - small.shape[0]) // 2, (side - small.shape[1]) // 2
    canvas[y : y + small.shape[0], x : x + small.shape[1]] = small
    matrix = cv2.getRotationMatrix2D((side / 2, side / 2), angle, 1.0)
    turned = cv2.warpAffine(canvas, matrix, (side, side))
    ys, xs = np.nonzero(turned > 64)
    return turned[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


def template_match(view: View) -> list[Point]:
    """Each prompt glyph's edges, at 1.3-2.3x and -40..40 degrees, against the scene's edges
    (TM_CCOEFF_NORMED); each character takes its best place not already taken."""
    scene = cv2.Canny(cv2.cvtColor(view.scene, cv2.COLOR_RGB2GRAY), 60, 160)
    points: list[Point] = []
    for slot in prompt_slots(view):
        ink = _ink(slot)
        best, best_point = -2.0, [0.0, 0.0]
        for scale in (1.3, 1.55, 1.8, 2.05, 2.3):
            for angle in range(-40, 41, 10):
                template = cv2.Canny(_turned(ink, scale, angle), 50, 150)
                th, tw = template.shape
                if th >= scene.shape[0] or tw >= scene.shape[1] or not template.any():
                    continue
                result = cv2.matchTemplate(scene, template, cv2.TM_CCOEFF_NORMED)
                for point in points:  # places already taken
                    x, y = int(point[0] - tw / 2), int(point[1] - th / 2)
                    result[max(0, y - 12) : y + 12, max(0, x - 12) : x + 12] = -2
                _, score, _, (x, y) = cv2.minMaxLoc(np.nan_to_num(result, nan=-2.0))
                if score > best:
                    best, best_point = score, [x + tw / 2, y + th / 2]
        points.append(best_point)
    return points


# --- colour and contour heuristic --------------------------------------------------------------


def _blobs(view: View) -> list[tuple[np.ndarray, Point]]:
    """Glyph-like regions: saturated, bright-or-dark strokes grown into blobs of glyph size;
    each as (its binary shape, its centre)."""
    hsv = cv2.cvtColor(view.scene, cv2.COLOR_RGB2HSV)
    grey = cv2.cvtColor(view.scene, cv2.COLOR_RGB2GRAY)
    edges = (grey < 45) | (grey > 225)  # outlines are near black or near white
    fill = (hsv[..., 1] > 90) & ((hsv[..., 2] > 200) | (hsv[..., 2] < 120))
    mask = ((edges | fill) * 255).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    grown = cv2.dilate(mask, np.ones((5, 5), np.uint8))
    n, labels, stats, centroids = cv2.connectedComponentsWithStats(grown)
    out = []
    for i in range(1, n):
        x, y, w, h, area = stats[i]
        if 20 <= w <= 90 and 20 <= h <= 90 and area >= 150:
            shape = (mask[y : y + h, x : x + w] > 0) & (labels[y : y + h, x : x + w] == i)
            out.append((shape.astype(np.uint8) * 255, [float(c) for c in centroids[i]]))
    return out


def contour_match(view: View) -> list[Point] | None:
    """Blobs from colour and outline cues, matched to prompt glyphs by Hu moments (which ignore
    turns and scale); best pairs win."""
    blobs = _blobs(view)
    if len(blobs) < view.count:
        return None
    scores = np.zeros((view.count, len(blobs)))
    for i, slot in enumerate(prompt_slots(view)):
        ink = _ink(slot)
        for j, (shape, _) in enumerate(blobs):
            scores[i, j] = -cv2.matchShapes(ink, shape, cv2.CONTOURS_MATCH_I1, 0)
    return [blobs[j][1] for j in assign(np.nan_to_num(scores, nan=-1e9))]


def solvers(seed: int) -> dict[str, Solver]:
    table: dict[str, Solver] = {}
    try:
        dddd = Dddd()
    except ImportError:
        dddd = None
    if dddd is not None:
        floor_rng = random.Random(seed)
        table["ddddocr det + OCR text match"] = dddd.text_match
        table["ddddocr det + OCR prob., turns"] = dddd.probability_match
        table["adaptive: ddddocr, prompt slots de-turned"] = dddd.slot_match
        table["adaptive: silhouettes, badge order"] = lambda v: silhouette_match(
            v, dddd.badge_order(v)
        )
        table["ddddocr det, random order (floor)"] = lambda v: dddd.random_order(v, floor_rng)
    else:
        table["adaptive: silhouettes, left to right"] = silhouette_match
    table["cv2 TM edges, multi-scale/turn"] = template_match
    table["colour/outline blobs + Hu moments"] = contour_match
    return table


def run(n: int, seed: int, params: ClickParams) -> None:
    table = solvers(seed)
    wins = dict.fromkeys(table, 0)
    spent = dict.fromkeys(table, 0.0)
    errors = dict.fromkeys(table, 0)
    sizes = []
    for i in range(n):
        challenge = generate_click(random.Random(seed * 1_000_003 + i), params)
        view = view_of(challenge.payload)
        sizes.append(len(view.scene_bytes) + len(view.prompt_bytes))
        for name, solve in table.items():
            start = time.perf_counter()
            try:
                points = solve(view)
            except Exception:  # a crashing solver just fails that challenge
                points, errors[name] = None, errors[name] + 1
            spent[name] += time.perf_counter() - start
            wins[name] += points is not None and check_click(challenge.answer, points).passed
    print(f"click adversary: n={n} seed={seed} script={params.script} level={params.level} "
          f"targets={params.targets} distractors={params.distractors} radius={params.radius} "
          f"image bytes mean={np.mean(sizes):.0f}")  # fmt: skip
    print(f"{'solver':36} {'success':>8} {'95% Wilson CI':>16} {'ms/each':>8}")
    for name in table:
        lo, hi = wilson(wins[name], n)
        note = f"  ({errors[name]} errors)" if errors[name] else ""
        print(f"{name:36} {wins[name] / n:8.1%} {f'[{lo:.1%}, {hi:.1%}]':>16} "
              f"{spent[name] / n * 1e3:8.1f}{note}")  # fmt: skip
    if not any(name.startswith("ddddocr") for name in table):
        print("ddddocr: not installed, skipped")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="challenges to attack")
    parser.add_argument("--seed", type=int, default=2024, help="seed of the challenge stream")
    parser.add_argument(
        "--script", default=ClickParams().script, choices=("symbols", "latin", "cjk", "mixed")
    )
    parser.add_argument("--level", type=int, default=ClickParams().level, help="0..4")
    args = parser.parse_args(argv)
    if cv2 is None:
        raise SystemExit("opencv-python-headless is needed: pip install -e '.[bench]'")
    run(args.n, args.seed, ClickParams(script=args.script, level=args.level))


if __name__ == "__main__":
    main()
