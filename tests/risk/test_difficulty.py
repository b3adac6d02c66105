"""Adaptive PoW difficulty: monotonic in every pressure, capped, never below the base; and the
PoW checker's order (signature before any hashing) that makes rejecting forgeries cheap."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from humangate.challenges import pow as pow_module
from humangate.challenges.pow import MAX_DIFFICULTY, PowParams, check_pow, generate_pow, solve_pow
from humangate.risk._rules import load_rules
from humangate.risk.base import RateFacts
from humangate.risk.difficulty import pow_difficulty

COUNTS = st.integers(min_value=0, max_value=100_000)
FACTS = st.builds(
    RateFacts,
    network_per_minute=COUNTS,
    device_per_minute=COUNTS,
    unit_per_minute=COUNTS,
    unit_baseline_per_minute=st.floats(min_value=0.01, max_value=10_000),
    failures=COUNTS,
)
BASES = st.integers(min_value=-5, max_value=20_000_000)
LEVELS = st.integers(min_value=-3, max_value=50)
SCORES = st.none() | st.floats(min_value=0, max_value=1)
KEY = b"k" * 32


def difficulty(base: int, level: int, facts: RateFacts, score: float | None) -> int:
    return pow_difficulty(base, level=level, facts=facts, score=score)


def test_no_pressure_keeps_the_base() -> None:
    assert difficulty(50_000, 0, RateFacts(), None) == 50_000
    assert difficulty(50_000, 0, RateFacts(), 0.99) == 50_000
    assert difficulty(0, 0, RateFacts(), None) == 1


def test_each_level_doubles_until_the_cap() -> None:
    cap = load_rules().difficulty.max
    assert [difficulty(10_000, level, RateFacts(), None) for level in range(5)] == [
        10_000,
        20_000,
        40_000,
        80_000,
        160_000,
    ]
    top = load_rules().difficulty.max_level
    assert difficulty(10_000, 40, RateFacts(), None) == 10_000 * 2**top  # level stops rising
    assert difficulty(100_000, 40, RateFacts(), None) == cap


@pytest.mark.parametrize(
    "facts",
    [
        RateFacts(network_per_minute=60),
        RateFacts(device_per_minute=12),
        RateFacts(failures=6),
        RateFacts(unit_per_minute=500, unit_baseline_per_minute=20.0),
    ],
)
def test_each_kind_of_pressure_raises_the_difficulty(facts: RateFacts) -> None:
    assert difficulty(10_000, 0, facts, None) > 10_000


def test_a_poor_score_raises_it_and_no_score_does_not() -> None:
    assert difficulty(10_000, 0, RateFacts(), 0.05) > difficulty(10_000, 0, RateFacts(), 0.4)
    assert difficulty(10_000, 0, RateFacts(), 0.4) > difficulty(10_000, 0, RateFacts(), None)
    assert difficulty(10_000, 0, RateFacts(), float("nan")) == 10_000


def test_level_and_failures_are_one_pressure_not_two() -> None:
    # Both count the same failed answers: the larger factor applies, they are not multiplied.
    both = difficulty(10_000, 3, RateFacts(failures=6), None)
    assert both == max(
        difficulty(10_000, 3, RateFacts(), None), difficulty(10_000, 0, RateFacts(failures=6), None)
    )


@given(BASES, LEVELS, FACTS, SCORES)
def test_capped_and_never_below_the_base(
    base: int, level: int, facts: RateFacts, score: float | None
) -> None:
    cap = load_rules().difficulty.max
    result = difficulty(base, level, facts, score)
    assert max(1, min(base, MAX_DIFFICULTY)) <= result <= MAX_DIFFICULTY
    assert result <= max(cap, base)


@given(BASES, LEVELS, FACTS, SCORES, st.integers(min_value=0, max_value=1_000_000))
def test_monotonic_in_base_and_level(
    base: int, level: int, facts: RateFacts, score: float | None, more: int
) -> None:
    result = difficulty(base, level, facts, score)
    assert difficulty(base + more, level, facts, score) >= result
    assert difficulty(base, level + more, facts, score) >= result


@given(
    BASES,
    LEVELS,
    FACTS,
    SCORES,
    st.sampled_from(["network_per_minute", "device_per_minute", "unit_per_minute", "failures"]),
    st.integers(min_value=0, max_value=100_000),
)
def test_monotonic_in_every_count(
    base: int, level: int, facts: RateFacts, score: float | None, field: str, more: int
) -> None:
    busier = replace(facts, **{field: getattr(facts, field) + more})
    assert difficulty(base, level, busier, score) >= difficulty(base, level, facts, score)


@given(BASES, LEVELS, FACTS, SCORES, st.floats(min_value=0, max_value=10_000))
def test_a_higher_usual_rate_never_raises_it(
    base: int, level: int, facts: RateFacts, score: float | None, more: float
) -> None:
    usual = replace(facts, unit_baseline_per_minute=facts.unit_baseline_per_minute + more)
    assert difficulty(base, level, usual, score) <= difficulty(base, level, facts, score)


@given(BASES, LEVELS, FACTS, st.floats(0, 1), st.floats(0, 1))
def test_a_lower_score_never_lowers_it(
    base: int, level: int, facts: RateFacts, one: float, other: float
) -> None:
    low, high = sorted((one, other))
    assert difficulty(base, level, facts, low) >= difficulty(base, level, facts, high)
    assert difficulty(base, level, facts, high) >= difficulty(base, level, facts, None)


def test_the_result_is_a_difficulty_generate_pow_accepts_unchanged() -> None:
    result = difficulty(50_000, 4, RateFacts(network_per_minute=200), 0.0)
    payload = generate_pow(random.Random(1), PowParams(difficulty=result, hmac_key=KEY)).payload
    assert payload["maxnumber"] == result


# The server's side of the PoW economics: a forgery costs one HMAC, never a hash of the solution.


def forbid_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    def hash_solution(salt: str, number: int) -> str:
        raise AssertionError("check_pow hashed a solution before checking the signature")

    monkeypatch.setattr(pow_module, "hash_solution", hash_solution)


def test_a_forged_payload_is_rejected_without_hashing_the_solution(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    payload = generate_pow(random.Random(2), PowParams(difficulty=500, hmac_key=KEY)).payload
    forged = {**payload, "challenge": "0" * 64}
    forbid_hashing(monkeypatch)
    assert check_pow(forged, 1, hmac_key=KEY).reason == "invalid-signature"
    assert check_pow(payload, 1, hmac_key=b"x" * 32).reason == "invalid-signature"
    assert check_pow({"salt": "s"}, 1, hmac_key=KEY).reason == "invalid-payload"
    assert check_pow(payload, "7", hmac_key=KEY).reason == "invalid-solution"


def test_a_genuine_payload_costs_exactly_one_solution_hash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    payload = generate_pow(random.Random(3), PowParams(difficulty=500, hmac_key=KEY)).payload
    number = solve_pow(payload)
    calls = []
    real = pow_module.hash_solution

    def counting(salt: str, n: int) -> str:
        calls.append(n)
        return real(salt, n)

    monkeypatch.setattr(pow_module, "hash_solution", counting)
    assert check_pow(payload, number, hmac_key=KEY).passed
    assert not check_pow(payload, (number or 0) + 1, hmac_key=KEY).passed
    assert len(calls) == 2
