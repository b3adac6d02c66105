"""/livez, /readyz and its former name /healthz, as a monitor and the OpenAPI document see them.
Their 503s, with real servers stopped, are in tests/test_db_outage.py and test_redis_faults.py."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_livez_answers_without_dependencies(client: TestClient) -> None:
    reply = client.get("/livez")
    assert reply.status_code == 200
    assert reply.json() == {"status": "ok"}


def test_readyz_and_healthz_name_each_dependency(client: TestClient) -> None:
    for path in ("/readyz", "/healthz"):
        reply = client.get(path)
        assert reply.status_code == 200
        assert reply.json() == {"status": "ok", "checks": {"store": "ok", "database": "ok"}}


def test_openapi_gives_the_probes_exact_status_codes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert sorted(paths["/livez"]["get"]["responses"]) == ["200"]
    for path in ("/readyz", "/healthz"):
        responses = paths[path]["get"]["responses"]
        assert sorted(responses) == ["200", "503"]
        schema = responses["503"]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/Readiness"}
    for path in ("/siteverify", "/recaptcha/api/siteverify", "/turnstile/v0/siteverify"):
        assert sorted(paths[path]["post"]["responses"]) == ["200", "413", "503"]
