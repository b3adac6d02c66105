"""An adaptive attacker of the `click` challenge, built from reading humangate/challenges/click.py.

What the source tells: every glyph, in the scene and in the prompt, is painted with a 2 px
outline that is near black or near white and unsaturated, over a smooth procedural background;
the prompt's glyphs sit in equal slots between 6 px margins, each slot's click order in a badge
at its top-left (read by OCR: bench/adversary/click.py `Dddd.badge_order`); glyphs are turned,
stretched and hatched, so their silhouettes (outline plus everything it encloses) are what stays.
The attacker cuts silhouettes out of the scene and the prompt alike, brings each to one area and
centroid, and matches every prompt silhouette to every scene one over 36 turns (best
intersection over union); best pairs win. No OCR, no labels: it needs nothing but the images.
Tuned on locally generated challenges only (the thresholds below).
"""

from __future__ import annotations

import numpy as np

try:
    import cv2
except ImportError:  # pragma: no cover - the `bench` extra provides it
    cv2 = None

_SIDE = 72  # the normalised canvas
_AREA = 24.0**2  # silhouettes are scaled to this many pixels


def _outline(rgb: np.ndarray) -> np.ndarray:
    """Pixels far in luma from the local background (a wide median): glyphs are painted to stand
    out (a light fill with a dark outline on dark ground and the reverse), the ground is smooth."""
    grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    ground = cv2.medianBlur(grey, 31)
    far = np.abs(grey.astype(np.int16) - ground.astype(np.int16)) > 48
    return cv2.morphologyEx(far.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))


def _filled(mask: np.ndarray) -> np.ndarray:
    """`mask` with every hole filled (what the outline encloses belongs to the glyph)."""
    h, w = mask.shape
    padded = np.zeros((h + 2, w + 2), np.uint8)
    padded[1:-1, 1:-1] = mask
    outside = padded.copy()
    cv2.floodFill(outside, np.zeros((h + 4, w + 4), np.uint8), (0, 0), 1)
    return ((padded == 1) | (outside == 0))[1:-1, 1:-1].astype(np.uint8)


def silhouettes(rgb: np.ndarray, min_area: int = 150) -> list[tuple[np.ndarray, list[float]]]:
    """Filled outlined shapes of glyph size: (normalised silhouette, centre) for each."""
    filled = _filled(_outline(rgb))
    n, labels, stats, centroids = cv2.connectedComponentsWithStats(filled)
    out = []
    for i in range(1, n):
        x, y, w, h, area = stats[i]
        if area >= min_area and 12 <= w <= 110 and 12 <= h <= 110:
            shape = (labels[y : y + h, x : x + w] == i).astype(np.uint8)
            out.append((normalised(shape), [float(c) for c in centroids[i]]))
    return out


def normalised(shape: np.ndarray) -> np.ndarray:
    """`shape` scaled to a fixed area with its centroid at the canvas centre (float32)."""
    ys, xs = np.nonzero(shape)
    scale = float(np.sqrt(_AREA / max(1, len(xs))))
    matrix = np.float32([[scale, 0, _SIDE / 2 - scale * xs.mean()],
                         [0, scale, _SIDE / 2 - scale * ys.mean()]])  # fmt: skip
    warped = cv2.warpAffine(shape.astype(np.float32), matrix, (_SIDE, _SIDE))
    return (warped > 0.5).astype(np.float32)


def _best_overlap(a: np.ndarray, b: np.ndarray) -> float:
    best = 0.0
    for turn in range(0, 360, 10):
        matrix = cv2.getRotationMatrix2D((_SIDE / 2, _SIDE / 2), turn, 1.0)
        turned = cv2.warpAffine(a, matrix, (_SIDE, _SIDE)) > 0.5
        inter = float(np.logical_and(turned, b > 0.5).sum())
        union = float(np.logical_or(turned, b > 0.5).sum()) or 1.0
        best = max(best, inter / union)
    return best


def _prompt_shapes(prompt: np.ndarray, count: int) -> list[np.ndarray | None]:
    h, w = prompt.shape[:2]
    pitch = (w - 12) / count
    shapes: list[np.ndarray | None] = []
    for i in range(count):
        found = silhouettes(prompt[:, round(6 + i * pitch) : round(6 + (i + 1) * pitch)], 80)
        biggest = max(found, key=lambda f: float(f[0].sum()), default=None)
        shapes.append(None if biggest is None else biggest[0])
    return shapes


def silhouette_match(view: object, order: list[int] | None = None) -> list[list[float]] | None:
    """The attack: see the module's docstring. `view` is bench.adversary.click.View; `order`,
    the click order shown in each prompt slot (left to right when not given)."""
    from bench.adversary.click import assign, in_order

    scene = silhouettes(view.scene)  # type: ignore[attr-defined]
    count = view.count  # type: ignore[attr-defined]
    if len(scene) < count:
        return None
    scores = np.zeros((count, len(scene)))
    for i, shape in enumerate(_prompt_shapes(view.prompt, count)):  # type: ignore[attr-defined]
        if shape is not None:
            scores[i] = [_best_overlap(shape, found) for found, _ in scene]
    found = [scene[j][1] for j in assign(scores)]
    return in_order(found, order) if order else found
