"""Generation speed of every challenge kind against the plain-Pillow slide reference, one run.

Kinds are found by module: humangate/challenges/<kind>.py with `generate_<kind>` and
`<Kind>Params` (slide, text, click, and rotate once it exists); each runs with default params.
The reference is bench/slide_generation.py's plain-Pillow jigsaw, imported, not copied. All run
in this one process (one core), interleaved in short blocks so drift hits all alike; the rate
and percentiles are CPU time (time.process_time). Run:
`.venv/bin/python -m bench.generation [--seconds 5]`.
"""

from __future__ import annotations

import argparse
import base64
import importlib
import json
import random
import statistics
from collections.abc import Callable

from bench._machine import print_facts
from bench.slide_generation import reference, timed

KINDS = ("slide", "text", "click", "rotate")
TARGET = 2.0


def _bound(generate: Callable, params: object) -> Callable[[random.Random], dict]:
    return lambda rng: generate(rng, params).payload


def generators() -> tuple[dict[str, Callable[[random.Random], dict]], list[str]]:
    """Default-params generators of the kinds present, and notes on those skipped."""
    found: dict[str, Callable[[random.Random], dict]] = {}
    notes = []
    for kind in KINDS:
        try:
            module = importlib.import_module(f"humangate.challenges.{kind}")
        except ModuleNotFoundError:
            notes.append(f"{kind}: no module, skipped")
            continue
        generate = getattr(module, f"generate_{kind}", None)
        params = getattr(module, f"{kind.capitalize()}Params", None)
        if generate is None or params is None:
            notes.append(f"{kind}: no generate_{kind} or {kind.capitalize()}Params, skipped")
            continue
        found[kind] = _bound(generate, params())
    return found, notes


def image_bytes(payload: dict) -> int:
    """Bytes of every data-URL image in a payload, decoded."""
    return sum(
        len(base64.b64decode(v.split(",", 1)[1]))
        for v in payload.values()
        if isinstance(v, str) and v.startswith("data:")
    )


def sizes(make: Callable[[random.Random], dict], n: int) -> tuple[float, float]:
    payloads = [make(random.Random(50_000 + i)) for i in range(n)]
    return (
        statistics.mean(image_bytes(p) for p in payloads),
        statistics.mean(len(json.dumps(p)) for p in payloads),
    )


def report(samples: dict[str, list[tuple[float, float]]], makers: dict, n_sizes: int) -> bool:
    print(f"\n{'generator':10} {'n':>6} {'chal/s/core':>12} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'x ref':>6} {'img B':>7} {'JSON B':>7}")  # fmt: skip
    rates = {}
    for name, pairs in samples.items():
        cpu = sorted(c for c, _ in pairs)
        rates[name] = len(cpu) / sum(cpu)
    ok = True
    for name, pairs in samples.items():
        cpu = sorted(c for c, _ in pairs)
        p99 = cpu[min(len(cpu) - 1, int(0.99 * len(cpu)))]
        ratio = rates[name] / rates["reference"]
        img, js = sizes(makers[name], n_sizes)
        ok &= name == "reference" or ratio >= TARGET
        print(f"{name:10} {len(cpu):6d} {rates[name]:12.1f} {statistics.median(cpu) * 1e3:7.2f} "
              f"{p99 * 1e3:7.2f} {ratio:6.2f} {img:7.0f} {js:7.0f}")  # fmt: skip
    print("(CPU time of this one process; x ref: rate over the plain-Pillow slide reference;")
    print(f" img B / JSON B: mean decoded image bytes / payload JSON over {n_sizes} challenges)")
    return ok


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="timed seconds per generator")
    parser.add_argument("--sizes-n", type=int, default=40, help="challenges for the byte means")
    args = parser.parse_args(argv)
    print_facts()
    found, notes = generators()
    makers = {"reference": reference, **found}
    print(f"   kinds: {', '.join(found)}; one process; {args.seconds:g} s of each, interleaved")
    for note in notes:
        print(f"   {note}")
    samples = timed(makers, args.seconds)
    if report(samples, makers, args.sizes_n):
        print(f"\nall kinds >= {TARGET:g}x the reference")
    else:
        print(f"\nsome kind is below {TARGET:g}x the reference (reported, not a failure)")


if __name__ == "__main__":
    main()
