"""A real Redis killed, restored or frozen under a live `humangate serve`.

Each test starts its own redis-server on a free port in a temporary folder and stops it; the
server is killed with SIGKILL (a crash), restarted from what it persisted, or stopped with
SIGSTOP (a frozen process), and the service must never spend a token twice, never answer a
consumed challenge twice, and answer a clear 503 while Redis cannot.
"""

from __future__ import annotations

import shutil
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from humangate.challenges.pow import solve_pow
from tests.live import LiveServer, create_unit_cli, humangate_env, running_server
from tests.store.servers import RedisFactory, RedisProcess, redis_process

__all__ = ["redis_process"]  # the fixture, imported to be found

ORIGIN = {"Origin": "http://localhost"}
LOOPS = 20
# A small proof of work: the tests are about the store, not about the work.
UNIT = ("--domain", "localhost", "--mode", "invisible", "--pow-difficulty", "2000")
# Short limits keep a frozen Redis's 503s quick in the test; production has its own defaults.
FAST_FAIL = {
    "redis_socket_timeout": "0.3",
    "redis_connect_timeout": "0.3",
    "redis_pool_timeout": "0.3",
}

pytestmark = pytest.mark.redis


def _issue(client: httpx.Client, sitekey: str) -> tuple[str, int]:
    response = client.post("/api/v1/challenges", json={"sitekey": sitekey})
    assert response.status_code == 200, response.text
    challenge = response.json()
    return challenge["id"], solve_pow(challenge["pow"])


def _answer(client: httpx.Client, challenge: tuple[str, int]) -> httpx.Response:
    challenge_id, number = challenge
    return client.post(
        f"/api/v1/challenges/{challenge_id}/answer", json={"pow": {"number": number}}
    )


def _verify(client: httpx.Client, secret: str, token: str) -> bool:
    response = client.post("/siteverify", data={"secret": secret, "response": token})
    assert response.status_code == 200, response.text
    return bool(response.json()["success"])


def _wait_ready(client: httpx.Client) -> None:
    deadline = time.monotonic() + 20
    while client.get("/healthz").status_code != 200:
        assert time.monotonic() < deadline, "the node did not find Redis again"
        time.sleep(0.1)


def _serve(tmp_path: Path, server: RedisProcess, **extra: str) -> Any:
    env = humangate_env(tmp_path / "node", redis_url=server.url, demo="false", **extra)
    return running_server(env)


@pytest.mark.parametrize("persistence", ["rdb", "aof"])
def test_a_crash_restored_from_disk_spends_nothing_twice(
    tmp_path: Path, redis_process: RedisFactory, persistence: str
) -> None:
    """Tokens and challenges live at the snapshot, spent after it, then a crash and a restore."""
    if persistence == "rdb":
        # No save points: the snapshot is the explicit SAVE below, which a background save
        # started by a save point would refuse ("Background save already in progress").
        server = redis_process("--save", "", "--appendonly", "no")
    else:
        server = redis_process("--save", "", "--appendonly", "yes", "--appendfsync", "always")
    server.start()
    node: LiveServer
    with _serve(tmp_path, server) as node, httpx.Client(base_url=node.url, headers=ORIGIN) as c:
        keys = create_unit_cli(node.env, *UNIT)
        sitekey, secret = keys["sitekey"], keys["secret"]
        minted = [_issue(c, sitekey) for _ in range(LOOPS)]
        pending = [_issue(c, sitekey) for _ in range(LOOPS)]
        tokens = [_answer(c, challenge).json()["token"] for challenge in minted]

        if persistence == "rdb":
            assert server.command("SAVE") in (b"OK", "OK", True)
        else:
            # An AOF replays deletions too; what brings spent state back is a restore from a
            # copy taken while it was live (a backup, or a volume snapshot).
            backup = tmp_path / "aof-backup"
            shutil.copytree(server.workdir / "appendonlydir", backup)

        assert sum(_verify(c, secret, token) for token in tokens) == LOOPS
        assert all(_answer(c, challenge).json()["success"] for challenge in pending)

        server.crash()
        if persistence == "aof":
            shutil.rmtree(server.workdir / "appendonlydir")
            shutil.copytree(backup, server.workdir / "appendonlydir")
        server.start()
        restored = server.command("DBSIZE")
        assert restored > 0, "the restart restored nothing: the test would prove nothing"
        _wait_ready(c)

        assert sum(_verify(c, secret, token) for token in tokens) == 0
        second_answers = [_answer(c, challenge) for challenge in pending]
        assert [r.status_code for r in second_answers] == [410] * LOOPS
        assert not any(r.json()["success"] for r in second_answers)

        # The service goes on: a new loop after the restore passes once.
        fresh = _answer(c, _issue(c, sitekey)).json()["token"]
        assert _verify(c, secret, fresh) is True
        assert _verify(c, secret, fresh) is False


def test_a_frozen_or_dead_redis_gives_503_storage_unavailable_then_recovers(
    tmp_path: Path, redis_process: RedisFactory
) -> None:
    server = redis_process("--save", "", "--appendonly", "no")
    server.start()
    with (
        _serve(tmp_path, server, **FAST_FAIL) as node,
        httpx.Client(base_url=node.url, headers=ORIGIN, timeout=30) as c,
    ):
        keys = create_unit_cli(node.env, *UNIT)
        sitekey, secret = keys["sitekey"], keys["secret"]
        held = _answer(c, _issue(c, sitekey)).json()["token"]

        server.signal(signal.SIGSTOP)
        try:
            for _ in range(3):
                frozen = c.post("/api/v1/challenges", json={"sitekey": sitekey})
                assert frozen.status_code == 503
                assert frozen.json()["error"] == "storage-unavailable"
                assert int(frozen.headers["Retry-After"]) > 0
            assert c.get("/healthz").status_code == 503
            during = c.post("/siteverify", data={"secret": secret, "response": held})
            assert during.status_code == 503
        finally:
            server.signal(signal.SIGCONT)

        _wait_ready(c)
        fresh = _answer(c, _issue(c, sitekey)).json()["token"]
        assert _verify(c, secret, fresh) is True
        assert _verify(c, secret, fresh) is False
        # The token presented while Redis was frozen is spent at most once, whatever Redis
        # did with the command it read after it woke.
        assert sum(_verify(c, secret, held) for _ in range(3)) <= 1

        # Dead rather than frozen: refused connections, the same 503, and back after a restart.
        server.crash()
        down = c.post("/api/v1/challenges", json={"sitekey": sitekey})
        assert down.status_code == 503
        assert down.json()["error"] == "storage-unavailable"
        assert int(down.headers["Retry-After"]) > 0
        server.start()
        _wait_ready(c)
        token = _answer(c, _issue(c, sitekey)).json()["token"]
        assert _verify(c, secret, token) is True
