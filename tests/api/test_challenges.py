"""The public challenge API: issue, answer, replay, expiry, origins, bad input."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from humangate.challenges.pow import solve_pow
from humangate.testkeys import FAIL_SITEKEY, PASS_SITEKEY
from tests.api.helpers import create_unit, issue, pass_pow
from tests.app_services import services_of, stored_state


def test_invisible_unit_starts_with_pow_in_altcha_format(client: TestClient) -> None:
    sitekey, _ = create_unit(client, mode="invisible")
    challenge = issue(client, sitekey, action="login")
    assert challenge["kind"] == "pow"
    assert challenge["expires_in"] == 120
    assert len(challenge["id"]) >= 22
    assert set(challenge["pow"]) == {"algorithm", "challenge", "salt", "maxnumber", "signature"}
    assert challenge["pow"]["algorithm"] == "SHA-256"
    assert challenge["pow"]["maxnumber"] == 500


def test_interactive_unit_gets_a_slide_without_the_answer(client: TestClient) -> None:
    sitekey, _ = create_unit(client, mode="interactive")
    challenge = issue(client, sitekey)
    assert challenge["kind"] == "slide"
    assert set(challenge) == {"id", "kind", "expires_in", "slide"}
    assert set(challenge["slide"]) == {
        "width",
        "height",
        "background",
        "piece",
        "piece_width",
        "piece_height",
        "piece_y",
    }
    state = stored_state(client, challenge["id"])
    assert state is not None and isinstance(state.answer["x"], int)


def test_correct_pow_passes_once(client: TestClient) -> None:
    sitekey, _ = create_unit(client)
    challenge = issue(client, sitekey)
    number = solve_pow(challenge["pow"])
    url = f"/api/v1/challenges/{challenge['id']}/answer"
    first = client.post(url, json={"pow": {"number": number}})
    assert first.status_code == 200 and first.json()["success"] is True
    assert len(first.json()["token"]) >= 22
    replay = client.post(url, json={"pow": {"number": number}})
    assert replay.status_code == 410
    assert replay.json()["error"] == "expired-or-used"


def test_wrong_pow_fails_with_a_harder_next_challenge(client: TestClient) -> None:
    sitekey, _ = create_unit(client, mode="managed")
    challenge = issue(client, sitekey)
    number = solve_pow(challenge["pow"])
    reply = client.post(
        f"/api/v1/challenges/{challenge['id']}/answer", json={"pow": {"number": number + 1}}
    )
    body = reply.json()
    assert reply.status_code == 200
    # One code for every wrong answer: the client never learns which part was wrong.
    assert body["success"] is False and body["error"] == "wrong-answer"
    assert body["next"]["kind"] == "slide"  # managed mode escalates to a visual challenge
    assert issue(client, sitekey)["kind"] == "slide"  # and stays escalated for this network


def test_invisible_unit_doubles_difficulty_after_a_failure(client: TestClient) -> None:
    sitekey, _ = create_unit(client, mode="invisible", difficulty=300)
    challenge = issue(client, sitekey)
    reply = client.post(
        f"/api/v1/challenges/{challenge['id']}/answer", json={"pow": {"number": 10**9}}
    )
    assert reply.json()["next"]["pow"]["maxnumber"] == 600


def test_expired_challenge_is_refused(make_settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from humangate.app import create_app

    with TestClient(
        create_app(make_settings(challenge_ttl=10)), headers={"Origin": "http://localhost"}
    ) as client:
        sitekey, _ = create_unit(client)
        challenge = issue(client, sitekey)
        number = solve_pow(challenge["pow"])
        store = services_of(client).store
        store._clock = lambda: time.monotonic() + 11  # the in-memory store's clock, moved on
        reply = client.post(
            f"/api/v1/challenges/{challenge['id']}/answer", json={"pow": {"number": number}}
        )
    assert reply.status_code == 410
    assert reply.json()["error"] == "expired-or-used"


def test_origin_must_match_the_unit_domains(client: TestClient) -> None:
    sitekey, _ = create_unit(client, domains=["example.org"])
    for headers in (
        {"Origin": "http://evil.test"},
        {"Origin": "http://example.org.evil.test"},
        {"Origin": ""},
    ):
        reply = client.post("/api/v1/challenges", json={"sitekey": sitekey}, headers=headers)
        assert reply.status_code == 403
        assert reply.json()["error"] == "invalid-origin"
    ok = client.post(
        "/api/v1/challenges",
        json={"sitekey": sitekey},
        headers={"Origin": "https://www.example.org"},
    )
    assert ok.status_code == 200
    referer = client.post(
        "/api/v1/challenges",
        json={"sitekey": sitekey},
        headers={"Origin": "", "Referer": "https://example.org/signup?x=1"},
    )
    assert referer.status_code == 200


def test_answer_from_another_origin_is_refused_and_keeps_the_challenge(client: TestClient) -> None:
    sitekey, _ = create_unit(client, domains=["localhost", "example.org"])
    challenge = issue(client, sitekey)
    number = solve_pow(challenge["pow"])
    url = f"/api/v1/challenges/{challenge['id']}/answer"
    other = client.post(
        url, json={"pow": {"number": number}}, headers={"Origin": "http://example.org"}
    )
    assert other.status_code == 403 and other.json()["error"] == "invalid-origin"
    assert client.post(url, json={"pow": {"number": number}}).json()["success"] is True


def test_unknown_sitekey(client: TestClient) -> None:
    reply = client.post("/api/v1/challenges", json={"sitekey": "nope"})
    assert reply.status_code == 400
    assert reply.json()["error"] == "invalid-sitekey"


def test_test_sitekeys_work_anywhere(client: TestClient) -> None:
    token = pass_pow(client, PASS_SITEKEY)
    assert token == "XXXX.DUMMY.TOKEN.XXXX"
    challenge = issue(client, FAIL_SITEKEY)
    number = solve_pow(challenge["pow"])
    reply = client.post(
        f"/api/v1/challenges/{challenge['id']}/answer", json={"pow": {"number": number}}
    )
    assert reply.json() == {"success": False, "error": "wrong-answer", "next": None}


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b'"sitekey"',
        b'{"sitekey": 5}',
        b'{"sitekey": "x", "unknown": 1}',
        b'{"sitekey": "x", "action": "bad action!"}',
        b'{"sitekey": "x", "cdata": "' + b"c" * 300 + b'"}',
        b'{"sitekey": ""}',
        b"",
        '{"sitekey": "\udc80"}'.encode("utf-8", "surrogatepass"),
    ],
)
def test_bad_challenge_requests_get_400(client: TestClient, body: bytes) -> None:
    reply = client.post(
        "/api/v1/challenges", content=body, headers={"Content-Type": "application/json"}
    )
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"] in {"bad-request", "invalid-sitekey"}


@pytest.mark.parametrize(
    "body",
    [
        {"pow": {"number": "12"}},
        {"pow": {"number": True}},
        {"pow": {"number": -1}},
        {"pow": {"number": 1.5}},
        {"pow": {"number": 2**80}},
        {"pow": {"nonce": 1}},
        {"pow": 5},
        {"answer": {"x": 3}, "trajectory": [[0, 0, 0]]},
        {"extra": 1},
        {},
    ],
)
def test_bad_answers_get_400_and_keep_the_challenge(client: TestClient, body: object) -> None:
    sitekey, _ = create_unit(client)
    challenge = issue(client, sitekey)
    url = f"/api/v1/challenges/{challenge['id']}/answer"
    reply = client.post(url, json=body)
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"] == "bad-request"
    number = solve_pow(challenge["pow"])
    assert client.post(url, json={"pow": {"number": number}}).json()["success"] is True


def test_malformed_challenge_id(client: TestClient) -> None:
    reply = client.post("/api/v1/challenges/short/answer", json={"pow": {"number": 1}})
    assert reply.status_code == 400
    assert reply.json()["error"] == "bad-request"


def test_body_over_64_kib_is_refused(client: TestClient) -> None:
    body = b'{"sitekey": "' + b"a" * (64 * 1024) + b'"}'
    reply = client.post(
        "/api/v1/challenges", content=body, headers={"Content-Type": "application/json"}
    )
    assert reply.status_code == 413
    assert reply.json()["error"] == "payload-too-large"


def test_issue_rate_limit_per_network(make_settings) -> None:  # type: ignore[no-untyped-def]
    from humangate.app import create_app

    with TestClient(
        create_app(make_settings(rate_challenges_per_minute=5)),
        headers={"Origin": "http://localhost"},
    ) as client:
        sitekey, _ = create_unit(client)
        codes = [
            client.post("/api/v1/challenges", json={"sitekey": sitekey}).status_code
            for _ in range(7)
        ]
        assert codes == [200] * 5 + [429] * 2
        assert (
            client.post("/api/v1/challenges", json={"sitekey": sitekey}).json()["error"]
            == "rate-limited"
        )


def test_cors_preflight_is_answered(client: TestClient) -> None:
    reply = client.options(
        "/api/v1/challenges",
        headers={
            "Origin": "https://example.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert reply.status_code == 200
    assert reply.headers["access-control-allow-origin"] in ("*", "https://example.org")


def test_api_reference_is_served_without_third_party_assets(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {"/api/v1/challenges", "/siteverify", "/turnstile/v0/siteverify"} <= set(spec["paths"])
    page = client.get("/docs")
    assert page.status_code == 200
    assert "/api/v1/challenges/{challenge_id}/answer" in page.text
    assert (
        "http://" not in page.text.replace("http://localhost", "") and "https://" not in page.text
    )
