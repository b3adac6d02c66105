"""The hot routes skip the router but keep everything around it: the same answers, CORS, the body
limit and the request id."""

from __future__ import annotations

from fastapi.testclient import TestClient

from humangate.api.hot import HOT, HotRoutes, hot_endpoints
from tests.api.helpers import create_unit, pass_pow, siteverify


def test_every_hot_route_is_taken_off_the_router(client: TestClient) -> None:
    app = client.app
    assert set(hot_endpoints(app)) == HOT  # type: ignore[arg-type]
    assert app.user_middleware[-1].cls is HotRoutes  # type: ignore[attr-defined]  # innermost


def test_the_hot_paths_answer_as_the_routes_do_with_the_middleware_around(
    client: TestClient,
) -> None:
    live = client.get("/livez", headers={"X-Request-ID": "live-1"})
    assert live.status_code == 200 and live.json() == {"status": "ok"}
    assert live.headers["content-type"] == "application/json"
    assert live.headers["x-request-id"] == "live-1"
    sitekey, secret = create_unit(client)
    for path in ("/siteverify", "/recaptcha/api/siteverify", "/turnstile/v0/siteverify"):
        token = pass_pow(client, sitekey)
        first, again = (
            siteverify(client, secret, token, path),
            siteverify(client, secret, token, path),
        )
        assert first.json()["success"] is True
        assert first.headers["access-control-allow-origin"] == "*"  # CORS, the client's Origin
        assert again.json()["error-codes"] == ["timeout-or-duplicate"]
    bad = client.post(
        "/siteverify", content=b'{"secret": [', headers={"Content-Type": "application/json"}
    )
    assert bad.status_code == 200 and bad.json()["error-codes"] == ["bad-request"]
    huge = client.post("/siteverify", data={"secret": secret, "response": "x" * 2_000_000})
    assert huge.status_code == 413 and huge.json()["error"] == "payload-too-large"
    assert client.head("/livez").status_code == 405  # only the exact method is hot
