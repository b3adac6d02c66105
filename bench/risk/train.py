"""Train the behaviour model and write humangate/risk/weights/behaviour-v1.json, reproducibly.

Run: `.venv/bin/python -m bench.risk.train [--n 600] [--out PATH] [--cache DIR]` (about ten
minutes on 2 shared cores). Traces come from bench.risk.cells (`cell_traces(cell, seed, n)`), all
on seed `TRAIN_SEED` (`HOLDOUT_SEED` is left for bench.risk.evaluate and bench.risk.lofo):
`HUMAN_FACTOR * n` per human cell (`HUMAN_CELLS`: the "human" family and every variant of
bench.risk.variants), `n` per named bot family plain and with bench.risk.tricks on top, and
`RANDOMIZED_FACTOR * n` of the wide `RANDOMIZED` family (weighing `RANDOMIZED_WEIGHT` named
families). "replayed" is left out (`EXCLUDED`): a replay is a person's trace, which only the
replay fingerprints can catch, and teaching the model to fail it would teach it to fail people;
the held-out families of bench.risk.adversaries are never trained on.

The model is an L2-regularised logistic regression in numpy (Newton's method: no optimiser
settings, no scikit-learn), over features standardised against the human traces (median and
IQR / 1.349), clipped to +-`CLIP` (`ONE_SIDED` features to [-`CLIP`, 0]: a cue a script adds in a
line never buys anything), with a squared term for every feature whose sign is free in `SPEC`
and a product term for every pair of them (`PAIRS`); the declared signs, and the squared terms'
(<= 0: both tails suspicious, never rewarded), are enforced by dropping any term whose fitted
coefficient has the wrong sign and refitting. Classes weigh equally, every human cell equally
within the people and every bot cell within the bots. The threshold is the lowest over human
cells of the highest logit at which the 95% Wilson lower bound of that cell's training pass rate
is still `HUMAN_PASS`: each kind of person keeps the target. The replay fingerprints' projection
is learned by bench.risk.train_replay on `REPLAY_TRACES` "human" traces.

The file holds no timestamp and its numbers are rounded to 6 significant digits: the same code
and data write the same bytes.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bench.risk.train_replay import fit_replay
from bench.risk.variants import HUMAN_VARIANTS
from humangate.risk.features import FEATURE_NAMES, trajectory_features

TRAIN_SEED = 1
VALIDATION_SEED = 2  # the recipe (terms, L2, threshold rule) was chosen on this seed
HOLDOUT_SEED = 6  # never looked at while choosing anything (3 is the tests', 4-5 were peeked at)
N_PER_FAMILY = 600
REPLAY_TRACES = 6000  # "human" traces the replay fingerprints are fitted on, whatever --n is
HUMAN_FACTOR = 3  # human traces per bot family's: the threshold rests on the human tail
L2 = 3e-3
CLIP = 5.0
HUMAN_PASS = 0.97
Z95 = 1.959964
FINDING_MARGIN = 0.5  # logit units: smaller pushes are not worth naming
DEGENERATE = {"logit": -4.0, "reason": "no-movement"}
EXCLUDED = ("replayed",)  # a replay is a human trace: only the replay detector can catch it
OUT = Path(__file__).resolve().parents[2] / "humangate/risk/weights/behaviour-v1.json"
# What the model is trained on (bench/risk/cells.py names): people, and the bot families with
# and without the post-processing tricks. bench/risk/lofo.py leaves each out in turn.
HUMAN_CELLS: tuple[str, ...] = ("human", *HUMAN_VARIANTS)
TRICKS_IN_TRAINING = True
RANDOMIZED = "randomized"  # bench/risk/randomized.py: the wide, training-only bot family
RANDOMIZED_FACTOR = 5  # its traces per bot family's, and
RANDOMIZED_WEIGHT = 4.0  # its weight against one named bot family's

# Per feature: the sign its coefficient must have (+1: larger looks more human, -1: larger looks
# more machine-like, 0: free), and the reason names for a low and a high value.
SPEC: dict[str, tuple[int, str, str]] = {
    "duration_log": (0, "too-fast", "too-slow"),
    "reaction_log": (0, "instant-start", "slow-start"),
    "distance_log": (0, "short-drag", "long-drag"),
    "path_efficiency": (-1, "wandering-path", "straight-path"),
    "y_std_log": (1, "straight-path", "wandering-path"),
    "y_drift_log": (1, "straight-path", "wandering-path"),
    "peak_time_frac": (0, "early-speed-peak", "late-speed-peak"),
    "peak_mean_ratio": (0, "constant-speed", "atypical-speed-profile"),
    "speed_skew": (0, "atypical-speed-profile", "atypical-speed-profile"),
    "speed_cv": (0, "constant-speed", "atypical-speed-profile"),
    "accel_log": (0, "constant-speed", "atypical-speed-profile"),
    "jerk_log": (0, "too-smooth", "jerky-movement"),
    "turning_log": (1, "straight-path", "wandering-path"),
    "curvature_cv": (0, "uniform-curvature", "wandering-path"),
    "pause_count": (0, "no-hesitation", "hesitant"),
    "pause_frac": (0, "no-hesitation", "hesitant"),
    "start_delay_log": (0, "abrupt-start", "slow-start"),
    "end_hold_log": (0, "abrupt-release", "long-hold"),
    "overshoot_rel": (0, "no-correction", "large-overshoot"),
    "reversals": (0, "no-correction", "many-corrections"),
    "submovements": (0, "no-correction", "many-corrections"),
    "tremor_log": (0, "no-tremor", "excess-jitter"),
    "tremor_frac": (0, "no-tremor", "excess-jitter"),
    "interval_cv": (1, "regular-timing", "irregular-timing"),
    "interval_repeat_frac": (-1, "irregular-timing", "regular-timing"),
    "step_repeat_frac": (-1, "varied-steps", "repeated-steps"),
    "fitts_time_log": (0, "too-fast", "too-slow"),
    "residual_log": (0, "no-tremor", "excess-jitter"),
    "residual_lag1": (0, "point-noise", "too-smooth"),
    "tremor_centroid": (0, "slow-wobble", "fast-jitter"),
    "speed_sparc": (0, "jerky-movement", "too-smooth"),
    "approach_frac": (0, "abrupt-arrival", "slow-approach"),
    "clock_drift": (-1, "steady-clock", "uneven-clock"),
    "point_repeats_log": (-1, "no-repeats", "repeated-points"),
}
# Cues a script adds in a line or two (bench/risk/tricks.py: pauses, drift, timing noise): their
# z is capped at 0 (the file's `clip_high`), so lacking them costs but having them buys nothing.
ONE_SIDED: tuple[str, ...] = (
    "reaction_log",
    "y_std_log",
    "y_drift_log",
    "pause_count",
    "pause_frac",
    "start_delay_log",
    "end_hold_log",
    "interval_cv",
)
# Where the sign is free, both tails can be implausible for a person (too fast and too slow,
# no tremor and white noise): a squared term, its coefficient held <= 0.
QUADRATIC = tuple(name for name in FEATURE_NAMES if SPEC[name][0] == 0)
# Pairs of free-sign features: combinations people do not produce (a late speed peak with a
# long hold, say) that no feature shows alone. Declared signs stay monotone: none is paired.
PAIRS = tuple(itertools.combinations(QUADRATIC, 2))
PAIR_SCALE = 3.0  # products of z-scores are divided by this in fitting, for a balanced ridge

Matrix = NDArray[np.float64]


def family_traces(family: str, seed: int, n: int) -> list[Any]:
    """`n` traces of one cell (a family, a human variant, a bot family "+tricks")."""
    from bench.risk.cells import cell_traces

    return list(cell_traces(family, seed, n))


def feature_matrix(traces: Iterable[Any]) -> Matrix:
    """One row of `FEATURE_NAMES` per trace; degenerate traces are left out."""
    rows = []
    for trace in traces:
        f = trajectory_features(trace)
        if not f["degenerate"]:
            rows.append([f[name] for name in FEATURE_NAMES])
    return np.asarray(rows, dtype=np.float64).reshape(-1, len(FEATURE_NAMES))


def family_names() -> tuple[list[str], list[str]]:
    """Human and bot family names, bots as bench.risk.families.BOT_FAMILIES orders them."""
    from bench.risk.families import BOT_FAMILIES, FAMILIES

    bots = [name for name in BOT_FAMILIES if name in FAMILIES]
    return [name for name in FAMILIES if name not in BOT_FAMILIES], bots


def training_cells() -> tuple[list[str], list[str]]:
    """The human cells and the bot cells the shipped recipe trains on."""
    from bench.risk.cells import TRICKS

    _, bots = family_names()
    trainable = [*(b for b in bots if b not in EXCLUDED), RANDOMIZED]
    tricks = [f"{b}{TRICKS}" for b in trainable] if TRICKS_IN_TRAINING else []
    return list(HUMAN_CELLS), trainable + tricks


def cell_size(cell: str, n: int) -> int:
    """Training traces of `cell` when a bot family gets `n`."""
    from bench.risk.cells import base_family, is_human

    if is_human(cell):
        return HUMAN_FACTOR * n
    return RANDOMIZED_FACTOR * n if base_family(cell) == RANDOMIZED else n


def cell_weight(cell: str) -> float:
    from bench.risk.cells import base_family

    return RANDOMIZED_WEIGHT if base_family(cell) == RANDOMIZED else 1.0


def collect(families: Iterable[str], seed: int, n: int) -> dict[str, Matrix]:
    return {family: feature_matrix(family_traces(family, seed, n)) for family in families}


def centre_and_scale(human: Matrix) -> tuple[Matrix, Matrix]:
    """Per-feature median and robust spread (IQR / 1.349, else std, else 1) of human rows."""
    centre = np.median(human, axis=0)
    q1, q3 = np.percentile(human, [25, 75], axis=0)
    scale = (q3 - q1) / 1.349
    std = human.std(axis=0)
    scale = np.where(scale > 1e-9, scale, np.where(std > 1e-9, std, 1.0))
    return centre, scale


def design(x: Matrix, centre: Matrix, scale: Matrix) -> Matrix:
    """Clipped z-scores, then a squared column for each `QUADRATIC` feature."""
    z = np.clip((x - centre) / scale, -CLIP, CLIP)
    for name in ONE_SIDED:
        column = FEATURE_NAMES.index(name)
        z[:, column] = np.minimum(z[:, column], 0.0)
    quad = [FEATURE_NAMES.index(name) for name in QUADRATIC]
    a = [FEATURE_NAMES.index(x) for x, _ in PAIRS]
    b = [FEATURE_NAMES.index(y) for _, y in PAIRS]
    return np.hstack([z, z[:, quad] ** 2, z[:, a] * z[:, b] / PAIR_SCALE])


def column_signs() -> NDArray[np.int64]:
    signs = [SPEC[name][0] for name in FEATURE_NAMES] + [-1] * len(QUADRATIC) + [0] * len(PAIRS)
    return np.array(signs)


def newton_logistic(
    x: Matrix, y: Matrix, w: Matrix, free: NDArray[np.bool_], start: Matrix | None = None
) -> Matrix:
    """Weighted L2 logistic regression on the `free` columns; returns [intercept, coefs...]."""
    a = np.hstack([np.ones((len(x), 1)), x[:, free]])
    beta = np.zeros(a.shape[1])
    if start is not None:  # a nearby solution (leave-one-out refits): fewer Newton steps
        beta = np.concatenate([start[:1], start[1:][free]])
    ridge = np.full(a.shape[1], L2)
    ridge[0] = 0.0  # the intercept is not shrunk
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(a @ beta, -40, 40)))
        grad = a.T @ (w * (p - y)) + ridge * beta
        hess = (a * (w * p * (1 - p))[:, None]).T @ a + np.diag(ridge)
        step = np.linalg.solve(hess + 1e-12 * np.eye(len(beta)), grad)
        beta -= step
        if np.abs(step).max() < 1e-10:
            break
    full = np.zeros(x.shape[1] + 1)
    full[0] = beta[0]
    full[1:][free] = beta[1:]
    return full


def fit_signed(x: Matrix, y: Matrix, w: Matrix, start: Matrix | None = None) -> Matrix:
    """`newton_logistic`, dropping the wrong-signed columns (all of a round's at once: with the
    pairs there are many) and refitting until none is left."""
    signs = column_signs()
    free = np.ones(x.shape[1], dtype=bool)
    while True:
        beta = newton_logistic(x, y, w, free, start)
        wrong = np.flatnonzero(free & (signs * beta[1:] < 0))
        if not len(wrong):
            return beta
        free[wrong] = False
        start = beta  # the next round's optimum is near: a warm start saves most steps


def fit(
    humans: Mapping[str, Matrix], bots: Mapping[str, Matrix], start: Matrix | None = None
) -> dict[str, Any]:
    """Fit on human cells' rows and bot cells' rows; returns the model part of the weights file.

    Every human cell weighs the same within the people, every bot cell within the bots; the
    threshold is the lowest of the human cells' own (`human_threshold`), so that each kind of
    person, not only their pool, keeps the target.
    """
    human = np.vstack(list(humans.values()))
    centre, scale = centre_and_scale(human)
    people = [design(h, centre, scale) for h in humans.values()]
    blocks = people + [design(b, centre, scale) for b in bots.values()]
    x = np.vstack(blocks)
    y = np.concatenate([np.ones(len(human))] + [np.zeros(len(b)) for b in bots.values()])
    total = sum(cell_weight(name) for name in bots)
    w = np.concatenate(
        [np.full(len(h), 1.0 / (len(h) * len(humans))) for h in humans.values()]
        + [np.full(len(b), cell_weight(name) / (len(b) * total)) for name, b in bots.items()]
    )
    beta = fit_signed(x, y, w, start)
    threshold_logit = min(human_threshold(block @ beta[1:] + beta[0]) for block in people)
    n, q = len(FEATURE_NAMES), len(QUADRATIC)
    coef_sq = dict(zip(QUADRATIC, beta[1 + n : 1 + n + q], strict=True))
    pairs = [
        {"a": a, "b": b, "coef": _round(coef / PAIR_SCALE)}
        for (a, b), coef in zip(PAIRS, beta[1 + n + q :], strict=True)
        if coef != 0.0
    ]
    features = [
        {
            "name": name,
            "centre": _round(centre[i]),
            "scale": _round(scale[i]),
            "coef": _round(beta[1 + i]),
            "coef_sq": _round(coef_sq.get(name, 0.0)),
            "clip": CLIP,
            **({"clip_high": 0.0} if name in ONE_SIDED else {}),
            "reason_low": SPEC[name][1],
            "reason_high": SPEC[name][2],
        }
        for i, name in enumerate(FEATURE_NAMES)
    ]
    return {
        "beta": beta,  # the fitted vector, for warm starts; weights_file drops it
        "features": features,
        "interactions": pairs,
        "intercept": _round(beta[0]),
        # Clipped: a separable toy fit (a tiny n) must still give a threshold inside (0, 1).
        "threshold": _floor(1.0 / (1.0 + math.exp(-min(max(threshold_logit, -13.0), 13.0)))),
    }


def wilson(k: int, n: int) -> tuple[float, float]:
    """95% Wilson score interval of k successes in n trials."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def human_threshold(logits: Matrix) -> float:
    """The highest logit threshold at which the 95% Wilson lower bound of the human pass rate
    is still `HUMAN_PASS`: a margin for the sampling error of the training tail."""
    ordered = np.sort(logits)
    n = len(ordered)
    failing = 0
    while failing + 1 < n and wilson(n - failing - 1, n)[0] >= HUMAN_PASS:
        failing += 1
    return float(ordered[failing])


def _round(value: float) -> float:
    return float(f"{float(value):.6g}")


def _floor(p: float) -> float:
    """`p` rounded down to 6 decimals, so rounding never costs a human trace its pass."""
    return math.floor(p * 1e6) / 1e6


def train(n: int, cache: Path | None = None) -> tuple[dict[str, Any], dict[str, Matrix], list[Any]]:
    """Fit on the training seed: the model part of the weights, the feature matrices per
    cell, and the "human" family's traces at the default size (for the replay hashes)."""
    from bench.risk.lofo import features

    humans, bots = training_cells()
    data = {}
    for cell in (*humans, *bots):
        rows = features(cell, TRAIN_SEED, cell_size(cell, n), cache)
        data[cell] = rows[rows[:, -1] < 0.5, :-1]  # degenerate traces left out
    traces = family_traces("human", TRAIN_SEED, REPLAY_TRACES)
    human_data = {h: data[h] for h in humans}
    model = fit(human_data, {b: m for b, m in data.items() if b not in humans})
    model.pop("beta")
    return model, data, traces


def weights_file(n: int, cache: Path | None = None) -> dict[str, Any]:
    model, data, human_traces = train(n, cache)
    humans, bots = training_cells()
    _, families = family_names()
    return {
        "version": "behaviour-v1",
        "about": "Logistic behaviour model over humangate.risk.features; see docs/risk-model.md.",
        **model,
        "finding_margin": FINDING_MARGIN,
        "degenerate": DEGENERATE,
        "replay": fit_replay(human_traces, TRAIN_SEED),
        "training": {
            "command": f"python -m bench.risk.train --n {n}",
            "generator": "bench.risk.families.generate(family, seed, n)",
            "train_seed": TRAIN_SEED,
            "validation_seed": VALIDATION_SEED,
            "holdout_seed": HOLDOUT_SEED,
            "n_per_family": n,
            "n_per_human_family": HUMAN_FACTOR * n,
            "n_randomized": RANDOMIZED_FACTOR * n,
            "randomized_weight": RANDOMIZED_WEIGHT,
            "one_sided": list(ONE_SIDED),
            "interactions": "every pair of the quadratic (free-sign) features",
            "replay_traces": f"human family, {REPLAY_TRACES} traces",
            "human_families": humans,
            "bot_families": bots,
            "excluded_families": [b for b in families if b not in data],
            "samples": {name: len(m) for name, m in data.items()},
            "l2": L2,
            "human_pass_target": HUMAN_PASS,
            "threshold_rule": "the lowest over human cells of the highest logit whose 95% Wilson"
            " lower bound of that cell's training pass rate is at least human_pass_target",
            "quadratic": list(QUADRATIC),
            "centre": "median of the human training traces",
            "scale": "IQR / 1.349 of the human training traces (std, else 1, when zero)",
        },
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=N_PER_FAMILY, help="traces per family")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--cache", type=Path, default=None, help="keep traces and features here")
    args = parser.parse_args(argv)
    data = weights_file(args.n, args.cache)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: threshold {data['threshold']}")
    print(f"samples: {data['training']['samples']}")


if __name__ == "__main__":
    main()
