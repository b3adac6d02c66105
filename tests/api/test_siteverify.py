"""Siteverify and its compat paths: single use, expiry, idempotency, errors, test keys."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from humangate.testkeys import (
    FAIL_SECRET,
    LOW_SCORE_SECRET,
    PASS_SECRET,
    PASS_SITEKEY,
    SCORE_SECRET,
    SCORE_SITEKEY,
    SPENT_SECRET,
)
from humangate.tokens import mint_token
from tests.api.helpers import create_unit, pass_pow, siteverify
from tests.app_services import services_of

PATHS = ["/siteverify", "/recaptcha/api/siteverify", "/turnstile/v0/siteverify"]


@pytest.mark.parametrize("path", PATHS)
def test_token_verifies_once_on_all_three_paths(client: TestClient, path: str) -> None:
    sitekey, secret = create_unit(client)
    token = pass_pow(client, sitekey, action="signup", cdata="order-42")
    first = siteverify(client, secret, token, path=path)
    assert first.status_code == 200
    body = first.json()
    assert body["success"] is True
    assert body["hostname"] == "localhost"
    assert body["error-codes"] == []
    assert body["challenge_ts"].endswith("Z")
    second = siteverify(client, secret, token, path=path)
    assert second.status_code == 200
    assert second.json()["success"] is False
    assert second.json()["error-codes"] == ["timeout-or-duplicate"]


def test_each_path_answers_with_its_services_fields(client: TestClient) -> None:
    sitekey, secret = create_unit(client)
    answers = {
        path: siteverify(
            client, secret, pass_pow(client, sitekey, action="signup", cdata="c1"), path=path
        ).json()
        for path in PATHS
    }
    common = {"success", "challenge_ts", "hostname", "error-codes"}
    # reCAPTCHA v2: a score or an action makes v2 libraries refuse the answer.
    assert set(answers["/recaptcha/api/siteverify"]) == common
    turnstile = answers["/turnstile/v0/siteverify"]
    assert set(turnstile) == common | {"action", "cdata", "metadata", "messages"}
    assert (turnstile["action"], turnstile["cdata"], turnstile["messages"]) == ("signup", "c1", [])
    own = answers["/siteverify"]
    assert own["action"] == "signup" and own["cdata"] == "c1" and own["sitekey"] == sitekey
    assert 0.0 <= own["score"] <= 1.0 and isinstance(own["score_reasons"], list)


def test_recaptcha_path_answers_as_v3_for_a_score_mode_unit(client: TestClient) -> None:
    sitekey, secret = create_unit(client, mode="score")
    token = pass_pow(client, sitekey, action="login")
    body = siteverify(client, secret, token, path="/recaptcha/api/siteverify").json()
    assert body["success"] is True and body["action"] == "login"
    assert isinstance(body["score"], float) and 0.0 <= body["score"] <= 1.0
    assert "score_reasons" not in body and "cdata" not in body


@pytest.mark.parametrize("path", PATHS)
def test_failures_carry_only_the_services_failure_fields(client: TestClient, path: str) -> None:
    _, secret = create_unit(client)
    body = siteverify(client, secret, "forged", path=path).json()
    expected = {"success": False, "error-codes": ["invalid-input-response"]}
    if path == "/turnstile/v0/siteverify":
        expected["messages"] = []
    assert body == expected


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
@pytest.mark.parametrize("path", PATHS)
def test_request_errors_are_200_verdicts_with_the_services_codes(
    client: TestClient, data: dict[str, str], code: str, path: str
) -> None:
    _, secret = create_unit(client)
    data = {k: v.replace("{secret}", secret) for k, v in data.items()}
    reply = client.post(path, data=data)
    assert reply.status_code == 200
    assert reply.json()["success"] is False and reply.json()["error-codes"] == [code]


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
        (b"--b\r\nContent-Disposition: form-data\r\n\r\nx", "multipart/form-data; boundary=b"),
        (b"no boundary", "multipart/form-data"),
        (
            b'--b\r\nContent-Disposition: form-data; name="secret"; filename="s.txt"\r\n\r\n'
            b"x\r\n--b--\r\n",
            "multipart/form-data; boundary=b",
        ),
    ],
)
@pytest.mark.parametrize("path", PATHS)
def test_malformed_bodies_are_bad_request_verdicts(
    client: TestClient, body: bytes, content_type: str, path: str
) -> None:
    reply = client.post(path, content=body, headers={"Content-Type": content_type})
    assert reply.status_code == 200
    assert reply.json()["success"] is False
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


def test_the_pass_test_secret_answers_as_a_v2_key_on_the_recaptcha_path(
    client: TestClient,
) -> None:
    body = siteverify(client, PASS_SECRET, "anything", path="/recaptcha/api/siteverify").json()
    assert body["success"] is True and "score" not in body and "action" not in body


@pytest.mark.parametrize(("secret", "score"), [(SCORE_SECRET, 0.9), (LOW_SCORE_SECRET, 0.1)])
def test_score_test_secrets_answer_as_a_v3_key(
    client: TestClient, secret: str, score: float
) -> None:
    path = "/recaptcha/api/siteverify"
    token = pass_pow(client, SCORE_SITEKEY, action="login")
    fixed = siteverify(client, secret, token, path=path).json()
    assert fixed["success"] is True and fixed["score"] == score and fixed["action"] == "test"
    again = siteverify(client, secret, token, path=path).json()
    assert again["success"] is True  # a test secret spends nothing
    asked = client.post(
        path, data={"secret": secret, "response": "x", "expected_action": "checkout"}
    ).json()
    assert asked["action"] == "checkout" and asked["hostname"] == "example.com"
    missing = client.post(path, data={"secret": secret}).json()
    assert missing == {"success": False, "error-codes": ["missing-input-response"]}


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
