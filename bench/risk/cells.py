"""Every trace source of the risk bench under one name: a "cell".

A cell is a family of bench/risk/families.py ("human", "bezier", "ghost-cursor", ...), a human
variant of bench/risk/variants.py ("touchpad", "rate-60", ...), a held-out bot family of
bench/risk/adversaries.py ("windmouse", "minjerk", ...), the training-only "randomized" family
(bench/risk/randomized.py), or any bot family with
bench/risk/tricks.py on top ("bezier+tricks"). Trace i of a cell comes from its own string seed
(`f"{cell}/{seed}/{i}"`; a "+tricks" cell draws its base trace exactly as the plain cell does and
its tricks from `f"{cell}/tricks/{seed}/{i}"`), so cells never share a seed pool, the same
arguments give the same traces, and a slice of a run equals a smaller run.
"""

from __future__ import annotations

import random

from bench.risk import families
from bench.risk.adversaries import HELD_OUT
from bench.risk.randomized import randomized_trace
from bench.risk.task import Point, sample_task
from bench.risk.tricks import with_tricks
from bench.risk.variants import VARIANTS, variant_task, variant_trace

TRICKS = "+tricks"
# Bot families only bench/risk/cells.py knows (bench/risk/families.py keeps the original nine).
EXTRA_BOTS = {**HELD_OUT, "randomized": randomized_trace}


def is_human(cell: str) -> bool:
    return cell == "human" or cell in VARIANTS


def base_family(cell: str) -> str:
    return cell.removesuffix(TRICKS)


def cell_traces(cell: str, seed: int, n: int) -> list[list[Point]]:
    """`n` traces of `cell`, reproducible from `seed`.

    Raises:
        KeyError: the cell names nothing known (or tricks on a human cell).
        external.GeneratorUnavailable: an external family's package is not installed.
    """
    base = base_family(cell)
    if base in families.FAMILIES:
        traces = families.generate(base, seed, n)
    elif base in VARIANTS:
        traces = []
        for index in range(n):
            rng = random.Random(f"{base}/{seed}/{index}")
            traces.append(variant_trace(base, rng, variant_task(base, rng)))
    elif base in EXTRA_BOTS:
        traces = []
        for index in range(n):
            rng = random.Random(f"{base}/{seed}/{index}")
            traces.append(EXTRA_BOTS[base](rng, sample_task(rng)))
    else:
        raise KeyError(cell)
    if cell == base:
        return traces
    if is_human(base):
        raise KeyError(f"{cell}: tricks are for bots")
    return [
        with_tricks(random.Random(f"{cell}/tricks/{seed}/{index}"), trace)
        for index, trace in enumerate(traces)
    ]
