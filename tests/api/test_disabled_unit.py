"""A disabled unit, by its owner or by its owner's suspension, stops verifying: no challenge, no
answer, and no siteverify success, even for a token minted before it was disabled.

The suite's apps cache units for 0 s (tests/conftest.py); with the default 5 s the same refusals
start within that time, which tests/test_directory.py covers for the cache itself.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from humangate.accounts import suspend_account
from humangate.accounts.passwords import TEST_PARAMS, PasswordHasher
from humangate.challenges.pow import solve_pow
from humangate.db import accounts as account_db
from humangate.db import units as unit_db
from tests.api.helpers import create_unit, issue, pass_pow, siteverify
from tests.app_services import replace_services, services_of
from tests.console.test_units_http import BROWSER, make_admin, make_owner, run

DISABLED = {"success": False, "error-codes": ["sitekey-disabled"]}


def set_disabled(client: TestClient, sitekey: str, disabled: bool) -> None:
    changes = unit_db.UnitChanges(disabled=disabled)
    assert run(client, lambda s: unit_db.update_unit(s, sitekey, changes)) is not None


def test_a_disabled_unit_gets_no_challenge(client: TestClient) -> None:
    sitekey, _ = create_unit(client)
    set_disabled(client, sitekey, True)
    reply = client.post("/api/v1/challenges", json={"sitekey": sitekey})
    assert reply.status_code == 403
    assert reply.json()["error"] == "sitekey-disabled"
    set_disabled(client, sitekey, False)
    assert issue(client, sitekey)["kind"] == "pow"


def test_an_answer_to_a_challenge_issued_before_is_refused(client: TestClient) -> None:
    sitekey, _ = create_unit(client)
    challenge = issue(client, sitekey)
    set_disabled(client, sitekey, True)
    number = solve_pow(challenge["pow"])
    reply = client.post(
        f"/api/v1/challenges/{challenge['id']}/answer", json={"pow": {"number": number}}
    )
    assert reply.status_code == 403
    assert reply.json()["error"] == "sitekey-disabled"
    assert "token" not in reply.json()


def test_a_token_minted_before_the_unit_was_disabled_does_not_verify(client: TestClient) -> None:
    sitekey, secret = create_unit(client)
    token = pass_pow(client, sitekey)
    set_disabled(client, sitekey, True)
    for path in ("/siteverify", "/recaptcha/api/siteverify", "/turnstile/v0/siteverify"):
        reply = siteverify(client, secret, token, path=path)
        assert reply.status_code == 200
        assert {k: reply.json()[k] for k in DISABLED} == DISABLED
    # The refusal consumed nothing: re-enabled within the token's lifetime, the unit verifies
    # the token once, as it would have.
    set_disabled(client, sitekey, False)
    assert siteverify(client, secret, token).json()["success"] is True
    assert siteverify(client, secret, token).json()["error-codes"] == ["timeout-or-duplicate"]


def test_request_errors_still_come_first_for_a_disabled_unit(client: TestClient) -> None:
    sitekey, secret = create_unit(client)
    set_disabled(client, sitekey, True)
    missing = client.post("/siteverify", data={"secret": secret})
    assert (missing.status_code, missing.json()["error-codes"]) == (200, ["missing-input-response"])
    wrong = siteverify(client, "not-a-secret", "x")
    assert (wrong.status_code, wrong.json()["error-codes"]) == (200, ["invalid-input-secret"])


def test_suspending_the_owner_stops_the_units_tokens(client: TestClient) -> None:
    accounts = services_of(client).accounts
    state = replace_services(
        client, accounts=dataclasses.replace(accounts, hasher=PasswordHasher(TEST_PARAMS))
    )
    owner = make_owner(client, "owner@example.com")
    admin = make_admin(client)
    sitekey, secret = create_unit(client)
    unit_id = client.portal.call(state.directory.by_sitekey, sitekey).id  # type: ignore[union-attr]
    run(client, lambda s: _own(s, unit_id, owner.account_id))
    token = pass_pow(client, sitekey)

    async def suspend(session: Any) -> None:
        await suspend_account(
            state.accounts,
            session,
            owner.account_id,
            admin_id=admin.account_id,
            reason="Abuse reports",
            client=BROWSER,
            now=datetime.now(UTC),
        )

    run(client, suspend)
    assert siteverify(client, secret, token).json() == DISABLED
    refused = client.post("/api/v1/challenges", json={"sitekey": sitekey})
    assert (refused.status_code, refused.json()["error"]) == (403, "sitekey-disabled")


async def _own(session: Any, unit_id: int, account_id: int) -> None:
    assert await account_db.set_unit_owner(session, unit_id, account_id)
    await session.commit()
