"""SHA-256 proof of work in ALTCHA's v1 challenge format.

The payload is `{algorithm, challenge, salt, maxnumber, signature}` where
`challenge = sha256(salt + str(number))` and `signature = hmac_sha256(key, challenge)`, so ALTCHA's
own solvers work unchanged. The secret number is the private answer.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from dataclasses import dataclass

from humangate.challenges.base import Challenge, CheckResult

ALGORITHM = "SHA-256"
MAX_DIFFICULTY = 10_000_000


@dataclass(frozen=True, slots=True)
class PowParams:
    """`difficulty` is the exclusive upper bound of the secret number (ALTCHA's `maxnumber`)."""

    difficulty: int
    hmac_key: bytes
    expires_at: int | None = None


def hash_solution(salt: str, number: int) -> str:
    return hashlib.sha256(f"{salt}{number}".encode()).hexdigest()


def sign(hmac_key: bytes, challenge: str) -> str:
    return hmac.new(hmac_key, challenge.encode(), hashlib.sha256).hexdigest()


def generate_pow(rng: random.Random, params: PowParams) -> Challenge:
    """Create a proof-of-work challenge whose solution lies in `[0, difficulty)`."""
    difficulty = max(1, min(params.difficulty, MAX_DIFFICULTY))
    salt = rng.getrandbits(96).to_bytes(12, "big").hex()
    if params.expires_at is not None:
        salt = f"{salt}?expires={params.expires_at}"
    # ALTCHA ends every salt with "&" so that no parameter can be spliced onto it.
    salt += "&"
    number = rng.randrange(difficulty)
    challenge = hash_solution(salt, number)
    payload = {
        "algorithm": ALGORITHM,
        "challenge": challenge,
        "salt": salt,
        "maxnumber": difficulty,
        "signature": sign(params.hmac_key, challenge),
    }
    return Challenge(kind="pow", payload=payload, answer={"number": number})


def check_pow(payload: dict[str, object], number: object, *, hmac_key: bytes) -> CheckResult:
    """Check a client's number against the issued payload; the signature is checked first."""
    challenge = payload.get("challenge")
    salt = payload.get("salt")
    signature = payload.get("signature")
    if (
        not isinstance(challenge, str)
        or not isinstance(salt, str)
        or not isinstance(signature, str)
    ):
        return CheckResult.fail("invalid-payload")
    if not hmac.compare_digest(sign(hmac_key, challenge), signature):
        return CheckResult.fail("invalid-signature")
    if isinstance(number, bool) or not isinstance(number, int) or number < 0:
        return CheckResult.fail("invalid-solution")
    if not hmac.compare_digest(hash_solution(salt, number), challenge):
        return CheckResult.fail("invalid-solution")
    return CheckResult.ok()


def solve_pow(payload: dict[str, object]) -> int | None:
    """Brute-force a payload, as a client does; used by tests, benchmarks and the Python SDK."""
    salt = str(payload["salt"])
    challenge = str(payload["challenge"])
    maxnumber = int(str(payload["maxnumber"]))
    for number in range(maxnumber + 1):
        if hash_solution(salt, number) == challenge:
            return number
    return None
