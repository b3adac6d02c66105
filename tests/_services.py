"""Real Redis and PostgreSQL servers for the tests, started on demand (pytest plugin).

Each server is started once per session, on 127.0.0.1, on a free port, in a temporary folder,
and stopped at the end. A missing binary fails the test with a message: `scripts/test` installs
them, so a skip would only hide a broken machine.

Fixtures:
    redis_url           redis://127.0.0.1:N/0 (session)
    postgres_server     the running PostgreSQL server, to create and drop databases (session)
    postgres_url        postgresql+asyncpg://postgres@127.0.0.1:N/humangate_test (session)
    fresh_postgres_url  a new, empty database for one test, dropped afterwards (function)
"""

from __future__ import annotations

import glob
import os
import pwd
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

_START_TIMEOUT = 30.0
_HOST = "127.0.0.1"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests by the servers they use, so `-m "not postgres"` and the like work."""
    for item in items:
        names = getattr(item, "fixturenames", ())
        if "redis_url" in names:
            item.add_marker(pytest.mark.redis)
        if {"postgres_server", "postgres_url", "fresh_postgres_url"} & set(names):
            item.add_marker(pytest.mark.postgres)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((_HOST, 0))
        return int(sock.getsockname()[1])


def _missing(what: str, package: str) -> None:
    pytest.fail(
        f"{what} is not installed. Run the tests with `scripts/test`, which installs the Debian "
        f"package {package}, or run `apt-get install {package}`.",
        pytrace=False,
    )


class _Watchdog:
    """Runs `cleanup` (shell) if this pytest process dies without tearing down (SIGTERM, kill).

    The watchdog blocks reading a pipe whose only writer is this process: the kernel closes it
    however the process ends. The normal teardown stops the server and cancels the watchdog.
    """

    def __init__(self, cleanup: str) -> None:
        self._process = subprocess.Popen(
            ["sh", "-c", f"cat >/dev/null; {cleanup}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def cancel(self) -> None:
        try:
            os.killpg(self._process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._process.wait()
        if self._process.stdin is not None:
            self._process.stdin.close()


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --- Redis --------------------------------------------------------------------------------------


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection((_HOST, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _start_redis(binary: str, workdir: Path, log_path: Path) -> tuple[subprocess.Popen, int]:
    """Start redis-server on a free port; retry on a new port if another process took it."""
    for _attempt in range(3):
        port = _free_port()
        # fmt: off
        command = [
            binary, "--port", str(port), "--bind", _HOST, "--save", "", "--appendonly", "no",
            "--dir", str(workdir), "--daemonize", "no", "--logfile", str(log_path),
        ]
        # fmt: on
        process = subprocess.Popen(
            command, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + _START_TIMEOUT
        while process.poll() is None:
            if _redis_answers(port):
                return process, port
            if time.monotonic() > deadline:
                process.kill()
                process.wait()
                pytest.fail(
                    f"redis-server did not answer PING on port {port} within "
                    f"{_START_TIMEOUT:.0f} s:\n{_tail(log_path)}",
                    pytrace=False,
                )
            time.sleep(0.05)
        if "Address already in use" not in _tail(log_path):
            break
    pytest.fail(
        f"redis-server exited with code {process.returncode} before answering on port "
        f"{port}:\n{_tail(log_path)}",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """Start a throwaway redis-server without persistence; yield its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        _missing("redis-server", "redis-server")
    workdir = Path(tempfile.mkdtemp(prefix="hg-redis-"))
    try:
        process, port = _start_redis(binary, workdir, workdir / "redis.log")
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    watchdog = _Watchdog(f"kill -9 {process.pid}; rm -rf {shlex.quote(str(workdir))}")
    try:
        yield f"redis://{_HOST}:{port}/0"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(workdir, ignore_errors=True)
        watchdog.cancel()


# --- PostgreSQL ---------------------------------------------------------------------------------


def _postgres_bindir() -> Path | None:
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config is not None:
        try:
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=10
            ).stdout.strip()
            candidates.append(Path(out))
        except (OSError, subprocess.SubprocessError):
            pass

    def version(path: str) -> float:
        try:
            return float(Path(path).parent.name)
        except ValueError:
            return 0.0

    installed = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    candidates += [Path(p) for p in installed]
    for bindir in candidates:
        if (bindir / "initdb").is_file() and (bindir / "pg_ctl").is_file():
            return bindir
    return None


@dataclass
class PostgresServer:
    """A running throwaway PostgreSQL cluster with trust authentication for `postgres`."""

    bindir: Path
    port: int
    workdir: Path
    as_postgres: list[str]

    def url(self, database: str, driver: str = "asyncpg") -> str:
        return f"postgresql+{driver}://postgres@{_HOST}:{self.port}/{database}"

    def sql(self, statement: str, database: str = "postgres") -> str:
        """Run one statement with psql (outside any transaction) and return its output."""
        # fmt: off
        command = [
            str(self.bindir / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
            "-h", _HOST, "-p", str(self.port), "-U", "postgres", "-d", database, "-c", statement,
        ]
        # fmt: on
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise RuntimeError(f"psql failed on {statement!r}: {result.stderr.strip()}")
        return result.stdout

    def create_database(self, name: str) -> str:
        """Create an empty database and return its SQLAlchemy URL."""
        self.sql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _run(command: list[str], what: str, log: Path | None = None, cwd: Path | None = None) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=cwd)
    if result.returncode != 0:
        detail = (result.stdout + result.stderr).strip()
        if log is not None:
            detail += "\n" + _tail(log)
        pytest.fail(f"{what} failed (exit {result.returncode}):\n{detail}", pytrace=False)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """initdb + pg_ctl start a throwaway cluster (as the `postgres` user when run as root)."""
    bindir = _postgres_bindir()
    if bindir is None:
        _missing("The PostgreSQL server (initdb, pg_ctl)", "postgresql")
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        # initdb refuses to run as root: the cluster belongs to the `postgres` user.
        runuser = shutil.which("runuser")
        if runuser is None:
            _missing("runuser", "util-linux")
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            _missing("The `postgres` system user", "postgresql")
        as_postgres = [runuser, "-u", "postgres", "--"]
    workdir = Path(tempfile.mkdtemp(prefix="hg-postgres-"))
    if as_postgres:
        shutil.chown(workdir, user="postgres", group="postgres")
    datadir = workdir / "data"
    pg_ctl = [*as_postgres, str(bindir / "pg_ctl"), "-D", str(datadir)]
    watchdog = _Watchdog(
        f"{shlex.join([*pg_ctl, '-m', 'immediate', 'stop'])}; rm -rf {shlex.quote(str(workdir))}"
    )
    try:
        # fmt: off
        _run(
            [*as_postgres, str(bindir / "initdb"), "-D", str(datadir), "-A", "trust",
             "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"],
            "initdb", cwd=workdir,
        )
        # fmt: on
        for attempt in range(3):
            port = _free_port()
            log_path = workdir / f"postgres-{port}.log"
            options = (
                f"-p {port} -k {workdir} -c listen_addresses={_HOST} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
            )
            command = [*pg_ctl, "-l", str(log_path), "-w", "-t", str(int(_START_TIMEOUT))]
            command += ["-o", options, "start"]
            started = subprocess.run(command, capture_output=True, text=True, cwd=workdir)
            if started.returncode == 0:
                break
            if not (attempt < 2 and "Address already in use" in _tail(log_path)):
                detail = (started.stdout + started.stderr).strip()
                pytest.fail(
                    f"pg_ctl start failed (exit {started.returncode}):\n{detail}\n"
                    f"{_tail(log_path)}",
                    pytrace=False,
                )
        server = PostgresServer(bindir=bindir, port=port, workdir=workdir, as_postgres=as_postgres)
        server.create_database("humangate_test")
        yield server
    finally:
        if (datadir / "postmaster.pid").exists():
            subprocess.run(
                [*pg_ctl, "-m", "fast", "-w", "stop"], capture_output=True, timeout=60, cwd=workdir
            )
        shutil.rmtree(workdir, ignore_errors=True)
        watchdog.cancel()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """The session's shared `humangate_test` database; prefer `fresh_postgres_url` in tests."""
    return postgres_server.url("humangate_test")


@pytest.fixture
def fresh_postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A new, empty database for this test alone; dropped (with its connections) afterwards."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    url = postgres_server.create_database(name)
    try:
        yield url
    finally:
        postgres_server.drop_database(name)
