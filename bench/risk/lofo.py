"""Leave one family out, on both sides: what the behaviour model does with what it never saw.

Run: `.venv/bin/python -m bench.risk.lofo [--n 300] [--train-n 600] [--markdown] [--cache DIR]`.

The recipe is bench/risk/train.py's (its cells, terms, threshold rule), refitted here at
`--train-n` traces per bot cell (more per human cell and for the randomized family:
`train.cell_size`) on the training seed; every figure is read on the held-out seed.

- Bots: for each bot family F, plain and with bench/risk/tricks.py on top ("+tricks"): a model
  trained on every training cell except F and F+tricks, and the share of F's held-out traces
  that it lets through in managed mode (a token without a visual challenge: the behaviour
  score at or above the model's threshold). Families the recipe never trains on (the held-out
  ones of bench/risk/adversaries.py, and the replays) meet the model trained on everything.
- People: for each human variant H (bench/risk/variants.py, and the "human" family), a model
  trained without H, and the share of H's held-out traces that pass managed mode.

A replay is a person's movement: in managed mode the replay fingerprints (bench.risk.evaluate
measures them) stand between it and a token, so its row is the behaviour model's share alone.
Targets (issue 16): every human variant >= 97%, every bot family with tricks <= 10%.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from bench.risk.cells import TRICKS, base_family, cell_traces
from bench.risk.task import Point
from bench.risk.train import (
    DEGENERATE,
    EXCLUDED,
    FINDING_MARGIN,
    HOLDOUT_SEED,
    TRAIN_SEED,
    cell_size,
    fit,
    training_cells,
    wilson,
)
from bench.risk.tricks import with_tricks
from humangate.risk import features as features_module
from humangate.risk.features import FEATURE_NAMES, trajectory_features
from humangate.risk.model import BehaviourModel, model_from_dict

HUMAN_TARGET = 0.97
BOT_TARGET = 0.10
Matrix = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Cell:
    """One row: `passed` of `n` held-out traces got a token without a visual challenge."""

    cell: str
    human: bool
    training: str  # "left out", "never trained on", or "trained on" (the only human cell)
    passed: int
    n: int

    @property
    def rate(self) -> float:
        return self.passed / max(self.n, 1)

    def cell_text(self) -> str:
        lo, hi = wilson(self.passed, self.n)
        return f"{100 * self.rate:5.1f}% [{100 * lo:4.1f}, {100 * hi:5.1f}]"

    @property
    def meets(self) -> bool:
        if self.human:
            return self.rate >= HUMAN_TARGET
        return not self.cell.endswith(TRICKS) or self.rate <= BOT_TARGET


def bot_families() -> list[str]:
    """Every bot family: the scripted and library ones, the replays, the held-out ones."""
    from bench.risk.adversaries import HELD_OUT
    from bench.risk.families import BOT_FAMILIES
    from bench.risk.train import RANDOMIZED

    return [*BOT_FAMILIES, RANDOMIZED, *HELD_OUT]


def human_cells() -> list[str]:
    from bench.risk.variants import HUMAN_VARIANTS

    return ["human", *HUMAN_VARIANTS]


# The generator files every cell depends on, and those only some families need: a change to the
# human model or to a held-out family must not throw away the slow external families' traces.
COMMON_SOURCES = ("task.py", "sampling.py", "bots.py", "external.py", "families.py", "cells.py")
HUMAN_SOURCES = ("human.py", "variants.py")


def _digest(paths: Sequence[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _source_files(cell: str) -> list[Path]:
    """The generator sources `cell`'s traces depend on."""
    from bench.risk.adversaries import HELD_OUT
    from bench.risk.cells import base_family, is_human
    from bench.risk.train import RANDOMIZED

    base = base_family(cell)
    names = list(COMMON_SOURCES)
    if base != cell:
        names.append("tricks.py")
    if is_human(base) or base == "replayed":
        names += HUMAN_SOURCES
    elif base in HELD_OUT:
        names += ["human.py", "adversaries.py"]
    elif base == RANDOMIZED:
        names += ["human.py", "randomized.py"]
    return [Path(__file__).resolve().parent / name for name in names]


@functools.cache
def _features_hash() -> str:
    """Of the features module as imported (read once: an edit after the import must not file
    the old code's matrices under the new code's name)."""
    return _digest([Path(features_module.__file__ or "")])


_features_hash()


def traces(cell: str, seed: int, n: int, cache: Path | None = None) -> list[list[Point]]:
    """`cell_traces(cell, seed, n)`, kept in `cache` (a "+tricks" cell reuses its plain traces:
    cells.py draws them the same way)."""
    from bench.risk.cells import base_family

    path = cache / f"traces-{cell}-{seed}-{n}-{_digest(_source_files(cell))}.npz" if cache else None
    if path is not None and path.exists():
        with np.load(path) as stored:
            flat, ends = stored["points"], stored["ends"]
        return [[tuple(p) for p in a.tolist()] for a in np.split(flat, ends[:-1])]
    base = base_family(cell)
    if base != cell and cache is not None:
        plain = traces(base, seed, n, cache)
        out = [
            with_tricks(random.Random(f"{cell}/tricks/{seed}/{index}"), trace)
            for index, trace in enumerate(plain)
        ]
    else:
        out = cell_traces(cell, seed, n)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        flat = np.asarray([p for trace in out for p in trace], dtype=np.float64).reshape(-1, 3)
        np.savez(path, points=flat, ends=np.cumsum([len(trace) for trace in out]))
    return [[tuple(p) for p in trace] for trace in out]  # type: ignore[misc]


def features(cell: str, seed: int, n: int, cache: Path | None = None) -> Matrix:
    """One row of FEATURE_NAMES per trace, then a `degenerate` column (1.0: unmeasurable)."""
    key = f"{_digest(_source_files(cell))}-{_features_hash()}"
    path = cache / f"{cell}-{seed}-{n}-{key}.npy" if cache else None
    if path is not None and path.exists():
        loaded: Matrix = np.load(path)
        return loaded
    rows = []
    for trace in traces(cell, seed, n, cache):
        f = trajectory_features(trace)
        rows.append([f[name] for name in FEATURE_NAMES] + [f["degenerate"]])
    out = np.asarray(rows, dtype=np.float64).reshape(-1, len(FEATURE_NAMES) + 1)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, out)
    return out


def _measurable(rows: Matrix) -> Matrix:
    return rows[rows[:, -1] < 0.5, :-1]


def train_model(
    data: dict[str, Matrix], humans: Sequence[str], bots: Sequence[str], start: Matrix | None = None
) -> tuple[BehaviourModel, Matrix]:
    """A model of the recipe on these cells, and its fitted vector (a warm start for refits)."""
    weights = fit(
        {h: _measurable(data[h]) for h in humans}, {b: _measurable(data[b]) for b in bots}, start
    )
    beta = weights.pop("beta")
    extra = {"finding_margin": FINDING_MARGIN, "degenerate": DEGENERATE}
    return model_from_dict({**weights, **extra}), beta


def passes(model: BehaviourModel, rows: Matrix) -> int:
    """How many rows get a token without a visual challenge: score at or above the threshold."""
    cut, count = model.threshold_logit, 0
    for row in rows:
        values = dict(zip((*FEATURE_NAMES, "degenerate"), row.tolist(), strict=True))
        count += model.full_logit(values) >= cut
    return count


def run(n: int, train_n: int, cache: Path | None = None) -> list[Cell]:
    """Every bot family (plain and with tricks) and every human variant, left out in turn."""
    humans, bots = training_cells()
    train = {c: features(c, TRAIN_SEED, cell_size(c, train_n), cache) for c in (*humans, *bots)}
    full, beta = train_model(train, humans, bots)
    out: list[Cell] = []
    for family in bot_families():
        trained = [b for b in bots if base_family(b) != family]
        model = full if len(trained) == len(bots) else train_model(train, humans, trained, beta)[0]
        for cell in (family, f"{family}{TRICKS}"):
            rows = features(cell, HOLDOUT_SEED, n, cache)
            status = "left out" if len(trained) < len(bots) else "never trained on"
            out.append(Cell(cell, False, status, passes(model, rows), len(rows)))
    for cell in human_cells():
        kept = [h for h in humans if h != cell]
        status = "never trained on" if len(kept) == len(humans) else "left out"
        model = train_model(train, kept, bots, beta)[0] if status == "left out" and kept else full
        status = "trained on" if not kept else status
        rows = features(cell, HOLDOUT_SEED, n, cache)
        out.append(Cell(cell, True, status, passes(model, rows), len(rows)))
    return out


def table(cells: Sequence[Cell], markdown: bool = False) -> list[str]:
    """The bots' table (plain and +tricks side by side), then the people's."""
    by_name = {c.cell: c for c in cells}
    bots = [c for c in cells if not c.human and not c.cell.endswith(TRICKS)]
    lines = []
    if markdown:
        lines += ["| bot family | trained on? | plain | +tricks |", "| --- | --- | ---: | ---: |"]
    else:
        lines.append(f"{'bot family':16} {'training':17} {'plain':>22} {'+tricks':>22}")
    for c in bots:
        tricked = by_name[f"{c.cell}{TRICKS}"]
        left = tricked.training
        mark = "" if tricked.meets else " MISS"
        if markdown:
            lines.append(f"| {c.cell} | {left} | {c.cell_text()} | {tricked.cell_text()}{mark} |")
        else:
            lines.append(
                f"{c.cell:16} {left:17} {c.cell_text():>22} {tricked.cell_text():>22}{mark}"
            )
    people = [c for c in cells if c.human]
    if markdown:
        lines += [
            "",
            "| human variant | trained on? | passes managed mode |",
            "| --- | --- | ---: |",
        ]
    else:
        lines += ["", f"{'human variant':16} {'training':17} {'passes managed mode':>22}"]
    for c in people:
        mark, left = ("" if c.meets else " MISS"), c.training
        if markdown:
            lines.append(f"| {c.cell} | {left} | {c.cell_text()}{mark} |")
        else:
            lines.append(f"{c.cell:16} {left:17} {c.cell_text():>22}{mark}")
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="held-out traces per cell")
    parser.add_argument("--train-n", type=int, default=600, help="training traces per cell")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--cache", type=Path, default=None, help="keep traces and features here")
    args = parser.parse_args(argv)
    from bench._machine import print_facts

    print_facts()
    humans, bots = training_cells()
    print(f"\nrecipe: people {humans}; bots {bots}; never trained: {list(EXCLUDED)} and held-out")
    print(
        f"n = {args.n} held-out traces per cell (seed {HOLDOUT_SEED}), "
        f"{args.train_n} training traces per cell (seed {TRAIN_SEED})"
    )
    print("token without a visual challenge in managed mode, % [95% Wilson]\n")
    cells = run(args.n, args.train_n, args.cache)
    for line in table(cells, args.markdown):
        print(line)
    missed = [c for c in cells if not c.meets]
    print(f"\n{len(missed)} of {len(cells)} cells miss their target" if missed else "\nall met")


if __name__ == "__main__":
    main()
