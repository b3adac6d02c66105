"""PoW challenges: ALTCHA v1 format, interoperable with ALTCHA's own library."""

from __future__ import annotations

import base64
import json
import random
import time

import altcha
from hypothesis import given
from hypothesis import strategies as st

from humangate.challenges.pow import PowParams, check_pow, generate_pow, solve_pow

KEY = b"k" * 32


def make(seed: int = 1, difficulty: int = 2000, expires_at: int | None = None) -> dict[str, object]:
    params = PowParams(difficulty=difficulty, hmac_key=KEY, expires_at=expires_at)
    return generate_pow(random.Random(seed), params).payload


def test_same_seed_same_challenge_and_different_seeds_differ() -> None:
    assert make(7) == make(7)
    assert make(7)["challenge"] != make(8)["challenge"]


def test_solution_lies_below_difficulty_and_is_the_private_answer() -> None:
    challenge = generate_pow(random.Random(3), PowParams(difficulty=100, hmac_key=KEY))
    assert 0 <= challenge.answer["number"] < 100
    assert solve_pow(challenge.payload) == challenge.answer["number"]
    assert "number" not in challenge.payload


def test_check_accepts_the_solution_and_rejects_others() -> None:
    payload = make()
    number = solve_pow(payload)
    assert check_pow(payload, number, hmac_key=KEY).passed
    assert check_pow(payload, number + 1, hmac_key=KEY).reason == "invalid-solution"
    assert check_pow(payload, number, hmac_key=b"x" * 32).reason == "invalid-signature"
    tampered = {**payload, "challenge": "0" * 64}
    assert check_pow(tampered, number, hmac_key=KEY).reason == "invalid-signature"


@given(st.one_of(st.none(), st.booleans(), st.floats(), st.text(), st.integers(max_value=-1)))
def test_check_rejects_malformed_numbers_without_raising(number: object) -> None:
    assert not check_pow(make(), number, hmac_key=KEY).passed


def test_altcha_library_solves_and_verifies_humangate_challenges() -> None:
    expires_at = int(time.time()) + 120
    payload = make(seed=11, difficulty=5000, expires_at=expires_at)
    solution = altcha.solve_challenge_v1(
        str(payload["challenge"]),
        str(payload["salt"]),
        "SHA-256",
        int(str(payload["maxnumber"])),
    )
    assert solution is not None
    assert check_pow(payload, solution.number, hmac_key=KEY).passed
    submitted = {**payload, "number": solution.number}
    encoded = base64.b64encode(json.dumps(submitted).encode()).decode()
    verified, error = altcha.verify_solution_v1(encoded, KEY)
    assert verified, error


def test_difficulty_is_capped() -> None:
    assert make(difficulty=10**12)["maxnumber"] == 10_000_000
    assert make(difficulty=0)["maxnumber"] == 1
