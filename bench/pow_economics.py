"""Proof-of-work economics: what a solution costs a client against what a check costs the server.

    .venv/bin/python -m bench.pow_economics [--difficulties 10000,50000,200000,1000000] [--runs 5]

Client cost: for each difficulty `d`, a payload whose secret number is `d // 2`, the median of the
uniform secret `generate_pow` draws, so every run searches exactly the median amount (`d / 2 + 1`
hashes); the figure is the median wall time of `--runs` solves, once with Python's `solve_pow`
and once with the widget's own solver (`widget/src/pow.js` on `widget/src/sha256.js`, 20 ms
slices) run by node after a warm-up. Node's V8 stands in for a browser's; a phone is slower.

Server cost: `check_pow` in a tight loop, µs per call (median of 5 blocks), for each way an
answer is rejected (forged signature, wrong number, malformed payload, malformed number) and for
a valid answer. `check_pow` has no clock: expiry is the hot-state store's TTL, so an expired (or
replayed, or made-up) challenge id is rejected by a store miss before `check_pow` runs; that row
is `MemoryStore.take` on a missing key (Redis adds a round trip, no hashing).

The ratio is client cost over server cost: how many rejections the server affords for the price of
one honest solution. Everything runs in this process and one node child, on one core at a time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from bench._machine import print_facts
from humangate.challenges.pow import (
    ALGORITHM,
    check_pow,
    hash_solution,
    sign,
    solve_pow,
)
from humangate.store.memory import MemoryStore

ROOT = Path(__file__).resolve().parent.parent
POW_JS = ROOT / "widget" / "src" / "pow.js"
KEY = b"bench-" + b"k" * 26
SALT = "0f1e2d3c4b5a69788796a5b4?expires=1900000000&"  # the shape generate_pow makes
DIFFICULTIES = (10_000, 50_000, 200_000, 1_000_000)

# Reads [{payload, runs}] on stdin; prints the ms of each run. One warm-up solve first, so V8's
# optimising compiler has kicked in, as it has in a browser after the first slices.
NODE_SCRIPT = """
import { solvePow } from %s;
let input = "";
for await (const chunk of process.stdin) input += chunk;
const jobs = JSON.parse(input);
await solvePow(jobs[0].payload, () => true);
const out = [];
for (const { payload, runs } of jobs) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const number = await solvePow(payload, () => true);
    times.push(performance.now() - start);
    if (number !== payload.expected) throw new Error(`solved ${number}`);
  }
  out.push(times);
}
console.log(JSON.stringify(out));
"""


def median_payload(difficulty: int) -> dict[str, object]:
    """A signed payload whose secret is the median of `[0, difficulty)`."""
    challenge = hash_solution(SALT, difficulty // 2)
    return {
        "algorithm": ALGORITHM,
        "challenge": challenge,
        "salt": SALT,
        "maxnumber": difficulty,
        "signature": sign(KEY, challenge),
    }


def python_solve_ms(payload: dict[str, object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        solve_pow(payload)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def node_solve_ms(payloads: list[dict[str, object]], runs: int) -> list[float] | None:
    node = shutil.which("node")
    if node is None:
        return None
    # `expected` rides along in the payload (solvePow ignores unknown keys) to check each answer.
    jobs = [
        {"payload": {**p, "expected": int(str(p["maxnumber"])) // 2}, "runs": runs}
        for p in payloads
    ]
    script = NODE_SCRIPT % json.dumps(POW_JS.as_uri())
    done = subprocess.run(
        [node, "--input-type=module", "-e", script],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return [statistics.median(times) for times in json.loads(done.stdout)]


def per_call_us(call: Callable[[], object], n: int) -> float:
    """Median over 5 blocks of `n` calls, in µs per call."""
    blocks = []
    for _ in range(5):
        start = time.perf_counter_ns()
        for _ in range(n):
            call()
        blocks.append((time.perf_counter_ns() - start) / n / 1000)
    return statistics.median(blocks)


def store_miss_us(n: int) -> float:
    """µs per `MemoryStore.take` of a challenge id that expired (or never existed)."""
    store = MemoryStore()

    async def loop() -> float:
        for _ in range(10):
            await store.put("challenge", f"live-{_}", b"{}", 120)
        blocks = []
        for _ in range(5):
            start = time.perf_counter_ns()
            for _ in range(n):
                await store.take("challenge", "expired-challenge-id")
            blocks.append((time.perf_counter_ns() - start) / n / 1000)
        return statistics.median(blocks)

    return asyncio.run(loop())


def server_costs(n: int) -> dict[str, float]:
    """µs per check for each rejection path and for an accepted answer."""
    payload = median_payload(50_000)
    number = 25_000
    assert check_pow(payload, number, hmac_key=KEY).passed
    forged = {**payload, "challenge": hash_solution(SALT, 1)}  # a challenge the server never signed
    malformed = {key: value for key, value in payload.items() if key != "signature"}
    cases: dict[str, tuple[Callable[[], object], str]] = {
        "forged signature": (lambda: check_pow(forged, 1, hmac_key=KEY), "invalid-signature"),
        "wrong number": (lambda: check_pow(payload, 7, hmac_key=KEY), "invalid-solution"),
        "malformed payload": (lambda: check_pow(malformed, 7, hmac_key=KEY), "invalid-payload"),
        "malformed number": (lambda: check_pow(payload, "7", hmac_key=KEY), "invalid-solution"),
        "valid (accepted)": (lambda: check_pow(payload, number, hmac_key=KEY), ""),
    }
    costs = {}
    for name, (call, reason) in cases.items():
        result = call()
        assert getattr(result, "reason", None) == reason, (name, result)
        costs[name] = per_call_us(call, n)
    costs["expired (store miss)"] = store_miss_us(n)
    return costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--difficulties",
        default=",".join(map(str, DIFFICULTIES)),
        help="comma-separated ALTCHA maxnumber values",
    )
    parser.add_argument("--runs", type=int, default=5, help="solves per difficulty and solver")
    parser.add_argument("--checks", type=int, default=20_000, help="calls per timing block")
    args = parser.parse_args()
    difficulties = [int(d) for d in args.difficulties.split(",")]

    print_facts()
    node = shutil.which("node")
    if node:
        version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout
        print(f"{'node':>8}: {version.strip()} (widget/src/pow.js + sha256.js)")
    else:
        print(f"{'node':>8}: not found, the JS column is skipped")

    server = server_costs(args.checks)
    print("\nServer: check_pow per call (median of 5 blocks of", args.checks, "calls)")
    for name, cost in server.items():
        print(f"  {name:<22} {cost:8.2f} µs")
    rejects = {k: v for k, v in server.items() if k != "valid (accepted)"}
    slowest = max(rejects, key=lambda k: rejects[k])

    payloads = [median_payload(d) for d in difficulties]
    js = node_solve_ms(payloads, args.runs) if node else None
    print(f"\nClient: median of {args.runs} solves of the median secret (d/2 + 1 hashes)")
    print(
        f"{'difficulty':>10} {'hashes':>8} {'Py ms':>9} {'JS ms':>9} {'JS MH/s':>8} "
        f"{'JS/slowest reject':>18} {'JS/accept':>10} {'Py/slowest reject':>18}"
    )
    for i, (difficulty, payload) in enumerate(zip(difficulties, payloads, strict=True)):
        py_ms = python_solve_ms(payload, args.runs)
        js_ms = js[i] if js else float("nan")
        hashes = difficulty // 2 + 1
        print(
            f"{difficulty:>10,} {hashes:>8,} {py_ms:>9.1f} {js_ms:>9.1f} "
            f"{hashes / js_ms / 1000:>8.2f} {js_ms * 1000 / rejects[slowest]:>17,.0f}x "
            f"{js_ms * 1000 / server['valid (accepted)']:>9,.0f}x "
            f"{py_ms * 1000 / rejects[slowest]:>17,.0f}x"
        )
    print(f"\nslowest reject path: {slowest} ({rejects[slowest]:.2f} µs)")


if __name__ == "__main__":
    main()
