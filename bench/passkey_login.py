"""What a console login costs the server: a passkey check against a password check.

    .venv/bin/python -m bench.passkey_login [--runs 200]

Passkey: `webauthn.verify_authentication_response` on a real P-256 assertion (the software
authenticator of the test suite; a browser's assertion has the same shape), which is the CPU work
of `humangate.accounts.passkeys.log_in_with_passkey` apart from one store take and two queries;
and `verify_registration_response` for adding one. Password: argon2id `verify` with the
production parameters (64 MiB, t=2, p=1), the baseline measured in the same run. The ratio is the
password check over the passkey check.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

from webauthn import verify_authentication_response, verify_registration_response

from bench._machine import print_facts
from humangate.accounts.passwords import PRODUCTION_PARAMS, PasswordHasher
from tests.accounts._authenticator import SoftAuthenticator, b64url, unb64url

ORIGIN = "https://console.example.com"
RP_ID = "console.example.com"


def median_ms(work: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    print_facts()

    authenticator = SoftAuthenticator(ORIGIN)
    challenge = b"c" * 32
    create_options = json.dumps(
        {"rp": {"id": RP_ID}, "user": {"id": b64url(b"u" * 32)}, "challenge": b64url(challenge)}
    )
    created = json.loads(authenticator.create(create_options))
    registered = verify_registration_response(
        credential=created,
        expected_challenge=challenge,
        expected_rp_id=RP_ID,
        expected_origin=ORIGIN,
        require_user_verification=True,
    )
    get_options = json.dumps({"rpId": RP_ID, "challenge": b64url(challenge)})
    # Counters grow with every assertion; verify against a count of 0 so each check passes.
    assertion = json.loads(authenticator.get(get_options))
    assert unb64url(assertion["rawId"]) == registered.credential_id

    def register() -> object:
        return verify_registration_response(
            credential=created,
            expected_challenge=challenge,
            expected_rp_id=RP_ID,
            expected_origin=ORIGIN,
            require_user_verification=True,
        )

    def log_in() -> object:
        return verify_authentication_response(
            credential=assertion,
            expected_challenge=challenge,
            expected_rp_id=RP_ID,
            expected_origin=ORIGIN,
            credential_public_key=registered.credential_public_key,
            credential_current_sign_count=0,
            require_user_verification=True,
        )

    hasher = PasswordHasher(PRODUCTION_PARAMS)
    hashed = hasher.hash("correct horse battery")
    password_runs = max(5, args.runs // 20)
    passkey_ms = median_ms(log_in, args.runs)
    register_ms = median_ms(register, args.runs)
    password_ms = median_ms(lambda: hasher.verify(hashed, "correct horse battery"), password_runs)
    print(f"passkey login check      {passkey_ms:8.3f} ms  (median of {args.runs})")
    print(f"passkey registration     {register_ms:8.3f} ms  (median of {args.runs})")
    print(f"password check (argon2)  {password_ms:8.3f} ms  (median of {password_runs})")
    print(f"password / passkey login {password_ms / passkey_ms:8.1f} x")


if __name__ == "__main__":
    main()
