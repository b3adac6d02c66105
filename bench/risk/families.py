"""The trace families the risk engine is trained and benchmarked on, and a seeded generator.

`FAMILIES` maps a family name to `(rng, task) -> trace`. `generate(family, seed, n)` draws task
and trace number i from `random.Random(f"{family}/{seed}/{i}")` alone, so the same arguments
give the same traces, a family's traces never share a seed pool with another family's, and a
slice of a run equals a smaller run. ghost-cursor is generated through one node process per
call of `generate` (see bench/risk/external.py).

Run `python -m bench.risk.families --summary [--n 300] [--seed 0]` for a table per family.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable, Sequence

from bench.risk import bots, external
from bench.risk.human import human_trace
from bench.risk.task import DragTask, Point, sample_task

Generator = Callable[[random.Random, DragTask], list[Point]]
BatchGenerator = Callable[[Sequence[random.Random], Sequence[DragTask]], list[list[Point]]]

FAMILIES: dict[str, Generator] = {
    "human": human_trace,
    "straight-line": bots.straight_line_trace,
    "constant-speed": bots.constant_speed_trace,
    "eased": bots.eased_trace,
    "bezier": bots.bezier_trace,
    "replayed": bots.replayed_trace,
    "ghost-cursor": external.ghost_cursor_trace,
    "humancursor": external.humancursor_trace,
    "pyclick": external.pyclick_trace,
}
BOT_FAMILIES = [name for name in FAMILIES if name != "human"]
EXTERNAL_FAMILIES = ["ghost-cursor", "humancursor", "pyclick"]
_BATCHED: dict[str, BatchGenerator] = {"ghost-cursor": external.ghost_cursor_traces}


def generate_with_tasks(family: str, seed: int, n: int) -> list[tuple[DragTask, list[Point]]]:
    """`n` tasks and their traces from `family`, reproducible from `seed`.

    Args:
        family: a key of FAMILIES.
        seed: any integer; each (family, seed, index) has its own random stream.
        n: how many traces.

    Returns:
        `(task, trace)` pairs, in index order.

    Raises:
        KeyError: the family is unknown.
        external.GeneratorUnavailable: an external family's package is not installed.
    """
    generator = FAMILIES[family]
    rngs = [random.Random(f"{family}/{seed}/{index}") for index in range(n)]
    tasks = [sample_task(rng) for rng in rngs]
    if family in _BATCHED:
        traces = _BATCHED[family](rngs, tasks)
    else:
        traces = [generator(rng, task) for rng, task in zip(rngs, tasks, strict=True)]
    return list(zip(tasks, traces, strict=True))


def generate(family: str, seed: int, n: int) -> list[list[Point]]:
    """`n` traces from `family`, the same for the same `seed` (see generate_with_tasks)."""
    return [trace for _, trace in generate_with_tasks(family, seed, n)]


def summarize(trace_list: Sequence[Sequence[Point]]) -> dict[str, float]:
    """Mean duration (ms), points, sampling interval (ms) and start time (ms) of traces."""
    durations = [trace[-1][2] - trace[0][2] for trace in trace_list]
    intervals = [
        (trace[-1][2] - trace[0][2]) / (len(trace) - 1) for trace in trace_list if len(trace) > 1
    ]
    medians = [
        statistics.median(b[2] - a[2] for a, b in zip(trace, trace[1:], strict=False))
        for trace in trace_list
        if len(trace) > 1
    ]
    return {
        "duration_ms": statistics.fmean(durations),
        "points": statistics.fmean(len(trace) for trace in trace_list),
        "interval_ms": statistics.fmean(intervals),
        "median_interval_ms": statistics.fmean(medians),
        "start_ms": statistics.fmean(trace[0][2] for trace in trace_list),
    }


def print_summary(seed: int, n: int) -> None:
    """Print one row of summary statistics per family."""
    header = f"{'family':<15} {'duration ms':>11} {'points':>7} {'interval ms':>11}"
    print(f"{header} {'median dt ms':>12} {'start ms':>9} {'gen s':>6}")
    for family in FAMILIES:
        began = time.perf_counter()
        try:
            stats = summarize(generate(family, seed, n))
        except external.GeneratorUnavailable as error:
            print(f"{family:<15} unavailable: {error}")
            continue
        elapsed = time.perf_counter() - began
        print(
            f"{family:<15} {stats['duration_ms']:>11.0f} {stats['points']:>7.1f}"
            f" {stats['interval_ms']:>11.1f} {stats['median_interval_ms']:>12.1f}"
            f" {stats['start_ms']:>9.0f} {elapsed:>6.2f}"
        )
    print(f"n={n} per family, seed={seed}; interval = duration / (points - 1), averaged.")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--summary", action="store_true", help="print per-family statistics")
    parser.add_argument("--n", type=int, default=300, help="traces per family")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not args.summary:
        parser.error("nothing to do: pass --summary")
    print_summary(args.seed, args.n)


if __name__ == "__main__":
    main()
