"""Throwaway redis-server processes that a test can crash, restore, freeze and fail over.

Each runs on a free port in its own folder; a watchdog kills it if pytest dies before teardown.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from tests._services import _redis_answers, _Watchdog
from tests.live import free_port


class RedisProcess:
    """One redis-server on a fixed port and folder, which can crash and come back."""

    def __init__(self, workdir: Path, *config: str, sentinel: str = "") -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed: run the tests with scripts/test")
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.config = config
        self.sentinel = sentinel
        self.process: subprocess.Popen[bytes] | None = None
        self._watchdogs: list[_Watchdog] = []

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start (or start again, on the same port and folder); return once it answers PING."""
        mode: list[str] = []
        if self.sentinel:
            # A Sentinel rewrites its configuration file, so it gets one of its own.
            conf = self.workdir / "sentinel.conf"
            if not conf.exists():
                conf.write_text(self.sentinel)
            mode = [str(conf), "--sentinel"]
        # fmt: off
        command = [
            self.binary, *mode, "--port", str(self.port), "--bind", "127.0.0.1",
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


RedisFactory = Callable[..., RedisProcess]


@pytest.fixture
def redis_process(tmp_path: Path) -> Iterator[RedisFactory]:
    """A factory of RedisProcess, each killed (even if frozen) when the test ends."""
    made: list[RedisProcess] = []

    def make(*config: str, sentinel: str = "") -> RedisProcess:
        workdir = tmp_path / f"redis-{len(made)}"
        workdir.mkdir()
        server = RedisProcess(workdir, *config, sentinel=sentinel)
        made.append(server)
        return server

    try:
        yield make
    finally:
        for server in made:
            server.stop()
