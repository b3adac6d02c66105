"""The verification API over HTTP, on the embedded default (SQLite, memory store) and on
PostgreSQL with Redis; codes go to the development outbox."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from humangate.config import Settings
from humangate.messaging.outbox import read_outbox
from tests.api.helpers import create_unit, pass_pow
from tests.verify._app import (
    START,
    SignedClient,
    codes_sent,
    make_app,
    settings_on_both_backends,
    shifted_clock,
)

__all__ = ["settings_on_both_backends"]  # the fixture `settings`, imported

PHONE = "+8613800138000"


@pytest.fixture
def data_dir(settings: Settings) -> Path:
    return settings.data_dir


@pytest.fixture
def app(client: TestClient) -> SignedClient:
    return make_app(client)


def test_a_code_sent_by_sms_approves_once(app: SignedClient, data_dir: Path) -> None:
    started = app.start(PHONE)
    assert started.status_code == 201, started.text
    body = started.json()
    assert body["status"] == "pending" and body["channel"] == "sms"
    assert body["to"] != PHONE and body["to"].endswith("8000") and "138" in body["to"]
    assert body["country"] == "CN" and body["carrier"] == "china-mobile"
    (code,) = codes_sent(data_dir, PHONE)
    wrong = "0" * len(code) if code != "0" * len(code) else "1" * len(code)

    denied = app.check(body["id"], wrong)
    assert denied.status_code == 200
    assert denied.json()["status"] == "denied" and denied.json()["valid"] is False
    assert denied.json()["attempts_left"] == 4

    approved = app.check(body["id"], code)
    assert approved.json()["status"] == "approved" and approved.json()["valid"] is True
    again = app.check(body["id"], code)
    assert again.json()["status"] == "expired" and again.json()["valid"] is False
    assert app.fetch(body["id"]).json()["status"] == "approved"


def test_email_codes_arrive_in_the_chosen_language(app: SignedClient, data_dir: Path) -> None:
    started = app.start("Person@Example.COM", channel="email", locale="zh-CN")
    assert started.status_code == 201, started.text
    assert started.json()["to"] != "person@example.com"
    (entry,) = read_outbox(data_dir)
    assert entry.to == "Person@example.com" and "验证码" in entry.text
    (code,) = codes_sent(data_dir, entry.to)
    assert app.check(started.json()["id"], code).json()["status"] == "approved"


def test_the_apps_rules_refuse_before_anything_is_sent(client: TestClient, data_dir: Path) -> None:
    app = make_app(client, channels=("sms",), three_carriers_only=True, allow_virtual=False)
    cases = {
        ("+8613800138000", "email"): (403, "channel-not-allowed"),
        ("+12025550123", "sms"): (403, "country-not-allowed"),
        ("+861012345678", "sms"): (400, "number-cannot-receive-sms"),
        ("+8619212345678", "sms"): (403, "carrier-not-allowed"),  # China Broadnet
        ("+8617012345678", "sms"): (403, "carrier-not-allowed"),  # a virtual operator
        ("not a number", "sms"): (400, "invalid-destination"),
    }
    for (to, channel), (status, code) in cases.items():
        reply = app.start(to if channel == "sms" else to, channel=channel)
        assert (reply.status_code, reply.json()["error"]) == (status, code), (to, reply.text)
    assert codes_sent(data_dir, "+8613800138000") == []


def test_a_pass_token_is_required_by_default(client: TestClient, data_dir: Path) -> None:
    sitekey, _ = create_unit(client, difficulty=1)
    app = make_app(client, require_token=True, sitekey=sitekey)
    assert app.start(PHONE).json()["error"] == "token-required"
    assert app.start(PHONE, humangate_token="forged.token").json()["error"] == "invalid-token"
    token = pass_pow(client, sitekey)
    assert app.start(PHONE, humangate_token=token).status_code == 201
    # The token was spent by that start.
    assert app.start("+8613900139000", humangate_token=token).json()["error"] == "invalid-token"
    assert len(codes_sent(data_dir, PHONE)) == 1


def test_a_resend_waits_for_the_cool_down_and_replaces_the_code(
    client: TestClient, app: SignedClient, data_dir: Path
) -> None:
    clock = shifted_clock(client, app)
    first = app.start(PHONE).json()
    too_soon = app.start(PHONE)
    assert too_soon.status_code == 429 and too_soon.json()["error"] == "resend-too-soon"
    assert 1 <= int(too_soon.headers["Retry-After"]) <= 30
    clock.offset += 31
    again = app.start(PHONE)
    assert again.status_code == 200 and again.json()["id"] == first["id"]
    assert again.json()["sends"] == 2
    old, new = codes_sent(data_dir, PHONE)
    if old != new:
        assert app.check(first["id"], old).json()["status"] == "denied"
    assert app.check(first["id"], new).json()["status"] == "approved"


def test_an_idempotency_key_answers_the_same_verification(
    app: SignedClient, data_dir: Path
) -> None:
    first = app.start(PHONE, idempotency_key="signup-42")
    second = app.start(PHONE, idempotency_key="signup-42")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert len(codes_sent(data_dir, PHONE)) == 1
    other = app.start("+8613900139000", idempotency_key="signup-42")
    assert other.status_code == 400 and other.json()["error"] == "idempotency-key-reused"


def test_wrong_codes_end_in_max_attempts(app: SignedClient, data_dir: Path) -> None:
    started = app.start(PHONE).json()
    (code,) = codes_sent(data_dir, PHONE)
    wrong = f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"
    answers = [app.check(started["id"], wrong).json()["status"] for _ in range(5)]
    assert answers == ["denied"] * 4 + ["max-attempts"]
    assert app.check(started["id"], code).json()["status"] == "max-attempts"
    assert app.fetch(started["id"]).json()["status"] == "max-attempts"


def test_a_code_expires(client: TestClient, app: SignedClient, data_dir: Path) -> None:
    clock = shifted_clock(client, app)
    started = app.start(PHONE).json()
    (code,) = codes_sent(data_dir, PHONE)
    clock.offset += 601
    assert app.check(started["id"], code).json()["status"] == "expired"
    assert app.fetch(started["id"]).json()["status"] == "expired"


def test_cancel_stops_the_code(app: SignedClient, data_dir: Path) -> None:
    started = app.start(PHONE).json()
    (code,) = codes_sent(data_dir, PHONE)
    canceled = app.cancel(started["id"])
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    assert app.check(started["id"], code).json()["status"] == "canceled"
    again = app.cancel(started["id"])
    assert again.status_code == 410 and again.json()["error"] == "not-pending"


def test_another_apps_verification_is_not_found(client: TestClient, app: SignedClient) -> None:
    started = app.start(PHONE).json()
    other = make_app(client, name="Other")
    for reply in (other.fetch(started["id"]), other.check(started["id"], "123456")):
        assert reply.status_code == 404 and reply.json()["error"] == "not-found"
    assert other.cancel(started["id"]).status_code == 404


def test_the_destination_limit_names_itself(client: TestClient, data_dir: Path) -> None:
    app = make_app(client, caps={"destination_daily_cap": 2})
    clock = shifted_clock(client, app)
    for _ in range(2):
        assert app.start(PHONE).status_code in (200, 201)
        clock.offset += 31
    refused = app.start(PHONE)
    assert refused.status_code == 429 and refused.json()["error"] == "destination-limit"
    assert int(refused.headers["Retry-After"]) > 0
    assert len(codes_sent(data_dir, PHONE)) == 2


def test_bad_bodies_are_refused_with_a_code_and_change_nothing(
    app: SignedClient, data_dir: Path
) -> None:
    for raw in (b"{", b"[]", b'{"to": 5, "channel": "sms"}', b'{"to": "+8613800138000"}'):
        reply = app.request("POST", START, raw=raw)
        assert reply.status_code == 400 and reply.json()["error"], raw
    extra = app.request("POST", START, {"to": PHONE, "channel": "sms", "admin": True})
    assert extra.status_code == 400
    started = app.start(PHONE).json()
    assert app.check(started["id"], "12ab56").json()["error"] == "invalid-code"
    assert app.fetch(started["id"]).json()["attempts_left"] == 5
    assert app.fetch("VE" + "0" * 32).status_code == 404
    assert len(codes_sent(data_dir, PHONE)) == 1
