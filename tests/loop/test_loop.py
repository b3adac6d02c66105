"""The loop on the memory store, with a fake clock and seeded entropy: no HTTP, no database."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import pytest

from humangate.challenges import registry
from humangate.challenges.pow import solve_pow
from humangate.errors import AccessDenied, Expired, LockedOut, RateLimited, Refusal
from humangate.loop import (
    ChallengeState,
    Issued,
    Outcome,
    Policy,
    Verifier,
    Visitor,
)
from humangate.pool import ChallengePool
from humangate.store.memory import MemoryStore
from humangate.units import UnitView

KEY = b"k" * 32
VISITOR = Visitor(ip_prefix="203.0.113.0/24", hostname="example.org", ip="203.0.113.7")


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Recorder:
    outcomes: list[Outcome] = field(default_factory=list)

    def observe(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)

    def stages(self) -> list[str]:
        return [outcome.stage for outcome in self.outcomes]


class RefusingMeter:
    def __init__(self, *, issue: bool = False, mint: bool = False) -> None:
        self.issue, self.mint = issue, mint

    async def before_issue(self, unit: UnitView) -> None:
        if self.issue:
            raise Refusal("No balance left.", code="insufficient-balance")

    async def before_mint(self, unit: UnitView) -> None:
        if self.mint:
            raise Refusal("No balance left.", code="insufficient-balance")


def unit(mode: str = "invisible", **changes: object) -> UnitView:
    fields: dict[str, object] = {
        "id": 7,
        "sitekey": "hgLoopTest",
        "name": "Loop test",
        "domains": ("example.org",),
        "mode": mode,
        "pow_difficulty": 50,
        **changes,
    }
    return UnitView(**fields)  # type: ignore[arg-type]


def make_loop(
    seed: int = 1, *, policy: Policy | None = None, **hooks: object
) -> tuple[Verifier, FakeClock, MemoryStore]:
    clock = FakeClock()
    entropy = random.Random(seed)
    store = MemoryStore(clock=clock)
    visual = random.Random(seed + 1)
    pool = ChallengePool(
        lambda kind, _rng, level, lang: registry.generate(kind, visual, level=level, lang=lang),
        size=0,
    )
    loop = Verifier(
        store,
        key=KEY,
        policy=policy,
        pool=pool,
        clock=clock,
        entropy=entropy.randbytes,
        **hooks,  # type: ignore[arg-type]
    )
    return loop, clock, store


async def pass_pow(loop: Verifier, target: UnitView, issued: Issued) -> str:
    answered = await loop.answer(
        target,
        issued.id,
        VISITOR,
        pow_number=solve_pow(issued.payload),
        answer=None,
        trajectory=None,
    )
    assert answered.success, answered
    return answered.token


async def test_a_seeded_loop_issues_the_same_challenge_twice() -> None:
    first = await make_loop(seed=3)[0].issue(unit(), VISITOR)
    second = await make_loop(seed=3)[0].issue(unit(), VISITOR)
    other = await make_loop(seed=4)[0].issue(unit(), VISITOR)
    assert first == second
    assert first.id != other.id and first.payload != other.payload


async def test_a_token_verifies_once_and_carries_the_challenge_facts() -> None:
    loop, clock, _ = make_loop()
    target = unit()
    issued = await loop.issue(target, VISITOR, action="signup", cdata="c1")
    assert issued.kind == "pow" and issued.expires_in == 120
    clock.now += 5
    token = await pass_pow(loop, target, issued)
    result = await loop.siteverify(target, token)
    assert result.success and result.action == "signup" and result.cdata == "c1"
    assert result.hostname == "example.org" and result.challenge_ts == int(clock.now)
    again = await loop.siteverify(target, token)
    assert not again.success and again.error_codes == ("timeout-or-duplicate",)


async def test_a_token_expires_by_the_injected_clock() -> None:
    loop, clock, _ = make_loop()
    target = unit()
    token = await pass_pow(loop, target, await loop.issue(target, VISITOR))
    clock.now += 301
    result = await loop.siteverify(target, token)
    assert result.error_codes == ("timeout-or-duplicate",)


async def test_a_token_of_another_unit_or_a_forged_one_is_invalid() -> None:
    loop, _, _ = make_loop()
    target = unit()
    token = await pass_pow(loop, target, await loop.issue(target, VISITOR))
    foreign = await loop.siteverify(unit(id=8), token)
    assert foreign.error_codes == ("invalid-input-response",)
    forged = await loop.siteverify(target, token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
    assert forged.error_codes == ("invalid-input-response",)
    assert (await loop.siteverify(target, token)).success, "the failures consumed nothing"


async def test_an_idempotency_key_repeats_the_first_result() -> None:
    loop, _, _ = make_loop()
    target = unit()
    token = await pass_pow(loop, target, await loop.issue(target, VISITOR))
    first = await loop.siteverify(target, token, idempotency_key="req-1")
    repeat = await loop.siteverify(target, token, idempotency_key="req-1")
    other = await loop.siteverify(target, token, idempotency_key="req-2")
    assert first.success and repeat == first
    assert other.error_codes == ("timeout-or-duplicate",)


async def test_an_answered_challenge_cannot_be_answered_again() -> None:
    loop, _, _ = make_loop()
    target = unit()
    issued = await loop.issue(target, VISITOR)
    await pass_pow(loop, target, issued)
    with pytest.raises(Expired):
        await pass_pow(loop, target, issued)


async def test_a_challenge_expires_by_the_clock() -> None:
    loop, clock, _ = make_loop()
    target = unit()
    issued = await loop.issue(target, VISITOR)
    clock.now += 121
    with pytest.raises(Expired):
        await pass_pow(loop, target, issued)


async def test_the_issue_window_refuses_and_reopens() -> None:
    loop, clock, _ = make_loop(policy=Policy(challenges_per_minute=2))
    target = unit()
    await loop.issue(target, VISITOR)
    await loop.issue(target, VISITOR)
    with pytest.raises(RateLimited) as refused:
        await loop.issue(target, VISITOR)
    assert refused.value.code == "rate-limited" and refused.value.retry_after == 60
    other_network = Visitor(ip_prefix="198.51.100.0/24", hostname="example.org")
    await loop.issue(target, other_network)
    clock.now += 61
    await loop.issue(target, VISITOR)


async def test_failures_lock_a_network_out_of_one_unit() -> None:
    loop, _, _ = make_loop(policy=Policy(lockout_failures=2))
    target = unit()
    issued = await loop.issue(target, VISITOR)
    first = await loop.answer(
        target, issued.id, VISITOR, pow_number=10**6, answer=None, trajectory=None
    )
    assert not first.success and first.error == "wrong-answer" and first.next is not None
    assert first.next.kind == "pow"
    second = await loop.answer(
        target, first.next.id, VISITOR, pow_number=10**6, answer=None, trajectory=None
    )
    assert not second.success and second.next is None
    with pytest.raises(LockedOut):
        await loop.issue(target, VISITOR)
    await loop.issue(unit(id=9), VISITOR)  # another unit still serves this network


async def test_a_failure_doubles_the_next_proof_of_work() -> None:
    loop, _, _ = make_loop()
    target = unit()
    issued = await loop.issue(target, VISITOR)
    before = await loop.peek(issued.id)
    failed = await loop.answer(
        target, issued.id, VISITOR, pow_number=10**6, answer=None, trajectory=None
    )
    assert failed.next is not None
    after = await loop.peek(failed.next.id)
    assert before is not None and after is not None and after.level == before.level + 1
    assert after.risk.pow_difficulty == 2 * before.risk.pow_difficulty > 0


async def test_a_denied_network_gets_no_challenge() -> None:
    loop, _, _ = make_loop()
    with pytest.raises(AccessDenied):
        await loop.issue(unit(deny_networks=("203.0.113.0/24",)), VISITOR)


async def test_an_interactive_unit_asks_a_visual_challenge_and_judges_it() -> None:
    loop, _, _ = make_loop()
    target = unit("interactive", kinds=("text",))
    issued = await loop.issue(target, VISITOR)
    assert issued.kind == "text"
    state = await loop.peek(issued.id)
    assert state is not None and state.kind == "text" and state.payload is None
    wrong = await loop.answer(
        target, issued.id, VISITOR, pow_number=None, answer="?", trajectory=None
    )
    assert wrong.error == "wrong-answer" and wrong.next is not None
    assert wrong.next.kind == "text"


async def test_the_meter_may_refuse_an_issue_and_a_mint() -> None:
    target = unit()
    refusing, _, _ = make_loop(meter=RefusingMeter(issue=True))
    with pytest.raises(Refusal) as refused:
        await refusing.issue(target, VISITOR)
    assert refused.value.code == "insufficient-balance"
    loop, _, store = make_loop(meter=RefusingMeter(mint=True))
    issued = await loop.issue(target, VISITOR)
    with pytest.raises(Refusal):
        await pass_pow(loop, target, issued)
    assert await store.get("challenge", issued.id) is None, "the answer was consumed"


async def test_observers_hear_every_step() -> None:
    recorder = Recorder()
    loop, clock, _ = make_loop(observers=[recorder])
    target = unit()
    issued = await loop.issue(target, VISITOR)
    failed = await loop.answer(
        target, issued.id, VISITOR, pow_number=10**6, answer=None, trajectory=None
    )
    assert failed.next is not None
    token = await pass_pow(loop, target, failed.next)
    await loop.siteverify(target, token)
    await loop.siteverify(target, token)
    assert recorder.stages() == [
        "issued",
        "failed",
        "issued",
        "passed",
        "verified",
        "verify-failed",
    ]
    failed_outcome = recorder.outcomes[1]
    # The owner's view keeps the checker's reason; the client got only "wrong-answer".
    assert failed_outcome.reason == "invalid-solution" and failed.error == "wrong-answer"
    assert failed_outcome.ip_prefix == VISITOR.ip_prefix
    assert recorder.outcomes[3].token == token
    assert recorder.outcomes[5].reason == "timeout-or-duplicate"
    assert all(outcome.at == clock.now for outcome in recorder.outcomes)


def test_a_challenge_state_survives_its_json() -> None:
    state = ChallengeState(
        unit_id=1,
        sitekey="hg1",
        kind="slide",
        answer={"x": 120},
        payload=None,
        hostname="example.org",
        action="login",
        cdata="",
        level=2,
        lang="zh",
        issued_at=1_800_000_000,
        mode="managed",
        gesture=False,
    )
    assert ChallengeState.from_json(state.to_json()) == state
