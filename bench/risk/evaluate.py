"""Evaluate the shipped behaviour model and the replay fingerprints on held-out traces.

Run: `.venv/bin/python -m bench.risk.evaluate [--n 1000] [--no-lofo]` (about five minutes).

1. Every family on the held-out seed (the weights file's `holdout_seed`, never trained on; n
   traces per bot family, 3n per human family): the pass rate at the shipped threshold with a
   95% Wilson interval, and the ROC AUC of human traces against that family; then the human
   pass rate by pointer and by event rate.
2. Replays: naive copies of held-out people matching their original, independent people
   sharing a fingerprint (and the false-flag rate that implies for a unit remembering many
   traces), and the "replayed" family against the recordings it replays.
3. Leave one family out: for each bot family F, a model trained (same recipe, training seed)
   without F, tested on held-out F. This is the honest figure for a bot nobody trained on.

Targets: at least 97% of human traces pass, at most 2% of every bot family. Misses are listed
at the end. Every figure is measured on generated traces; docs/risk-model.md says how far that
carries.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from bench._machine import print_facts
from bench.risk.train import (
    DEGENERATE,
    EXCLUDED,
    HUMAN_FACTOR,
    HUMAN_PASS,
    collect,
    family_names,
    family_traces,
    fit,
    wilson,
)
from bench.risk.train_replay import replay_copy
from humangate.risk.features import FEATURE_NAMES, trajectory_features
from humangate.risk.model import BehaviourModel, load_model, model_from_dict
from humangate.risk.replay import trace_fingerprints

BOT_PASS = 0.02


def auc(positive: NDArray[np.float64], negative: NDArray[np.float64]) -> float:
    """ROC AUC: the chance a positive scores above a negative (ties count half)."""
    if not len(positive) or not len(negative):
        return float("nan")
    both = np.concatenate([positive, negative])
    _, inverse, counts = np.unique(both, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    ranks = (ends - (counts - 1) / 2.0)[inverse]  # average 1-based rank of each tie group
    n_pos, n_neg = len(positive), len(negative)
    return float((ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def logits(model: BehaviourModel, traces: Iterable[Any]) -> NDArray[np.float64]:
    return np.array([model.full_logit(trajectory_features(t)) for t in traces])


def rate_cell(passed: int, n: int) -> str:
    lo, hi = wilson(passed, n)
    return f"{100 * passed / max(n, 1):6.2f}%  [{100 * lo:5.2f}, {100 * hi:5.2f}]"


def held_out_table(
    model: BehaviourModel, scores: dict[str, NDArray[np.float64]], humans: list[str]
) -> list[str]:
    """Print pass rates and AUCs per family; return the targets missed."""
    cut = model.threshold_logit
    human = np.concatenate([scores[h] for h in humans])
    print(f"\n{'family':24} {'kind':5} {'n':>5}  {'pass  [95% Wilson]':>24}  {'AUC':>6}")
    missed = []
    pooled = ["(all human)"] if len(humans) > 1 else []
    rows = [*humans, *pooled, *(f for f in scores if f not in humans)]
    for family in rows:
        s = human if family == "(all human)" else scores[family]
        is_human = family in humans or family == "(all human)"
        passed = int((s >= cut).sum())
        cell = "     -" if is_human else f"{auc(human, s):6.4f}"
        kind = "human" if is_human else "bot"
        print(f"{family:24} {kind:5} {len(s):5}  {rate_cell(passed, len(s)):>24}  {cell}")
        rate = passed / max(len(s), 1)
        if is_human and rate < HUMAN_PASS:
            missed.append(f"{family}: {100 * rate:.2f}% of human traces pass (target >= 97%)")
        if not is_human and rate > BOT_PASS:
            alone = " by the behaviour model alone" if family in EXCLUDED else ""
            missed.append(f"{family}: {100 * rate:.2f}% pass{alone} (target <= 2%)")
    return missed


def human_breakdown(model: BehaviourModel, seed: int, n: int, humans: list[str]) -> list[str]:
    """Human pass rates by pointer and by event rate (the median interval between events);
    returns the pointers whose people miss the target."""
    from bench.risk.families import generate_with_tasks

    groups: dict[str, list[bool]] = {}
    for family in humans:
        for task, trace in generate_with_tasks(family, seed, n):
            passed = model.full_logit(trajectory_features(trace)) >= model.threshold_logit
            gaps = np.diff([p[2] for p in trace])
            hz = 1000.0 / max(float(np.median(gaps[gaps > 0])), 1e-3) if (gaps > 0).any() else 0
            band = next(b for b, top in RATE_BANDS if hz < top)
            for key in (f"{task.pointer}", f"{task.pointer}, events {band}"):
                groups.setdefault(key, []).append(bool(passed))
    print(f"\n{'human traces by':24} {'n':>11}  {'pass  [95% Wilson]':>24}")
    missed = []
    for key in sorted(groups):
        ok = groups[key]
        print(f"{key:24} {len(ok):11}  {rate_cell(sum(ok), len(ok)):>24}")
        if "," not in key and sum(ok) / len(ok) < HUMAN_PASS:
            missed.append(f"human, {key}: {100 * sum(ok) / len(ok):.2f}% pass (target >= 97%)")
    return missed


RATE_BANDS = (("< 45 Hz", 45.0), ("45-90 Hz", 90.0), ("90-200 Hz", 200.0), (">= 200 Hz", 1e18))


def lofo_table(
    train_data: dict[str, NDArray[np.float64]],
    test_traces: dict[str, list[Any]],
    humans: list[str],
    bots: list[str],
) -> list[str]:
    """Leave one bot family out of training, test on it; return the targets missed."""
    human_train = np.vstack([train_data[h] for h in humans])
    human_test = [t for h in humans for t in test_traces[h]]
    print(f"\n{'left out':24} {'n':>5}  {'its pass [95% Wilson]':>24}  {'AUC':>6}  human pass")
    missed = []
    for left in bots:
        rest = {b: train_data[b] for b in bots if b != left}
        weights = {**fit({"human": human_train}, rest), "finding_margin": 1.0}
        model = model_from_dict({**weights, "degenerate": DEGENERATE})
        s_bot, s_human = logits(model, test_traces[left]), logits(model, human_test)
        cut = model.threshold_logit
        passed = int((s_bot >= cut).sum())
        h_rate = float((s_human >= cut).mean())
        print(
            f"{left:24} {len(s_bot):5}  {rate_cell(passed, len(s_bot)):>24}  "
            f"{auc(s_human, s_bot):6.4f}  {100 * h_rate:9.2f}%"
        )
        if passed / max(len(s_bot), 1) > BOT_PASS:
            missed.append(f"{left}, left out of training: {100 * passed / len(s_bot):.2f}% pass")
    return missed


def replayed_sources(seed: int, n: int) -> list[list[Any]]:
    """The recordings bench.risk.bots.replayed_trace replays, rebuilt from its seeding (a
    replay keeps its recording's point count, which the caller checks)."""
    from bench.risk.human import human_trace
    from bench.risk.task import sample_task

    sources = []
    for index in range(n):
        rng = random.Random(f"replayed/{seed}/{index}")
        sample_task(rng)
        source_rng = random.Random(f"replay-source/{rng.getrandbits(64)}")
        sources.append(human_trace(source_rng, sample_task(source_rng)))
    return sources


def _matched(a: Sequence[str], b: Sequence[str]) -> bool:
    return bool(set(a) & set(b))


def pair_collisions(prints: list[tuple[str, ...]]) -> tuple[int, int]:
    """Pairs of traces sharing at least one fingerprint, and pairs in all."""
    holders: dict[str, list[int]] = {}
    for index, fingerprints in enumerate(prints):
        for f in fingerprints:
            holders.setdefault(f, []).append(index)
    pairs = {
        (a, b) for group in holders.values() for i, a in enumerate(group) for b in group[i + 1 :]
    }
    usable = sum(1 for p in prints if p)
    return len(pairs), usable * (usable - 1) // 2


def replay_section(
    model: BehaviourModel, traces: dict[str, list[Any]], humans: list[str], seed: int
) -> list[str]:
    """Replay recall and false collisions; return the targets missed."""
    human = [t for h in humans for t in traces[h]]
    prints = [trace_fingerprints(t) for t in human]
    rng = random.Random(f"evaluate-copies/{seed}")
    pairs = [
        (p, trace_fingerprints(replay_copy(t, rng)))
        for p, t in zip(prints, human, strict=True)
        if p
    ]
    caught = sum(_matched(a, b) for a, b in pairs)
    print("\nreplay fingerprints")
    print(
        f"  naive copies of held-out people (train_replay.replay_copy) matching their original:"
        f" {rate_cell(caught, len(pairs))} of {len(pairs)}"
    )
    colliding, total = pair_collisions(prints)
    rate = colliding / max(total, 1)
    print(
        f"  independent people sharing a fingerprint: {colliding} of {total} pairs "
        f"({rate:.2e} per pair)"
    )
    for stored in (100, 1000, 10000):
        print(
            f"    a person flagged when the unit remembers {stored:>5} traces: "
            f"{100 * (1 - (1 - rate) ** stored):6.3f}%"
        )
    if "replayed" not in traces:
        return []
    return _replayed_family(model, traces["replayed"], seed)


def _replayed_family(model: BehaviourModel, replayed: list[Any], seed: int) -> list[str]:
    n = len(replayed)
    behaviour = logits(model, replayed) >= model.threshold_logit
    print(f"  'replayed' family passing the behaviour model: {rate_cell(int(behaviour.sum()), n)}")
    sources = replayed_sources(seed, n)
    if any(len(a) != len(b) for a, b in zip(sources, replayed, strict=True)):
        print("  (its recordings could not be rebuilt: bench.risk.bots changed its seeding)")
        return ["replayed: recordings not rebuilt, replay detection not measured on it"]
    pairs = zip(sources, replayed, strict=True)
    flagged = np.array([_matched(trace_fingerprints(a), trace_fingerprints(b)) for a, b in pairs])
    both = int((behaviour & ~flagged).sum())
    print(f"  'replayed' family matching its recording: {rate_cell(int(flagged.sum()), n)}")
    print(f"  'replayed' family passing both checks:    {rate_cell(both, n)}")
    if both / n > BOT_PASS:
        return [f"replayed: {100 * both / n:.2f}% pass the behaviour and replay checks together"]
    return []


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="held-out traces per bot family")
    parser.add_argument("--no-lofo", action="store_true", help="skip leave-one-family-out")
    args = parser.parse_args(argv)
    print_facts()
    model = load_model()
    meta = model.metadata
    seed, train_seed, train_n = meta["holdout_seed"], meta["train_seed"], meta["n_per_family"]
    humans, bots = family_names()
    n_human = HUMAN_FACTOR * args.n
    print(
        f"\nmodel {model.version}: {len(FEATURE_NAMES)} features, threshold "
        f"{model.threshold} (logit {model.threshold_logit:.3f})"
    )
    print(f"held-out seed {seed}: {n_human} traces per human family, {args.n} per bot family")
    traces = {
        f: family_traces(f, seed, n_human if f in humans else args.n) for f in (*humans, *bots)
    }
    scores = {f: logits(model, traces[f]) for f in traces}
    missed = held_out_table(model, scores, humans)
    missed += human_breakdown(model, seed, n_human, humans)
    missed += replay_section(model, traces, humans, seed)
    if not args.no_lofo:
        print(
            f"\nleave one family out: trained on seed {train_seed} ({HUMAN_FACTOR * train_n} "
            f"per human family, {train_n} per bot family), tested on the held-out traces"
        )
        trainable = [b for b in bots if b not in meta.get("excluded_families", [])]
        train_data = collect(humans, train_seed, HUMAN_FACTOR * train_n)
        train_data.update(collect(trainable, train_seed, train_n))
        missed += lofo_table(train_data, traces, humans, trainable)
    print("\ntargets missed:" if missed else "\nall targets met")
    for line in missed:
        print(f"  MISSED {line}")


if __name__ == "__main__":
    main()
