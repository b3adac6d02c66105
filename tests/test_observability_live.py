"""Metrics and logs of a real `humangate serve`: summed over its workers, and without secrets."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from humangate.challenges.pow import solve_pow
from tests.live import (
    LiveServer,
    _wait_until_live,
    create_unit_cli,
    free_port,
    humangate_env,
    running_server,
)
from tests.test_observability import parse_samples

ORIGIN = {"Origin": "http://localhost"}
LIVEZ = 'humangate_http_requests_total{method="GET",route="/livez",status="200"}'


@contextmanager
def serving_with_log(env: dict[str, str], log_path: Path) -> Iterator[LiveServer]:
    """`humangate serve` with its output in `log_path`; stopped afterwards unless it ended."""
    port = free_port()
    env = {**env, "HUMANGATE_HOST": "127.0.0.1", "HUMANGATE_PORT": str(port)}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "humangate", "serve"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _wait_until_live(f"http://127.0.0.1:{port}", process, 30)
            yield LiveServer(url=f"http://127.0.0.1:{port}", env=env, process=process)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def test_two_workers_metrics_sum_over_both(tmp_path: Path, redis_url: str) -> None:
    env = humangate_env(tmp_path, redis_url=redis_url, workers="2", demo="false")
    with running_server(env, timeout=60) as server:
        # Each request on its own connection, so that both workers take some.
        for _ in range(40):
            assert httpx.get(f"{server.url}/livez").status_code == 200
        deadline = time.monotonic() + 15
        while True:
            samples = [parse_samples(httpx.get(f"{server.url}/metrics").text) for _ in range(6)]
            workers = {
                name
                for sample in samples
                for name in sample
                if name.startswith("humangate_worker_up")
            }
            # The waits for liveness count too: at least the 40, and every worker answers the same.
            counts = {sample.get(LIVEZ, 0.0) for sample in samples}
            if len(workers) == 2 and len(counts) == 1 and min(counts) >= 40:
                break
            assert time.monotonic() < deadline, (workers, counts)
            time.sleep(0.5)


def test_no_secret_in_the_log_lines_of_a_real_server(tmp_path: Path) -> None:
    env = humangate_env(
        tmp_path, demo="false", log_level="debug", log_format="json", access_log="true"
    )
    keys = create_unit_cli(env, "--domain", "localhost", "--mode", "invisible")
    secret = keys["secret"]
    log_path = tmp_path / "server.log"
    with (
        serving_with_log(env, log_path) as server,
        httpx.Client(base_url=server.url, headers=ORIGIN) as client,
    ):
        challenge = client.post("/api/v1/challenges", json={"sitekey": keys["sitekey"]}).json()
        token = client.post(
            f"/api/v1/challenges/{challenge['id']}/answer",
            json={"pow": {"number": solve_pow(challenge["pow"])}},
        ).json()["token"]
        sent = [
            client.post("/siteverify", data={"secret": secret, "response": token}),
            client.post("/siteverify", data={"secret": secret, "response": token}),
            client.post(f"/siteverify?secret={secret}&response={token}"),
            client.post(
                "/siteverify",
                content=json.dumps({"secret": secret + "\ud800", "response": token}).encode(),
                headers={"Content-Type": "application/json"},
            ),
            client.post(
                "/siteverify",
                content=b'{"secret": "' + secret.encode() + b'", "x": ' + b"[" * 5000,
                headers={"Content-Type": "application/json"},
            ),
            client.post(
                "/siteverify",
                json={"secret": secret, "response": token},
                headers={"X-Request-ID": "trace-1"},
            ),
            client.get(f"/no-such-page/{secret}"),
        ]
        assert all(reply.status_code < 500 for reply in sent)
        os.killpg(server.process.pid, signal.SIGTERM)
        server.process.wait(timeout=30)
    text = log_path.read_text()
    assert secret not in text and token not in text
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "humangate.access"]
    assert len(access) >= len(sent) + 2
    assert all(
        line.keys() >= {"time", "level", "message", "request_id", "route"} for line in access
    )
    traced = [line for line in access if line["request_id"] == "trace-1"]
    assert traced and traced[0]["route"] == "/siteverify" and traced[0]["status"] == 200
