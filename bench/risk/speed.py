"""What scoring costs an answer: the whole assessment (features, model, findings, replay
fingerprints) per trace, against parsing the same trace from JSON in the same run.

Parsing is the least the server does with a trace anyway, so the ratio says how much the risk
engine adds to it. Traces come from the human model and the scripted families, a mix of lengths.

Run: `.venv/bin/python -m bench.risk.speed [--n 2000]`.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time

from bench._machine import print_facts
from bench.risk.families import FAMILIES
from bench.risk.task import sample_task
from humangate.risk.assess import assess, context_findings
from humangate.risk.base import RateFacts
from humangate.risk.environment import RequestFacts
from humangate.risk.replay import trace_fingerprints

FAMILIES_TIMED = ("human", "straight-line", "eased", "bezier")


def _per_call_us(work, items, rounds: int = 5) -> list[float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for item in items:
            work(item)
        times.append((time.perf_counter() - start) / len(items) * 1e6)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    print_facts()
    rng = random.Random(7)
    traces = [
        FAMILIES[FAMILIES_TIMED[i % len(FAMILIES_TIMED)]](rng, sample_task(rng))
        for i in range(args.n)
    ]
    payloads = [json.dumps({"signals": {"pointer": "mouse", "trace": t}}) for t in traces]
    context = context_findings({}, RequestFacts(), RateFacts())

    def parse(payload: str) -> None:
        points = json.loads(payload)["signals"]["trace"]
        [(float(x), float(y), float(t)) for x, y, t in points]

    def score(trace) -> None:
        assess(trace, "mouse", context)
        trace_fingerprints(trace)

    score(traces[0])  # load the model outside the timing
    parsed = _per_call_us(parse, payloads)
    scored = _per_call_us(score, traces)
    points = statistics.mean(len(t) for t in traces)
    print(f"\ntraces: {args.n}, {points:.0f} points on average")
    print(f"{'step':<40}{'median µs':>12}{'best µs':>10}")
    print(f"{'parse the trace from JSON (baseline)':<40}{statistics.median(parsed):>12.1f}"
          f"{min(parsed):>10.1f}")  # fmt: skip
    print(f"{'assess + replay fingerprints':<40}{statistics.median(scored):>12.1f}"
          f"{min(scored):>10.1f}")  # fmt: skip
    ratio = statistics.median(scored) / statistics.median(parsed)
    print(f"\nscoring costs {ratio:.1f}x parsing; "
          f"{1e6 / statistics.median(scored):,.0f} assessments/s on one core")  # fmt: skip


if __name__ == "__main__":
    main()
