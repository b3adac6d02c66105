"""/metrics, the request id and the log lines, in one process (the server's own: see
test_observability_live.py)."""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from humangate.app import create_app
from humangate.challenges.pow import solve_pow
from humangate.config import Settings
from humangate.errors import StorageError
from humangate.observability.logs import JsonFormatter, TextFormatter, log_config
from humangate.observability.metrics import (
    REGISTRY,
    STORE_ERRORS,
    Registry,
    merge,
    render,
)
from humangate.observability.probes import instrument_store
from humangate.observability.requests import REQUEST_ID
from humangate.observability.shared import GAUGE_FRESH_SECONDS, SharedSnapshots
from humangate.store.redis import RedisOptions, RedisStore
from humangate.testkeys import PASS_SECRET
from tests.api.helpers import create_unit

ORIGIN = {"Origin": "http://localhost:8000"}
LOOPBACK = ("127.0.0.1", 50000)


@pytest.fixture
def local_client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), headers=ORIGIN, client=LOOPBACK) as client:
        yield client


def scrape(client: TestClient) -> dict[str, float]:
    """Every sample of /metrics by its name and labels, as written."""
    reply = client.get("/metrics")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse_samples(reply.text)


def parse_samples(text: str) -> dict[str, float]:
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    return samples


def test_a_sane_request_id_is_echoed_and_any_other_replaced(local_client: TestClient) -> None:
    assert local_client.get("/livez", headers={"X-Request-ID": "lb-7f:3.a_b"}).headers[
        "x-request-id"
    ] == ("lb-7f:3.a_b")
    for insane in ("has space", "x" * 65, "semi;colon", "ünï".encode()):
        echoed = local_client.get("/livez", headers={"X-Request-ID": insane}).headers[
            "x-request-id"
        ]
        assert re.fullmatch(r"[0-9a-f]{16}", echoed), echoed
    made = {local_client.get("/livez").headers["x-request-id"] for _ in range(3)}
    assert len(made) == 3
    refused = local_client.post("/api/v1/challenges", content=b"{", headers={"X-Request-ID": "r-1"})
    assert refused.status_code == 400 and refused.headers["x-request-id"] == "r-1"


def test_a_500_carries_the_request_id_and_is_counted(settings: Settings) -> None:
    app = create_app(settings)

    async def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/broken", broken)
    with TestClient(app, client=LOOPBACK, raise_server_exceptions=False) as client:
        before = scrape(client)
        reply = client.get("/broken", headers={"X-Request-ID": "bug-1"})
        assert reply.status_code == 500 and reply.json()["error"] == "internal-error"
        assert reply.headers["x-request-id"] == "bug-1"
        series = 'humangate_http_requests_total{method="GET",route="/broken",status="500"}'
        assert scrape(client)[series] == before.get(series, 0.0) + 1


def test_metrics_count_requests_by_route_template_challenges_and_siteverify(
    local_client: TestClient,
) -> None:
    sitekey, secret = create_unit(local_client, mode="invisible", difficulty=300)
    before = scrape(local_client)
    challenge = local_client.post("/api/v1/challenges", json={"sitekey": sitekey}).json()
    answer = f"/api/v1/challenges/{challenge['id']}/answer"
    token = local_client.post(answer, json={"pow": {"number": solve_pow(challenge["pow"])}})
    verify = {"secret": secret, "response": token.json()["token"]}
    assert local_client.post("/siteverify", data=verify).json()["success"] is True
    assert local_client.post("/siteverify", data=verify).json()["success"] is False
    local_client.post("/siteverify", data={"secret": "no-such-secret", "response": "x"})
    local_client.get("/no/such/page/with-a-secret-in-its-path")
    after = scrape(local_client)

    def grew(sample: str) -> float:
        return after.get(sample, 0.0) - before.get(sample, 0.0)

    templated = '{method="POST",route="/api/v1/challenges/{challenge_id}/answer",status="200"}'
    assert grew("humangate_http_requests_total" + templated) == 1
    assert grew("humangate_http_request_duration_seconds_count" + templated) == 1
    siteverify = 'humangate_http_requests_total{method="POST",route="/siteverify",status="%s"}'
    assert grew(siteverify % 200) == 3  # a wrong secret is a verdict, as the vendors answer it
    assert grew('humangate_http_requests_total{method="GET",route="unmatched",status="404"}') == 1
    assert not any("with-a-secret" in name for name in after)
    assert grew('humangate_challenges_total{kind="pow",outcome="issued"}') == 1
    assert grew('humangate_challenges_total{kind="pow",outcome="passed"}') == 1
    assert grew('humangate_siteverify_total{result="success"}') == 1
    assert grew('humangate_siteverify_total{result="timeout-or-duplicate"}') == 1
    assert grew('humangate_siteverify_total{result="invalid-input-secret"}') == 1
    assert after[f'humangate_db_pool_connections{{state="size",worker="{os.getpid()}"}}'] >= 1
    assert after["humangate_event_loop_lag_seconds_count"] >= 0
    assert after[f'humangate_worker_up{{worker="{os.getpid()}"}}'] == 1


def test_metrics_answer_only_the_allowed_networks(make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings())
    with TestClient(app, client=("203.0.113.9", 4000)) as outsider:
        refused = outsider.get("/metrics")
        assert refused.status_code == 404 and refused.json()["error"] == "not-found"
    opened = create_app(make_settings(metrics_networks="203.0.113.0/24"))
    with TestClient(opened, client=("203.0.113.9", 4000)) as inside:
        assert inside.get("/metrics").status_code == 200
    with TestClient(opened, client=LOOPBACK) as loopback:
        assert loopback.get("/metrics").status_code == 404
    with TestClient(create_app(make_settings(metrics=False)), client=LOOPBACK) as off:
        assert off.get("/metrics").status_code == 404


def test_workers_counts_are_summed_and_gauges_kept_per_worker(tmp_path: Path) -> None:
    registry = Registry()
    requests = registry.counter("t_requests_total", "Requests.", ("route",))
    seconds = registry.histogram("t_seconds", "Durations.", (), buckets=(0.1, 1.0))
    requests.inc(("/a",))
    seconds.observe(0.05, ())
    seconds.observe(0.5, ())
    own = registry.snapshot()
    other = {"t_requests_total": [[["/a"], 2.0], [["/b"], 1.0]], "t_seconds": [[[], [0, 0, 1, 3]]]}
    merged = merge(own, {4242: other}, own_worker=1)
    text = render(registry, merged)
    samples = parse_samples(text)
    assert samples['t_requests_total{route="/a"}'] == 3
    assert samples['t_requests_total{route="/b"}'] == 1
    assert samples['t_seconds_bucket{le="0.1"}'] == 1
    assert samples['t_seconds_bucket{le="1.0"}'] == 2
    assert samples['t_seconds_bucket{le="+Inf"}'] == 3
    assert samples["t_seconds_count"] == 3
    assert samples["t_seconds_sum"] == pytest.approx(3.55)

    gauges = merge(
        {"humangate_worker_up": [[[], 1]]}, {7: {"humangate_worker_up": [[[], 1]]}}, own_worker=6
    )
    lines = render(REGISTRY, gauges)
    assert 'humangate_worker_up{worker="6"} 1' in lines
    assert 'humangate_worker_up{worker="7"} 1' in lines


def test_a_stale_workers_counts_stay_and_its_gauges_go(tmp_path: Path) -> None:
    now = time.time()
    for pid in (11, 12):
        SharedSnapshots(tmp_path, pid=pid).write(
            {"humangate_siteverify_total": [[["success"], 5.0]], "humangate_worker_up": [[[], 1]]}
        )
    stale = tmp_path / "12.metrics.json"
    os.utime(stale, (now - GAUGE_FRESH_SECONDS - 5, now - GAUGE_FRESH_SECONDS - 5))
    others = SharedSnapshots(tmp_path, pid=10).others(now=now)
    assert set(others) == {11, 12}
    assert "humangate_worker_up" in others[11]
    assert "humangate_worker_up" not in others[12]
    merged = merge({}, others, own_worker=10)
    assert (
        parse_samples(render(REGISTRY, merged))['humangate_siteverify_total{result="success"}']
        == 10
    )


def test_store_failures_are_counted_by_operation(free_tcp_port: int) -> None:
    import asyncio

    store = instrument_store(
        RedisStore(
            f"redis://127.0.0.1:{free_tcp_port}/0",
            options=RedisOptions(connect_timeout=0.2, socket_timeout=0.2),
        )
    )
    before = STORE_ERRORS.values.get(("get",), 0.0)

    async def fail() -> None:
        try:
            with pytest.raises(StorageError):
                await store.get("ns", "key")
        finally:
            await store.close()

    asyncio.run(fail())
    assert STORE_ERRORS.values[("get",)] == before + 1


def _record(message: str, *args: Any, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord("humangate.test", logging.ERROR, __file__, 1, message, args, exc_info)


def test_json_lines_carry_the_request_id_and_the_cause_but_no_secret(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(smtp_url="smtp://mailer:hunter2hunter2@mail.example:587")
    formatter = JsonFormatter(tuple(log_config(settings)["formatters"]["line"]["secrets"]))
    token = "A" * 20 + "b-_" + "9" * 25
    try:
        try:
            raise ValueError(f"bad secret {PASS_SECRET} and {token}")
        except ValueError as inner:
            raise StorageError("The Redis store failed to read.") from inner
    except StorageError as exc:
        caught = exc
    REQUEST_ID.set("req-42")
    line = formatter.format(
        _record(
            "failed for %s at %s", settings.secret_key, "smtp://mailer:hunter2hunter2@m", exc=caught
        )
    )
    entry = json.loads(line)
    assert entry["level"] == "error" and entry["logger"] == "humangate.test"
    assert entry["request_id"] == "req-42"
    assert entry["cause"] == "StorageError <- ValueError"
    assert entry["time"].endswith("+00:00")
    for secret in (settings.secret_key, "hunter2hunter2", PASS_SECRET, token):
        assert secret not in line
    text = TextFormatter(("hunter2hunter2",)).format(
        _record("sent %s", "pw hunter2hunter2", exc=caught)
    )
    assert "hunter2hunter2" not in text and PASS_SECRET not in text and "[req-42]" in text


@pytest.fixture
def free_tcp_port() -> int:
    from tests.live import free_port

    return free_port()


def test_log_format_follows_the_environment(make_settings: Callable[..., Settings]) -> None:
    assert make_settings().resolved_log_format == "text"
    assert make_settings(environment="production").resolved_log_format == "json"
    assert make_settings(environment="production", log_format="text").resolved_log_format == "text"
