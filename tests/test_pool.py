"""The challenge pool: each challenge served once, refilled in the background."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

import pytest

from humangate.challenges.base import Challenge
from humangate.pool import ChallengePool


async def eventually(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Wait for the pool's background work; a loaded machine may take longer than usual."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "the pool never got there"
        await asyncio.sleep(0.02)


def numbered() -> tuple[ChallengePool, list[tuple[str, int, str]]]:
    calls: list[tuple[str, int, str]] = []

    def generate(kind: str, rng: random.Random, level: int, lang: str) -> Challenge:
        calls.append((kind, level, lang))
        return Challenge(kind="slide", payload={"n": rng.random()}, answer={"level": level})

    return ChallengePool(generate, size=4), calls


async def test_served_challenges_are_all_distinct_and_refilled() -> None:
    pool, calls = numbered()
    first = await pool.take("slide", 1, "en")
    await eventually(lambda: calls.count(("slide", 1, "en")) >= 4)  # refilled behind the first
    served = [first] + [await pool.take("slide", 1, "en") for _ in range(10)]
    assert len({c.payload["n"] for c in served}) == 11
    assert all(c.answer == {"level": 1} for c in served)
    await pool.close()


async def test_queues_are_per_kind_level_and_language() -> None:
    pool, calls = numbered()
    await pool.take("slide", 0, "en")
    await pool.take("slide", 0, "zh")
    await asyncio.sleep(0.2)
    assert {c for c in calls} == {("slide", 0, "en"), ("slide", 0, "zh")}
    await pool.close()


async def test_size_zero_generates_on_demand_only() -> None:
    calls: list[int] = []

    def generate(kind: str, rng: random.Random, level: int, lang: str) -> Challenge:
        calls.append(level)
        return Challenge(kind="slide", payload={}, answer={})

    pool = ChallengePool(generate, size=0)
    await pool.take("slide", 2, "en")
    await asyncio.sleep(0.05)
    assert calls == [2]
    await pool.close()


async def test_a_failing_refill_is_logged_and_later_requests_work(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = True

    def generate(kind: str, rng: random.Random, level: int, lang: str) -> Challenge:
        if broken:
            raise RuntimeError("generator fault")
        return Challenge(kind="slide", payload={}, answer={})

    pool = ChallengePool(generate, size=3)
    with pytest.raises(RuntimeError):
        await pool.take("slide", 0, "en")
    await eventually(lambda: "refilling the slide challenge pool failed" in caplog.text)
    broken = False
    assert isinstance(await pool.take("slide", 0, "en"), Challenge)
    await pool.close()
