"""A real Redis killed, restored or frozen under a live `humangate serve`.

Each test starts its own redis-server on a free port in a temporary folder and stops it; the
server is killed with SIGKILL (a crash), restarted from what it persisted, or stopped with
SIGSTOP (a frozen process), and the service must never spend a token twice, never answer a
consumed challenge twice, and answer a clear 503 while Redis cannot.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from humangate.challenges.pow import solve_pow
from tests._services import _redis_answers, _Watchdog
from tests.live import LiveServer, create_unit_cli, free_port, humangate_env, running_server

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


class RedisProcess:
    """One redis-server on a fixed port and folder, which can crash and come back."""

    def __init__(self, workdir: Path, *config: str) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed: run the tests with scripts/test")
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.config = config
        self.process: subprocess.Popen[bytes] | None = None
        self._watchdogs: list[_Watchdog] = []

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        # fmt: off
        command = [
            self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
            "--dir", str(self.workdir), "--daemonize", "no",
            "--logfile", str(self.workdir / "redis.log"), *self.config,
        ]
        # fmt: on
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        # If pytest itself is killed, the server goes too (SIGKILL ends a frozen one as well).
        self._watchdogs.append(_Watchdog(f"kill -9 {self.process.pid}"))
        deadline = time.monotonic() + 30
        while not _redis_answers(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = (self.workdir / "redis.log").read_text(errors="replace")[-2000:]
                pytest.fail(f"redis-server did not start:\n{log}")
            time.sleep(0.05)

    def command(self, *args: str) -> Any:
        with redis.Redis(port=self.port, socket_timeout=10) as client:
            return client.execute_command(*args)

    def signal(self, number: signal.Signals) -> None:
        assert self.process is not None
        os.kill(self.process.pid, number)

    def crash(self) -> None:
        """SIGKILL: nothing is written on the way out."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for watchdog in self._watchdogs:
            watchdog.cancel()


@pytest.fixture
def redis_process(tmp_path: Path) -> Iterator[Any]:
    """A factory of RedisProcess, each killed (even if frozen) when the test ends."""
    made: list[RedisProcess] = []

    def make(*config: str) -> RedisProcess:
        workdir = tmp_path / f"redis-{len(made)}"
        workdir.mkdir()
        server = RedisProcess(workdir, *config)
        made.append(server)
        return server

    try:
        yield make
    finally:
        for server in made:
            server.stop()


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
    tmp_path: Path, redis_process: Any, persistence: str
) -> None:
    """Tokens and challenges live at the snapshot, spent after it, then a crash and a restore."""
    if persistence == "rdb":
        server = redis_process("--save", "1 1", "--appendonly", "no")
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
    tmp_path: Path, redis_process: Any
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
