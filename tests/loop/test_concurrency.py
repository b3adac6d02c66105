"""The loop's store calls of one step go out together, so a slow store adds its latency once.

A recording store sits in front of a real one (memory, and Redis): it counts the calls in flight
and the rounds (a round starts when a call starts with none in flight). Each call gives the event
loop one turn before it reaches the store, as a network round trip would, so calls that are
gathered overlap there and calls made one after another never do.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import pytest

from humangate.challenges.pow import solve_pow
from humangate.errors import RateLimited
from humangate.loop import Policy, Verifier
from humangate.pool import ChallengePool
from humangate.store import MemoryStore, Store
from humangate.store.redis import RedisStore
from tests.loop.test_loop import KEY, VISITOR, unit

T = TypeVar("T")


class RecordingStore:
    """Forwards every call to `inner` and records how the calls overlapped."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.in_flight = 0
        self.most = 0
        self.rounds = 0
        self.calls: list[str] = []

    def reset(self) -> None:
        self.most = self.rounds = 0
        self.calls = []

    async def _call(self, name: str, call: Callable[[], Awaitable[T]]) -> T:
        if self.in_flight == 0:
            self.rounds += 1
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        self.calls.append(name)
        try:
            await asyncio.sleep(0)  # the way out to the store: other ready calls start meanwhile
            return await call()
        finally:
            self.in_flight -= 1

    async def put(self, namespace: str, key: str, value: bytes, ttl: float) -> None:
        await self._call("put", lambda: self.inner.put(namespace, key, value, ttl))

    async def put_if_absent(self, namespace: str, key: str, value: bytes, ttl: float) -> bool:
        return await self._call(
            "put_if_absent", lambda: self.inner.put_if_absent(namespace, key, value, ttl)
        )

    async def get(self, namespace: str, key: str) -> bytes | None:
        return await self._call("get", lambda: self.inner.get(namespace, key))

    async def take(self, namespace: str, key: str) -> bytes | None:
        return await self._call("take", lambda: self.inner.take(namespace, key))

    async def delete(self, namespace: str, key: str) -> None:
        await self._call("delete", lambda: self.inner.delete(namespace, key))

    async def hit(self, namespace: str, key: str, window: float) -> int:
        return await self._call("hit", lambda: self.inner.hit(namespace, key, window))

    async def ping(self) -> bool:
        return await self.inner.ping()

    async def close(self) -> None:
        await self.inner.close()


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[RecordingStore]:
    if request.param == "memory":
        inner: Store = MemoryStore()
    else:
        url = request.getfixturevalue("redis_url")
        inner = RedisStore(url, prefix=f"test-{uuid.uuid4().hex}")
    recording = RecordingStore(inner)
    try:
        yield recording
    finally:
        await inner.close()


def verifier(store: RecordingStore, policy: Policy | None = None) -> Verifier:
    pool = ChallengePool(lambda *_: pytest.fail("no visual challenge here"), size=0)
    return Verifier(store, key=KEY, pool=pool, policy=policy)


async def test_an_issue_counts_every_window_in_one_round_then_keeps_the_challenge(
    store: RecordingStore,
) -> None:
    loop = verifier(store)
    await loop.issue(unit(), VISITOR)
    # network, failures, device, unit and unit-hour windows at once; then the challenge's state
    assert sorted(store.calls) == ["get", "hit", "hit", "hit", "hit", "put"]
    assert store.most == 5
    assert store.rounds == 2


async def test_an_answer_and_a_siteverify_make_only_the_calls_that_depend_on_each_other(
    store: RecordingStore,
) -> None:
    loop = verifier(store)
    target = unit()
    issued = await loop.issue(target, VISITOR)
    store.reset()
    answered = await loop.answer(
        target,
        issued.id,
        VISITOR,
        pow_number=solve_pow(issued.payload),
        answer=None,
        trajectory=None,
    )
    assert answered.success
    # the answer window before the challenge is consumed, so a refused answer keeps it
    assert store.calls == ["hit", "take", "put"] and store.rounds == 3
    store.reset()
    verified = await loop.siteverify(target, answered.token)
    assert verified.success
    assert store.calls == ["take"] and store.rounds == 1


async def test_a_refused_issue_still_counts_in_the_unit_window(store: RecordingStore) -> None:
    loop = verifier(store, Policy(challenges_per_minute=2))
    target = unit()
    await loop.issue(target, VISITOR)
    await loop.issue(target, VISITOR)
    with pytest.raises(RateLimited):
        await loop.issue(target, VISITOR)
    # counted with the others, in the same round: a refused flood is still asked of the unit
    assert await store.inner.hit("rate", f"unit:{target.id}", 60) == 4
