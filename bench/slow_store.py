"""What a slow store costs the loop: every store call delayed, each step's time and round trips.

    .venv/bin/python -m bench.slow_store [--delay 0.2]

The loop runs in-process on the in-memory store behind a wrapper that holds every call for
`--delay` seconds (a Redis that far away, or that slow) and counts the rounds: a round starts when
a call starts with none in flight. Calls one step makes together cost one delay; calls made one
after another cost one each. No HTTP and no server: this isolates the loop's own store traffic.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from humangate.challenges.pow import solve_pow
from humangate.loop import Verifier, Visitor
from humangate.store import MemoryStore
from humangate.units import UnitView

T = TypeVar("T")
VISITOR = Visitor(ip_prefix="203.0.113.0/24", hostname="example.org", ip="203.0.113.7")


class DelayedStore:
    """The in-memory store with every call held `delay` seconds; counts calls and rounds."""

    def __init__(self, delay: float) -> None:
        self.inner = MemoryStore()
        self.delay = delay
        self.in_flight = self.calls = self.rounds = 0

    async def _call(self, call: Callable[[], Awaitable[T]]) -> T:
        self.rounds += self.in_flight == 0
        self.in_flight += 1
        self.calls += 1
        try:
            await asyncio.sleep(self.delay)
            return await call()
        finally:
            self.in_flight -= 1

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)
        if name in ("ping", "close"):
            return method
        return lambda *args: self._call(lambda: method(*args))


async def run(delay: float) -> None:
    store = DelayedStore(delay)
    loop = Verifier(store, key=b"k" * 32)  # type: ignore[arg-type]
    unit = UnitView(
        id=7,
        sitekey="hgBench",
        name="bench",
        domains=("example.org",),
        mode="invisible",
        pow_difficulty=1,
    )  # type: ignore[call-arg]
    steps: list[tuple[str, float, int, int]] = []

    async def step(name: str, work: Awaitable[T]) -> T:
        store.calls = store.rounds = 0
        started = time.perf_counter()
        result = await work
        steps.append((name, time.perf_counter() - started, store.calls, store.rounds))
        return result

    issued = await step("issue", loop.issue(unit, VISITOR))
    number = solve_pow(issued.payload)
    answered = await step(
        "answer",
        loop.answer(unit, issued.id, VISITOR, pow_number=number, answer=None, trajectory=None),
    )
    await step("siteverify", loop.siteverify(unit, answered.token))
    print(f"every store call delayed {1000 * delay:.0f} ms (invisible unit, one visitor)")
    for name, seconds, calls, rounds in steps:
        print(f"  {name:<10} {seconds:6.2f} s  {calls} store calls in {rounds} round(s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.slow_store", description=__doc__)
    parser.add_argument("--delay", type=float, default=0.2, help="seconds added to every call")
    asyncio.run(run(parser.parse_args(argv).delay))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
