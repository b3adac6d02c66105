"""Siteverify and its compat paths: single use, expiry, idempotency, errors, test keys."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from humangate.testkeys import FAIL_SECRET, PASS_SECRET, PASS_SITEKEY, SPENT_SECRET
from humangate.tokens import mint_token
from tests.api.helpers import create_unit, pass_pow, siteverify
from tests.app_services import services_of

PATHS = ["/siteverify", "/recaptcha/api/siteverify", "/turnstile/v0/siteverify"]


@pytest.mark.parametrize("path", PATHS)
def test_token_verifies_once_with_the_fields_of_all_three_services(
    client: TestClient, path: str
) -> None:
    sitekey, secret = create_unit(client)
    token = pass_pow(client, sitekey, action="signup", cdata="order-42")
    first = siteverify(client, secret, token, path=path)
    assert first.status_code == 200
    body = first.json()
    assert body["success"] is True
    assert body["hostname"] == "localhost"
    assert body["action"] == "signup" and body["cdata"] == "order-42"
    assert body["error-codes"] == []
    assert body["challenge_ts"].endswith("Z")
    assert "score" in body
    second = siteverify(client, secret, token, path=path)
    assert second.status_code == 200
    assert second.json() == {"success": False, "error-codes": ["timeout-or-duplicate"]}


def test_json_body_is_accepted(client: TestClient) -> None:
    sitekey, secret = create_unit(client)
    token = pass_pow(client, sitekey)
    reply = client.post("/turnstile/v0/siteverify", json={"secret": secret, "response": token})
    assert reply.json()["success"] is True


def test_query_parameters_are_accepted(client: TestClient) -> None:
    sitekey, secret = create_unit(client)
    token = pass_pow(client, sitekey)
    reply = client.post("/recaptcha/api/siteverify", params={"secret": secret, "response": token})
    assert reply.json()["success"] is True


def test_token_of_another_unit_is_invalid_and_not_consumed(client: TestClient) -> None:
    sitekey, secret = create_unit(client)
    _, other_secret = create_unit(client)
    token = pass_pow(client, sitekey)
    foreign = siteverify(client, other_secret, token)
    assert foreign.json()["error-codes"] == ["invalid-input-response"]
    assert siteverify(client, secret, token).json()["success"] is True


def test_expired_token_times_out(client: TestClient) -> None:
    sitekey, secret = create_unit(client)
    token = pass_pow(client, sitekey)
    services_of(client).store._clock = lambda: time.monotonic() + 301  # type: ignore[attr-defined]
    assert siteverify(client, secret, token).json()["error-codes"] == ["timeout-or-duplicate"]


def test_genuine_token_past_its_expiry_times_out_without_the_store(client: TestClient) -> None:
    sitekey, secret = create_unit(client)
    services = services_of(client)
    key = services.key
    unit = client.portal.call(services.directory.by_sitekey, sitekey)  # type: ignore[union-attr]
    old = mint_token(key, unit_id=unit.id, expires_at=int(time.time()) - 1)
    assert siteverify(client, secret, old).json()["error-codes"] == ["timeout-or-duplicate"]


def test_idempotency_key_repeats_the_first_answer(client: TestClient) -> None:
    sitekey, secret = create_unit(client)
    token = pass_pow(client, sitekey)
    first = siteverify(client, secret, token, idempotency_key="k1").json()
    again = siteverify(client, secret, token, idempotency_key="k1").json()
    assert first["success"] is True and again == first
    other = siteverify(client, secret, token, idempotency_key="k2").json()
    assert other["error-codes"] == ["timeout-or-duplicate"]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"response": "x"}, "missing-input-secret"),
        ({"secret": "hgs_nope", "response": "x"}, "invalid-input-secret"),
        ({"secret": "{secret}"}, "missing-input-response"),
        ({"secret": "{secret}", "response": "x", "sitekey": "other"}, "sitekey-secret-mismatch"),
        ({"secret": "{secret}", "response": "r" * 5000}, "bad-request"),
    ],
)
def test_request_errors_are_400_with_the_services_codes(
    client: TestClient, data: dict[str, str], code: str
) -> None:
    _, secret = create_unit(client)
    data = {k: v.replace("{secret}", secret) for k, v in data.items()}
    reply = client.post("/siteverify", data=data)
    assert reply.status_code == 400
    assert reply.json() == {"success": False, "error-codes": [code]}


@pytest.mark.parametrize("response", ["garbage", "A" * 48, "XXXX.DUMMY.TOKEN.XXXX", "é" * 48])
def test_unknown_tokens_are_invalid_input_response(client: TestClient, response: str) -> None:
    _, secret = create_unit(client)
    reply = siteverify(client, secret, response)
    assert reply.status_code == 200
    assert reply.json()["error-codes"] == ["invalid-input-response"]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{bad", "application/json"),
        (b"[1]", "application/json"),
        (b'{"secret": 5}', "application/json"),
        (b"secret=%ff%fe&response=1", "application/x-www-form-urlencoded"),
    ],
)
def test_malformed_bodies_are_bad_request(
    client: TestClient, body: bytes, content_type: str
) -> None:
    reply = client.post("/siteverify", content=body, headers={"Content-Type": content_type})
    assert reply.status_code == 400
    assert reply.json()["error-codes"] == ["bad-request"]


def test_published_test_secrets(client: TestClient) -> None:
    assert siteverify(client, PASS_SECRET, "anything").json()["success"] is True
    assert siteverify(client, FAIL_SECRET, "anything").json()["error-codes"] == [
        "invalid-input-response"
    ]
    assert siteverify(client, SPENT_SECRET, "anything").json()["error-codes"] == [
        "timeout-or-duplicate"
    ]
    token = pass_pow(client, PASS_SITEKEY)
    assert siteverify(client, PASS_SECRET, token).json()["success"] is True


def test_rotated_secret_keeps_working_through_the_grace_period(client: TestClient) -> None:
    from datetime import timedelta

    from humangate.db import units as unit_db

    sitekey, old_secret = create_unit(client)
    sessions = services_of(client).sessions

    async def rotate() -> str | None:
        async with sessions() as session:
            return await unit_db.rotate_secret(session, sitekey, grace=timedelta(hours=1))

    new_secret = client.portal.call(rotate)  # type: ignore[union-attr]
    assert new_secret and new_secret != old_secret
    assert siteverify(client, old_secret, pass_pow(client, sitekey)).json()["success"] is True
    assert siteverify(client, new_secret, pass_pow(client, sitekey)).json()["success"] is True
