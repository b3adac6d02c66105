"""Learn the replay fingerprints' centre and projection (the "replay" section of the weights).

Called by bench.risk.train on the human training traces. Each trace gets a replayed copy
(`replay_copy`: what the brief calls a naive replay, rescaled to another distance, with 1-2 px
of noise and up to 10% of time stretch); the differences between copies and originals give the
replay noise's covariance, the originals the covariance of people. The projection keeps the
`COMPONENTS` directions where people differ most in units of that noise (a generalised
eigenproblem), so a hash bucket `WIDTH` noise units wide holds a replay with its original often
and two people rarely. `WIDTH`, `HASHES` and `COMPONENTS` set that trade-off; the rates they
give are printed by bench.risk.evaluate.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bench.risk.task import sample_task
from humangate.risk.replay import VECTOR_SIZE, replay_vector

COMPONENTS = 6
WIDTH = 3.0  # noise standard deviations per bucket
HASHES = 8
TRIM = 0.9  # the noise covariance is taken from the closest 90% of copies
VERSION = "r1"

Matrix = NDArray[np.float64]


def replay_copy(trace: Sequence[Sequence[float]], rng: random.Random) -> list[tuple[float, ...]]:
    """A naive replay of `trace` onto a fresh task: x rescaled to its distance, y rescaled too
    or not, Gaussian noise of 0.3-1 px (so +-1-2 px), a 0.9-1.1 time stretch half the time,
    0.3-3 ms of timestamp noise, a new start time, whole pixels half the time."""
    arr = np.asarray(trace, dtype=np.float64)
    x, y, t = arr[:, 0] - arr[0, 0], arr[:, 1] - arr[0, 1], arr[:, 2] - arr[0, 2]
    scale = sample_task(rng).distance / x[-1] if abs(x[-1]) > 1 else 1.0
    y_scale = scale if rng.random() < 0.5 else 1.0
    stretch = rng.uniform(0.9, 1.1) if rng.random() < 0.5 else 1.0
    space, jitter = rng.uniform(0.3, 1.0), rng.uniform(0.3, 3.0)
    noise = np.random.default_rng(rng.getrandbits(64))
    x = x * scale + noise.normal(0.0, space, len(x))
    y = y * y_scale + noise.normal(0.0, space, len(y))
    t = np.maximum.accumulate(np.maximum(t * stretch + noise.normal(0.0, jitter, len(t)), 0.0))
    x[0] = y[0] = 0.0
    if rng.random() < 0.5:
        x, y = np.round(x) + 0.0, np.round(y) + 0.0
    start = rng.uniform(400.0, 3000.0)
    return [(float(a), float(b), float(c)) for a, b, c in zip(x, y, t + start, strict=True)]


def paired_vectors(traces: Sequence[Any], seed: int) -> tuple[Matrix, Matrix]:
    """Replay vectors of traces and of their copies, for the traces where both exist."""
    rng = random.Random(f"replay-copies/{seed}")
    originals, copies = [], []
    for trace in traces:
        a, b = replay_vector(trace), replay_vector(replay_copy(trace, rng))
        if a is not None and b is not None:
            originals.append(a)
            copies.append(b)
    shape = (-1, VECTOR_SIZE)
    return np.asarray(originals).reshape(shape), np.asarray(copies).reshape(shape)


def fit_replay(traces: Sequence[Any], seed: int) -> dict[str, Any]:
    """The "replay" section of the weights file, learned from human `traces`."""
    originals, copies = paired_vectors(traces, seed)
    diff = copies - originals
    spread = np.maximum(diff.std(axis=0), 1e-9)
    distance = np.sqrt(((diff / spread) ** 2).sum(axis=1))
    typical = diff[distance <= np.quantile(distance, TRIM)]
    noise_values, noise_vectors = np.linalg.eigh(np.cov(typical.T))
    whiten = noise_vectors / np.sqrt(np.maximum(noise_values, 1e-18))
    people_values, people_vectors = np.linalg.eigh(whiten.T @ np.cov(originals.T) @ whiten)
    order = np.argsort(people_values)[::-1][:COMPONENTS]
    projection = (whiten @ people_vectors[:, order]).T
    signs = np.sign(projection[np.arange(len(projection)), np.abs(projection).argmax(axis=1)])
    projection *= signs[:, None]  # eigenvectors' sign is arbitrary: fix it for identical files
    return {
        "version": VERSION,
        "centre": [_round(v) for v in np.median(originals, axis=0)],
        "projection": [[_round(v) for v in row] for row in projection],
        "width": WIDTH,
        "hashes": HASHES,
        "people_to_noise": [_round(v) for v in np.sqrt(people_values[order])],
        "pairs": len(originals),
    }


def _round(value: float) -> float:
    return float(f"{float(value):.6g}")
