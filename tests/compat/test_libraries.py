"""Published client libraries work against a real HumanGate server by changing only a URL.

- flask-turnstile (PyPI): Cloudflare Turnstile's Flask extension; only `VERIFY_URL` changes.
- altcha (PyPI): ALTCHA's own solver answers HumanGate's proof-of-work challenge.
"""

from __future__ import annotations

from collections.abc import Iterator

import altcha
import httpx
import pytest
from flask import Flask, jsonify
from flask_turnstile import Turnstile

from tests.live import LiveServer, create_unit_cli, humangate_env, running_server

ORIGIN = {"Origin": "http://localhost"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = humangate_env(tmp_path_factory.mktemp("compat"), demo="false")
    with running_server(env) as live:
        yield live


def pass_challenge_with_altcha(server: LiveServer, sitekey: str) -> str:
    """Get a pass token the way a non-browser client would, solving PoW with ALTCHA's solver."""
    with httpx.Client(base_url=server.url, headers=ORIGIN) as http:
        challenge = http.post("/api/v1/challenges", json={"sitekey": sitekey}).json()
        pow_ = challenge["pow"]
        solution = altcha.solve_challenge_v1(
            pow_["challenge"], pow_["salt"], pow_["algorithm"], pow_["maxnumber"]
        )
        assert solution is not None
        answer = http.post(
            f"/api/v1/challenges/{challenge['id']}/answer",
            json={"pow": {"number": solution.number}},
        ).json()
    assert answer["success"] is True, answer
    return str(answer["token"])


def make_site(server: LiveServer, secret: str) -> Flask:
    """A site owner's Flask app using flask-turnstile unchanged except for the verify URL."""
    site = Flask("owner-site")
    site.config.update(TURNSTILE_SITE_KEY="unused-here", TURNSTILE_SECRET_KEY=secret)
    turnstile = Turnstile(app=site)
    turnstile.VERIFY_URL = f"{server.url}/turnstile/v0/siteverify"

    @site.post("/signup")
    def signup():  # type: ignore[no-untyped-def]
        return jsonify(verified=turnstile.verify(), raw=turnstile.get_response())

    return site


def test_flask_turnstile_verifies_a_humangate_token_once(server: LiveServer) -> None:
    keys = create_unit_cli(server.env, "--domain", "localhost", "--mode", "invisible")
    token = pass_challenge_with_altcha(server, keys["sitekey"])
    site = make_site(server, keys["secret"])
    with site.test_client() as browser:
        first = browser.post("/signup", data={"cf-turnstile-response": token}).get_json()
        second = browser.post("/signup", data={"cf-turnstile-response": token}).get_json()
    assert first["verified"] is True
    # The raw answer was fetched after verify() consumed the token: the replay is refused.
    assert first["raw"]["error-codes"] == ["timeout-or-duplicate"]
    assert second["verified"] is False


def test_flask_turnstile_rejects_a_forged_token(server: LiveServer) -> None:
    keys = create_unit_cli(server.env, "--domain", "localhost")
    site = make_site(server, keys["secret"])
    with site.test_client() as browser:
        reply = browser.post("/signup", data={"cf-turnstile-response": "forged"}).get_json()
    assert reply["verified"] is False
    assert reply["raw"]["error-codes"] == ["invalid-input-response"]


def test_flask_turnstile_with_the_published_test_secret(server: LiveServer) -> None:
    site = make_site(server, "1x0000000000000000000000000000000AA")
    with site.test_client() as browser:
        reply = browser.post("/signup", data={"cf-turnstile-response": "XXXX.DUMMY.TOKEN.XXXX"})
    assert reply.get_json()["verified"] is True
