"""humangate.client.flask in a real Flask app verifying tokens with a real HumanGate server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask, g, jsonify, render_template_string

from humangate.client.flask import HumanGate
from tests.client._sockets import closed_port_url
from tests.client.conftest import Site

_APPS: list[Flask] = []


@pytest.fixture(autouse=True)
def close_clients() -> Iterator[None]:
    yield
    while _APPS:
        _APPS.pop().extensions["humangate"].close()


def make_site(url: str, sitekey: str, secret: str, **config: object) -> Flask:
    app = Flask("owner-site")
    _APPS.append(app)
    app.config.update(
        HUMANGATE_URL=url, HUMANGATE_SITEKEY=sitekey, HUMANGATE_SECRET=secret, **config
    )
    humangate = HumanGate(app)

    @app.route("/comment", methods=["GET", "POST"])
    @humangate.required
    def comment():  # type: ignore[no-untyped-def]
        if g.get("humangate") is None:
            return render_template_string("<form method=post>{{ humangate_widget() }}</form>")
        return jsonify(saved=True, host=g.humangate.hostname, score=g.humangate.score)

    @app.post("/login")
    @humangate.required(action="login")
    def login():  # type: ignore[no-untyped-def]
        return "logged in"

    @app.post("/api/verdict")
    def verdict():  # type: ignore[no-untyped-def]
        result = humangate.verify()
        return jsonify(success=result.success, unreachable=result.unreachable)

    return app


def test_the_template_helper_draws_the_widget(site: Site) -> None:
    app = make_site(site.url, site.sitekey, site.secret)
    page = app.test_client().get("/comment").get_data(as_text=True)
    assert f'<div class="humangate" data-sitekey="{site.sitekey}"></div>' in page
    assert f'<script src="{site.url}/humangate.js" async defer></script>' in page


def test_required_lets_a_verified_post_through_once(site: Site) -> None:
    browser = make_site(site.url, site.sitekey, site.secret).test_client()
    token = site.token()
    first = browser.post("/comment", data={"humangate-response": token})
    replay = browser.post("/comment", data={"humangate-response": token})
    assert first.status_code == 200 and first.get_json()["host"] == "localhost"
    assert isinstance(first.get_json()["score"], float)
    assert replay.status_code == 403
    assert browser.post("/comment", data={}).status_code == 403
    assert browser.post("/comment", data={"humangate-response": "forged"}).status_code == 403


def test_required_checks_the_action(site: Site) -> None:
    browser = make_site(site.url, site.sitekey, site.secret).test_client()
    wrong = browser.post("/login", data={"humangate-response": site.token(action="signup")})
    right = browser.post("/login", data={"humangate-response": site.token(action="login")})
    assert wrong.status_code == 403 and right.status_code == 200


def test_verify_reads_a_json_body(site: Site) -> None:
    browser = make_site(site.url, site.sitekey, site.secret).test_client()
    reply = browser.post("/api/verdict", json={"humangate-response": site.token()})
    assert reply.get_json() == {"success": True, "unreachable": False}


def test_an_unreachable_service_refuses_unless_the_site_chose_open(site: Site) -> None:
    down = closed_port_url()
    closed = make_site(down, site.sitekey, site.secret, HUMANGATE_RETRIES=0).test_client()
    opened = make_site(
        down, site.sitekey, site.secret, HUMANGATE_RETRIES=0, HUMANGATE_ON_UNREACHABLE="open"
    ).test_client()
    posted = {"humangate-response": "a-token"}
    assert closed.post("/comment", data=posted).status_code == 403
    assert opened.post("/api/verdict", data=posted).get_json() == {
        "success": True,
        "unreachable": True,
    }
    assert opened.post("/comment", data={}).status_code == 403
