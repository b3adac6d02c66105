"""Verification needs no cookie and sets none: the widget script, issuing and answering
challenges (passed, failed and refused), the audio alternative and siteverify on all three paths
answer without `Set-Cookie`, for a client that sends no cookie either."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from humangate.app import create_app
from humangate.challenges.pow import solve_pow
from humangate.config import Settings
from tests.api.helpers import create_unit, issue, siteverify
from tests.api.test_risk import CHROME_UA, VISITOR_IP, human_pass
from tests.conftest import ORIGIN

SITEVERIFY_PATHS = ("/siteverify", "/recaptcha/api/siteverify", "/turnstile/v0/siteverify")


@pytest.fixture
def chrome(settings: Settings) -> Iterator[TestClient]:
    """Desktop Chrome from a routable address, as the risk engine sees the widget."""
    headers = {"Origin": ORIGIN, "User-Agent": CHROME_UA, "Accept-Language": "en-US,en;q=0.9"}
    with TestClient(create_app(settings), headers=headers, client=(VISITOR_IP, 50000)) as client:
        yield client


def no_cookie(reply: httpx.Response) -> httpx.Response:
    assert "set-cookie" not in reply.headers, (reply.request.url, reply.headers)
    return reply


def test_a_pow_round_sets_no_cookie(client: TestClient) -> None:
    script = no_cookie(client.get("/humangate.js"))
    assert script.status_code == 200
    sitekey, secret = create_unit(client)
    challenge = no_cookie(client.post("/api/v1/challenges", json={"sitekey": sitekey})).json()
    url = f"/api/v1/challenges/{challenge['id']}/answer"
    passed = no_cookie(client.post(url, json={"pow": {"number": solve_pow(challenge["pow"])}}))
    token = passed.json()["token"]
    for path in SITEVERIFY_PATHS:
        no_cookie(siteverify(client, secret, token, path=path))
    assert not client.cookies


def test_failed_refused_and_audio_replies_set_no_cookie(client: TestClient) -> None:
    sitekey, secret = create_unit(client, mode="interactive")
    visual = issue(client, sitekey)
    failed = no_cookie(
        client.post(
            f"/api/v1/challenges/{visual['id']}/answer",
            json={"answer": {"x": -1}, "trajectory": []},
        )
    )
    assert failed.json()["success"] is False
    following = failed.json()["next"]
    audio = no_cookie(client.post(f"/api/v1/challenges/{following['id']}/audio", json={}))
    assert audio.status_code == 200, audio.text
    refused = [
        client.post("/api/v1/challenges", json={"sitekey": "no-such-key"}),
        client.post("/api/v1/challenges", content=b"{not json"),
        client.post("/siteverify", data={"secret": secret}),
        siteverify(client, secret, "forged-token"),
    ]
    assert [no_cookie(r).status_code for r in refused] == [400, 400, 200, 200]
    assert not client.cookies


def test_a_managed_round_with_the_risk_engine_sets_no_cookie(chrome: TestClient) -> None:
    sitekey, secret = create_unit(chrome, mode="managed")
    # The widget's requests through the risk engine; a cookie set on any of them would stay in
    # the client's jar.
    token = human_pass(chrome, sitekey)
    verified = no_cookie(siteverify(chrome, secret, token))
    assert verified.json()["success"] is True
    assert not chrome.cookies
