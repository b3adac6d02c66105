"""The OpenAPI document is exact: schemathesis, every check, over a live server's /openapi.json
(undocumented statuses, response schemas, request schemas as strict as the server, Allow on a
405, the stateful links), a bounded number of examples per operation."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import jsonschema_rs  # schemathesis's own validator
import pytest
from fastapi.testclient import TestClient

from tests.api.helpers import create_unit, pass_pow, siteverify
from tests.live import LiveServer, humangate_env, running_server

CONFIG = Path(__file__).parent / "openapi_schemathesis.toml"
SITEVERIFY_PATHS = ("/siteverify", "/recaptcha/api/siteverify", "/turnstile/v0/siteverify")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = humangate_env(tmp_path_factory.mktemp("openapi"), demo="false")
    with running_server(env) as live:
        yield live


def test_schemathesis_finds_no_failure(server: LiveServer, tmp_path: Path) -> None:
    command = [
        *(sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "run"),
        f"{server.url}/openapi.json",
        *("--checks", "all", "--max-examples", "10", "--seed", "20261207"),
        *("--header", "Origin: http://localhost", "--no-color"),
    ]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "failure" not in done.stdout.split("SUMMARY")[-1]


def test_errors_are_documented_with_the_error_body_and_no_422(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "422" not in responses, (method, path)
            for status, response in responses.items():
                if status.startswith(("4", "5")) and path not in ("/readyz", "/healthz"):
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (path, status)
                if status in ("429", "503") and path not in ("/readyz", "/healthz"):
                    assert "Retry-After" in response["headers"], (path, status)
    for path in SITEVERIFY_PATHS:
        assert sorted(document["paths"][path]["post"]["responses"]) == ["200", "413", "503"]


def test_a_405_names_every_method_of_the_path(client: TestClient) -> None:
    reply = client.request("OPTIONS", "/privacy/device")
    assert reply.status_code == 405 and reply.headers["allow"] == "GET, POST"
    assert reply.json()["error"] == "method-not-allowed"
    assert client.put("/siteverify").headers["allow"] == "POST"


def test_a_429_says_when_to_retry(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url) as http:
        replies = [
            http.post("/privacy/device", json={"env": {}}, headers={"Origin": "http://x"})
            for _ in range(40)
        ]
    limited = [reply for reply in replies if reply.status_code == 429]
    assert limited, [reply.status_code for reply in replies][-5:]
    assert int(limited[0].headers["retry-after"]) > 0
    assert limited[0].json()["error"] == "rate-limited"


def test_real_answers_match_their_documented_schemas(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]

    def check(path: str, reply: httpx.Response) -> None:
        assert reply.status_code == 200, reply.text
        schema = paths[path]["post"]["responses"]["200"]["content"]["application/json"]
        jsonschema_rs.validate(schema["schema"], reply.json())

    sitekey, _ = create_unit(client, mode="interactive")
    visual = client.post("/api/v1/challenges", json={"sitekey": sitekey})
    check("/api/v1/challenges", visual)
    answer = "/api/v1/challenges/{challenge_id}/answer"
    failed = client.post(
        answer.format(challenge_id=visual.json()["id"]),
        json={"answer": {"x": -1}, "trajectory": []},
    )
    check(answer, failed)
    following = failed.json()["next"]["id"]
    check(
        "/api/v1/challenges/{challenge_id}/audio",
        client.post(f"/api/v1/challenges/{following}/audio", json={}),
    )
    invisible, invisible_secret = create_unit(client)
    pow_challenge = client.post("/api/v1/challenges", json={"sitekey": invisible})
    check("/api/v1/challenges", pow_challenge)
    for path in SITEVERIFY_PATHS:
        token = pass_pow(client, invisible)
        check(path, siteverify(client, invisible_secret, token, path=path))
        check(path, siteverify(client, invisible_secret, token, path=path))  # the replay
        check(path, client.post(path, content=b"{", headers={"Content-Type": "application/json"}))
    device = {"env": {}, "sitekey": invisible}
    for path in ("/privacy/device", "/privacy/device/erase", "/privacy/device/opt-out"):
        check(path, client.post(path, json=device))
    check("/privacy/device/opt-in", client.post("/privacy/device/opt-in", json=device))
    calibration = client.post("/api/v1/calibration", json={"secret": invisible_secret})
    check("/api/v1/calibration", calibration)
    scored, scored_secret = create_unit(client, mode="score")
    check(
        "/recaptcha/api/siteverify",
        siteverify(
            client, scored_secret, pass_pow(client, scored), path="/recaptcha/api/siteverify"
        ),
    )
