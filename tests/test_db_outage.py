"""A real PostgreSQL stopped or frozen under a live `humangate serve`.

Each test starts its own PostgreSQL cluster (the session's shared one cannot be stopped), then
stops it (a crash: `pg_ctl -m immediate`) or freezes it (SIGSTOP to every process of the
cluster). While it is gone, whatever needs the database answers 503 `database-unavailable`
with Retry-After, never a 500, /readyz says which dependency is down, /livez still answers and
the test keys, which need no database, still verify; once it is back, everything answers again.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from humangate.testkeys import PASS_SECRET, PASS_SITEKEY
from tests._services import _postgres_bindir, _run, _Watchdog
from tests.live import create_unit_cli, free_port, humangate_env, running_server

ORIGIN = {"Origin": "http://localhost"}
# The unit cache off, so that every request asks the database; short timeouts keep a frozen
# server's 503s quick in the test (production has its own defaults).
SETTINGS = {
    "unit_cache_seconds": "0",
    "demo": "false",
    "database_connect_timeout": "1",
    "database_statement_timeout": "1",
    "database_pool_timeout": "1",
}

pytestmark = pytest.mark.postgres


class PostgresCluster:
    """A private PostgreSQL cluster on a fixed port, which can be stopped, frozen and restarted."""

    def __init__(self, workdir: Path) -> None:
        bindir = _postgres_bindir()
        if bindir is None:
            pytest.fail("PostgreSQL is not installed: run the tests with scripts/test")
        self.bindir = bindir
        self.workdir = workdir
        self.datadir = workdir / "data"
        self.port = free_port()
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.pg_ctl = [*self.as_postgres, str(bindir / "pg_ctl"), "-D", str(self.datadir)]
        if self.as_postgres:
            shutil.chown(workdir, user="postgres", group="postgres")
        # fmt: off
        _run(
            [*self.as_postgres, str(bindir / "initdb"), "-D", str(self.datadir), "-A", "trust",
             "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"],
            "initdb", cwd=workdir,
        )
        # fmt: on

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off"
        )
        log = self.workdir / "postgres.log"
        command = [*self.pg_ctl, "-l", str(log), "-w", "-t", "30", "-o", options, "start"]
        _run(command, "pg_ctl start", log=log, cwd=self.workdir)

    def crash(self) -> None:
        _run([*self.pg_ctl, "-m", "immediate", "-w", "stop"], "pg_ctl stop", cwd=self.workdir)

    def signal_all(self, sig: signal.Signals) -> None:
        """Send `sig` to the postmaster and every backend it started."""
        postmaster = int((self.datadir / "postmaster.pid").read_text().split()[0])
        children = subprocess.run(
            ["pgrep", "-P", str(postmaster)], capture_output=True, text=True, check=False
        ).stdout.split()
        for pid in [postmaster, *map(int, children)]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)

    def running(self) -> bool:
        return (self.datadir / "postmaster.pid").exists()

    def stop(self) -> None:
        if (self.datadir / "postmaster.pid").exists():
            subprocess.run(
                [*self.pg_ctl, "-m", "immediate", "-w", "stop"],
                capture_output=True,
                timeout=60,
                cwd=self.workdir,
            )


@contextmanager
def private_cluster(prefix: str) -> Iterator[PostgresCluster]:
    """A cluster of the test's own, stopped and removed afterwards (by a watchdog if pytest
    dies first)."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    server = PostgresCluster(workdir)
    watchdog = _Watchdog(f"{' '.join(server.pg_ctl)} -m immediate stop; rm -rf {workdir}")
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        watchdog.cancel()


@pytest.fixture(scope="module")
def own_cluster() -> Iterator[PostgresCluster]:
    with private_cluster("hg-pg-outage-") as server:
        yield server


@pytest.fixture
def cluster(own_cluster: PostgresCluster) -> Iterator[PostgresCluster]:
    """The module's cluster, running again after each test whatever the test did to it."""
    yield own_cluster
    if own_cluster.running():
        own_cluster.signal_all(signal.SIGCONT)
    else:
        own_cluster.start()


def _issue(client: httpx.Client, sitekey: str) -> httpx.Response:
    return client.post("/api/v1/challenges", json={"sitekey": sitekey})


def _verify(client: httpx.Client, secret: str, response: str = "no-such-token") -> httpx.Response:
    return client.post("/siteverify", data={"secret": secret, "response": response})


def _assert_unavailable(reply: httpx.Response) -> None:
    assert reply.status_code == 503, reply.text
    assert reply.json()["error"] == "database-unavailable"
    assert int(reply.headers["Retry-After"]) > 0
    assert "Traceback" not in reply.text and "asyncpg" not in reply.text


def _assert_down(client: httpx.Client) -> None:
    """What the database being down looks like from outside."""
    sitekey, secret = client.headers["x-test-sitekey"], client.headers["x-test-secret"]
    _assert_unavailable(_issue(client, sitekey))
    _assert_unavailable(_verify(client, secret))
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "checks": {"store": "ok", "database": "down"}}
    assert client.get("/healthz").status_code == 503
    assert client.get("/livez").status_code == 200
    # The console draws its error page rather than the API's JSON.
    page = client.get("/console/login", headers={"Cookie": "hg_session=a-session"})
    assert page.status_code == 503
    assert page.headers["content-type"].startswith("text/html")
    assert int(page.headers["Retry-After"]) > 0
    # The published test keys need no database: a site's staging keeps working.
    assert _issue(client, PASS_SITEKEY).status_code == 200
    fixed = _verify(client, PASS_SECRET, "any-token")
    assert fixed.status_code == 200 and fixed.json()["success"] is True


def _wait_ready(client: httpx.Client) -> None:
    deadline = time.monotonic() + 30
    while client.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline, "the node did not find the database again"
        time.sleep(0.2)


def _assert_up(client: httpx.Client) -> None:
    sitekey, secret = client.headers["x-test-sitekey"], client.headers["x-test-secret"]
    issued = _issue(client, sitekey)
    assert issued.status_code == 200, issued.text
    verdict = _verify(client, secret)
    assert verdict.status_code == 200, verdict.text
    assert verdict.json()["error-codes"] == ["invalid-input-response"]
    assert client.get("/readyz").json()["checks"] == {"store": "ok", "database": "ok"}


@pytest.fixture
def node(
    cluster: PostgresCluster, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[httpx.Client]:
    """A live node over `cluster`, with one unit, as a client that knows its keys; a test
    parametrizing `node` indirectly overrides SETTINGS."""
    overrides: dict[str, str] = getattr(request, "param", {})
    env = humangate_env(tmp_path / "node", database_url=cluster.url, **{**SETTINGS, **overrides})
    with running_server(env) as server:
        keys = create_unit_cli(server.env, "--domain", "localhost", "--mode", "invisible")
        headers = {**ORIGIN, "x-test-sitekey": keys["sitekey"], "x-test-secret": keys["secret"]}
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
            _assert_up(client)
            yield client


def test_a_stopped_database_gives_503_and_recovers(
    node: httpx.Client, cluster: PostgresCluster
) -> None:
    cluster.crash()
    for _ in range(3):  # pooled connections first, then new ones refused
        _assert_down(node)
    cluster.start()
    _wait_ready(node)
    _assert_up(node)


def test_a_restart_between_requests_is_not_seen(
    node: httpx.Client, cluster: PostgresCluster
) -> None:
    """A pooled connection to the old server is checked before use and replaced, not handed
    to a request: straight after the restart, no 503."""
    cluster.crash()
    cluster.start()
    for _ in range(3):
        _assert_up(node)


# The production timeouts for statements and connections: the request's own wait for a unit
# is what bounds it, while the lookup goes on behind it.
@pytest.mark.parametrize(
    "node",
    [
        {
            "database_statement_timeout": "5",
            "database_connect_timeout": "5",
            "database_lookup_timeout": "1",
        }
    ],
    indirect=True,
)
def test_a_frozen_database_gives_503_and_recovers(
    node: httpx.Client, cluster: PostgresCluster
) -> None:
    cluster.signal_all(signal.SIGSTOP)
    try:
        _assert_down(node)
    finally:
        cluster.signal_all(signal.SIGCONT)
    _wait_ready(node)
    _assert_up(node)


@pytest.mark.parametrize("node", [{"unit_cache_seconds": "1"}], indirect=True)
def test_a_unit_the_node_has_seen_keeps_answering_while_the_database_is_down(
    node: httpx.Client, cluster: PostgresCluster
) -> None:
    """The directory answers from its expired entry while its refresh fails: the token is
    still checked in the store, once; only a change to the unit waits for the database."""
    sitekey, secret = node.headers["x-test-sitekey"], node.headers["x-test-secret"]
    cluster.crash()
    time.sleep(1.2)  # past the cache's ttl: every lookup now tries the database first
    assert _issue(node, sitekey).status_code == 200
    verdict = _verify(node, secret)
    assert verdict.status_code == 200
    assert verdict.json()["error-codes"] == ["invalid-input-response"]
    _assert_unavailable(_verify(node, "hgs_" + "x" * 43))  # never seen: nothing to answer from
    assert node.get("/readyz").status_code == 503
