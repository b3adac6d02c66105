"""Real `humangate` processes for end-to-end tests: the server and the CLI, as a user runs them."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests._services import _Watchdog

SECRET_KEY = "live-test-" + "s" * 40


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def humangate_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """An environment for `humangate` with its data in `data_dir` and HUMANGATE_* overrides."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUMANGATE_")}
    env.update(
        HUMANGATE_DATA_DIR=str(data_dir),
        HUMANGATE_SECRET_KEY=SECRET_KEY,
        HUMANGATE_LOG_LEVEL="warning",
    )
    env.update({f"HUMANGATE_{name.upper()}": value for name, value in settings.items()})
    return env


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "humangate", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def run_cli_here(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`run_cli` in this process: the same `main()`, environment and output, without starting
    Python again (half a second each), for tests that run a command many times. An exception
    main() lets out fails the test, as a traceback would."""
    from humangate.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse's refusals
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return subprocess.CompletedProcess(["humangate", *args], code, out.getvalue(), err.getvalue())


def create_unit_cli(env: dict[str, str], *args: str) -> dict[str, Any]:
    done = run_cli(env, "unit", "create", "--name", "live", "--json", *args)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


@dataclass(frozen=True)
class LiveServer:
    url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]


@contextmanager
def running_server(env: dict[str, str], *, timeout: float = 30.0) -> Iterator[LiveServer]:
    """Start `humangate serve` on a free port and stop it (and its workers) afterwards."""
    port = free_port()
    env = {**env, "HUMANGATE_HOST": "127.0.0.1", "HUMANGATE_PORT": str(port)}
    process = subprocess.Popen(
        [sys.executable, "-m", "humangate", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    # Should pytest itself be killed (a timeout), the node and its workers go with it.
    watchdog = _Watchdog(f"kill -TERM -{process.pid}; sleep 10; kill -KILL -{process.pid}")
    try:
        _wait_until_live(url, process, timeout)
        yield LiveServer(url=url, env=env, process=process)
    finally:
        watchdog.cancel()
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if process.stderr is not None:
            process.stderr.close()


def _wait_until_live(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
            raise RuntimeError(f"humangate serve exited with {process.returncode}:\n{stderr}")
        try:
            if httpx.get(f"{url}/livez", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"humangate serve did not answer on {url} within {timeout} s")
