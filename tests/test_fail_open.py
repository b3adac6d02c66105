"""Siteverify's fail-open, for the units an operator names in HUMANGATE_SITEVERIFY_FAIL_OPEN,
over a live node whose real Redis is frozen (SIGSTOP): a genuine unexpired token of such a unit
passes with score 0 and the reason `fail-open`; a forged one does not; every other unit, and a
request that asks for an action, still gets 503 storage-unavailable.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import pytest

from humangate.challenges.pow import solve_pow
from tests.live import create_unit_cli, humangate_env, running_server
from tests.store.servers import RedisFactory, redis_process

__all__ = ["redis_process"]  # the fixture, imported to be found

ORIGIN = {"Origin": "http://localhost"}
UNIT = ("--domain", "localhost", "--mode", "invisible", "--pow-difficulty", "2000")
FAST_FAIL = {
    "redis_socket_timeout": "0.3",
    "redis_connect_timeout": "0.3",
    "redis_pool_timeout": "0.3",
}

pytestmark = pytest.mark.redis


def _token(client: httpx.Client, sitekey: str) -> str:
    issued = client.post("/api/v1/challenges", json={"sitekey": sitekey}).json()
    number = solve_pow(issued["pow"])
    answered = client.post(
        f"/api/v1/challenges/{issued['id']}/answer", json={"pow": {"number": number}}
    ).json()
    return str(answered["token"])


def _verify(client: httpx.Client, secret: str, token: str, **extra: str) -> httpx.Response:
    return client.post("/siteverify", data={"secret": secret, "response": token, **extra})


def test_only_the_named_unit_fails_open_and_only_for_genuine_tokens(
    tmp_path: Path, redis_process: RedisFactory
) -> None:
    server = redis_process("--save", "", "--appendonly", "no")
    server.start()
    env = humangate_env(tmp_path / "node", redis_url=server.url, demo="false", **FAST_FAIL)
    opened = create_unit_cli(env, *UNIT)
    closed = create_unit_cli(env, *UNIT)
    env = {**env, "HUMANGATE_SITEVERIFY_FAIL_OPEN": opened["sitekey"]}
    with (
        running_server(env) as node,
        httpx.Client(base_url=node.url, headers=ORIGIN, timeout=30) as c,
    ):
        held, spare = _token(c, opened["sitekey"]), _token(c, opened["sitekey"])
        other = _token(c, closed["sitekey"])

        server.signal(signal.SIGSTOP)
        try:
            for _ in range(2):  # used or not: the store that knows cannot say
                passed = _verify(c, opened["secret"], held)
                assert passed.status_code == 200
                body = passed.json()
                assert body["success"] is True
                assert body["score"] == 0.0 and body["score_reasons"] == ["fail-open"]
            foreign = _verify(c, opened["secret"], other).json()
            assert foreign == {"success": False, "error-codes": ["invalid-input-response"]}
            with_action = _verify(c, opened["secret"], spare, expected_action="login")
            assert with_action.status_code == 503
            refused = _verify(c, closed["secret"], other)
            assert refused.status_code == 503
            assert refused.json()["error"] == "storage-unavailable"
        finally:
            server.signal(signal.SIGCONT)

        deadline = time.monotonic() + 20
        while c.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "the node did not find Redis again"
            time.sleep(0.1)
        # Fresh tokens: a command read by Redis when it woke may have spent the others.
        back = _verify(c, opened["secret"], _token(c, opened["sitekey"])).json()
        assert back["success"] is True and back["score_reasons"] != ["fail-open"]
        assert _verify(c, closed["secret"], _token(c, closed["sitekey"])).json()["success"]
