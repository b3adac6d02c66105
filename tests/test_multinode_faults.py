"""Two `humangate serve` nodes while their Redis crashes, their PostgreSQL stops, or one of them
is restarted under traffic.

The module starts its own redis-server (snapshotting on, as Debian ships it) and its own
PostgreSQL cluster, which its tests kill and restart; the session's shared servers are never
touched. Each test starts two nodes on fixed ports over them, as a load balancer would see them.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from humangate.challenges.pow import solve_pow
from tests.live import _wait_until_live, create_unit_cli, free_port, humangate_env, run_cli
from tests.store.servers import RedisProcess
from tests.test_db_outage import PostgresCluster, private_cluster

ORIGIN = {"Origin": "http://localhost"}
N = 20
# A small proof of work: the tests are about the servers, not about the work.
UNIT = ("--domain", "localhost", "--mode", "invisible", "--pow-difficulty", "2000")
# Short dependency timeouts keep the outages' 503s quick; a unit cached for 1 s is past its ttl
# (served stale) a moment into an outage. Production has its own defaults.
NODE_SETTINGS = {
    "demo": "false",
    "unit_cache_seconds": "1",
    "redis_socket_timeout": "0.5",
    "redis_connect_timeout": "0.5",
    "redis_pool_timeout": "0.5",
    "database_connect_timeout": "1",
    "database_statement_timeout": "1",
    "database_pool_timeout": "1",
    "shutdown_timeout": "2",
}
# Generous: an answer must come, but how fast is the benches' business.
CLIENT_TIMEOUT = 30.0
RECOVERY_DEADLINE = 30.0

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


# --- servers ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def own_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisProcess]:
    # Debian's default `save` lines: snapshots are on, as on most installed Redis servers.
    server = RedisProcess(
        tmp_path_factory.mktemp("redis"), "--save", "3600 1 300 100 60 10000", "--appendonly", "no"
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def redis_server(own_redis: RedisProcess) -> Iterator[RedisProcess]:
    """The module's Redis, running again after each test whatever the test did to it."""
    yield own_redis
    if own_redis.process is None or own_redis.process.poll() is not None:
        own_redis.start()


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[PostgresCluster]:
    with private_cluster("hg-pg-multinode-") as server:
        yield server


@pytest.fixture
def postgres(own_postgres: PostgresCluster) -> Iterator[PostgresCluster]:
    yield own_postgres
    if not own_postgres.running():
        own_postgres.start()


class Node:
    """`humangate serve` on a fixed port (what a load balancer points at), restartable."""

    def __init__(self, name: str, env: dict[str, str]) -> None:
        self.name = name
        self.port = free_port()
        self.env = {**env, "HUMANGATE_HOST": "127.0.0.1", "HUMANGATE_PORT": str(self.port)}
        self.log = Path(env["HUMANGATE_DATA_DIR"]) / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def launch(self) -> None:
        Path(self.env["HUMANGATE_DATA_DIR"]).mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "humangate", "serve"],
                env=self.env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )

    def wait_live(self) -> None:
        assert self.process is not None
        _wait_until_live(self.url, self.process, 60)

    def start(self) -> None:
        self.launch()
        self.wait_live()

    def terminate(self) -> int:
        """SIGTERM, as systemd or an orchestrator stops it; wait for the exit, return its code."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGTERM)
        # Not a speed figure: without a bounded shutdown the node never exits at all.
        return self.process.wait(timeout=60)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@dataclass
class Pair:
    a: Node
    b: Node
    clients: dict[str, httpx.Client] = field(default_factory=dict)

    @property
    def both(self) -> list[httpx.Client]:
        return [self.clients["a"], self.clients["b"]]


@pytest.fixture
def nodes(tmp_path: Path, redis_server: RedisProcess, postgres: PostgresCluster) -> Iterator[Pair]:
    shared = {"redis_url": redis_server.url, "database_url": postgres.url, **NODE_SETTINGS}
    pair = Pair(
        Node("a", humangate_env(tmp_path / "a", **shared)),
        Node("b", humangate_env(tmp_path / "b", **shared)),
    )
    try:
        for node in (pair.a, pair.b):
            node.launch()
        for node in (pair.a, pair.b):
            node.wait_live()
            pair.clients[node.name] = httpx.Client(
                base_url=node.url, headers=ORIGIN, timeout=CLIENT_TIMEOUT
            )
        yield pair
    finally:
        for client in pair.clients.values():
            client.close()
        for node in (pair.a, pair.b):
            node.stop()


# --- steps of a loop ----------------------------------------------------------------------------


def _issue(client: httpx.Client, sitekey: str) -> tuple[str, int]:
    response = client.post("/api/v1/challenges", json={"sitekey": sitekey})
    assert response.status_code == 200, response.text
    challenge = response.json()
    number = solve_pow(challenge["pow"])
    assert number is not None
    return challenge["id"], number


def _answer(client: httpx.Client, challenge: tuple[str, int]) -> httpx.Response:
    challenge_id, number = challenge
    return client.post(
        f"/api/v1/challenges/{challenge_id}/answer", json={"pow": {"number": number}}
    )


def _token(client: httpx.Client, challenge: tuple[str, int]) -> str:
    answered = _answer(client, challenge)
    assert answered.status_code == 200, answered.text
    assert answered.json()["success"] is True
    return str(answered.json()["token"])


def _verify(client: httpx.Client, secret: str, token: str) -> bool:
    response = client.post("/siteverify", data={"secret": secret, "response": token})
    assert response.status_code == 200, response.text
    return bool(response.json()["success"])


def _assert_503(reply: httpx.Response, code: str) -> None:
    assert reply.status_code == 503, reply.text
    assert reply.json()["error"] == code
    assert int(reply.headers["Retry-After"]) > 0


def _wait_ready(*clients: httpx.Client) -> None:
    deadline = time.monotonic() + RECOVERY_DEADLINE
    for client in clients:
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, f"{client.base_url} did not recover"
            time.sleep(0.1)


def _counters(env: dict[str, str], sitekey: str) -> Counter[str]:
    """The unit's statistics as the database holds them, summed over hours and keys."""
    done = run_cli(env, "unit", "stats", sitekey, "--csv")
    assert done.returncode == 0, done.stderr
    totals: Counter[str] = Counter()
    for row in csv.DictReader(io.StringIO(done.stdout)):
        totals[row["metric"]] += int(row["count"])
    return totals


def _wait_counters(env: dict[str, str], sitekey: str, expected: dict[str, int]) -> None:
    """Poll until the database holds exactly `expected` (nodes flush every few seconds)."""
    deadline = time.monotonic() + RECOVERY_DEADLINE
    while True:
        counted = _counters(env, sitekey)
        if all(counted[metric] == count for metric, count in expected.items()):
            return
        assert all(counted[metric] <= count for metric, count in expected.items()), counted
        assert time.monotonic() < deadline, (counted, expected)
        time.sleep(0.5)


# --- 1. Redis crashes under two nodes -----------------------------------------------------------


def test_redis_crash_and_restore_spends_nothing_twice_on_either_node(
    nodes: Pair, redis_server: RedisProcess, tmp_path: Path
) -> None:
    a, b = nodes.both
    keys = create_unit_cli(nodes.a.env, *UNIT)
    sitekey, secret = keys["sitekey"], keys["secret"]
    tokens = [_token(a, _issue(a, sitekey)) for _ in range(N)]
    pending = [_issue(a, sitekey) for _ in range(N)]

    # The dump holds every token unspent and every challenge open.
    assert redis_server.command("SAVE") in (b"OK", "OK", True)
    dump = redis_server.workdir / "dump.rdb"
    backup = tmp_path / "dump.rdb"
    shutil.copy(dump, backup)

    assert sum(_verify((a, b)[i % 2], secret, t) for i, t in enumerate(tokens)) == N
    assert all(_answer((b, a)[i % 2], c).json()["success"] for i, c in enumerate(pending))

    redis_server.crash()
    for client in (a, b):
        issued = client.post("/api/v1/challenges", json={"sitekey": sitekey})
        _assert_503(issued, "storage-unavailable")
        _assert_503(_answer(client, pending[0]), "storage-unavailable")
        during = client.post("/siteverify", data={"secret": secret, "response": tokens[0]})
        _assert_503(during, "storage-unavailable")
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["store"] != "ok"

    # Whatever Redis wrote since, it restarts from the snapshot taken before the spends.
    shutil.copy(backup, dump)
    redis_server.start()
    assert redis_server.command("DBSIZE") > 0, "nothing restored: the test would prove nothing"
    _wait_ready(a, b)

    again = [_verify(client, secret, t) for t in tokens for client in (a, b)]
    assert again.count(True) == 0
    second = [_answer(client, c) for c in pending for client in (a, b)]
    assert [r.status_code for r in second] == [410] * (2 * N)
    assert not any(r.json()["success"] for r in second)

    # Both nodes go on without a restart: a loop across them passes once.
    fresh = _token(b, _issue(a, sitekey))
    assert _verify(a, secret, fresh) is True
    assert _verify(b, secret, fresh) is False


# --- 2. PostgreSQL stops under two nodes --------------------------------------------------------


def _loops(
    issuer: httpx.Client,
    answerer: httpx.Client,
    verifier: httpx.Client,
    keys: dict[str, str],
    count: int,
) -> None:
    for _ in range(count):
        token = _token(answerer, _issue(issuer, keys["sitekey"]))
        assert _verify(verifier, keys["secret"], token) is True


def test_postgres_stop_under_two_nodes_keeps_cached_units_and_loses_no_count(
    nodes: Pair, postgres: PostgresCluster
) -> None:
    a, b = nodes.both
    keys = create_unit_cli(nodes.a.env, *UNIT)
    # Few loops a phase: one client's rising rate raises its proof of work, which costs time.
    loops_per_phase = N // 4
    # Both nodes see the unit (site key and secret) before the outage, counted from the start.
    _loops(a, b, a, keys, loops_per_phase)
    _loops(b, a, b, keys, loops_per_phase)
    held = [_token(a, _issue(b, keys["sitekey"])) for _ in range(2)]

    postgres.crash()
    time.sleep(1.2)  # past the unit cache's ttl: each lookup now tries the database first
    for client in (a, b):
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"] == {"store": "ok", "database": "down"}
        _assert_503(
            client.post("/siteverify", data={"secret": "hgs_" + "x" * 43, "response": "t"}),
            "database-unavailable",
        )
    # Tokens minted before the outage and loops started during it, on either node.
    assert _verify(a, keys["secret"], held[0]) is True
    assert _verify(b, keys["secret"], held[1]) is True
    _loops(a, b, b, keys, loops_per_phase)
    _loops(b, a, a, keys, loops_per_phase)
    # Each node has tried to write its counts into the stopped database, and kept them.
    deadline = time.monotonic() + RECOVERY_DEADLINE
    for node in (nodes.a, nodes.b):
        while "UnitCounters: writing a batch failed" not in node.log.read_text(errors="replace"):
            assert time.monotonic() < deadline, f"node {node.name} never tried to flush"
            time.sleep(0.2)

    postgres.start()
    _wait_ready(a, b)
    _loops(a, a, b, keys, loops_per_phase)
    _loops(b, b, a, keys, loops_per_phase)

    loops = 6 * loops_per_phase + len(held)
    _wait_counters(
        nodes.a.env,
        keys["sitekey"],
        {"issued": loops, "passed": loops, "verified": loops, "verify-failed": 0},
    )


# --- 3. A rolling restart under traffic ---------------------------------------------------------


@dataclass
class Traffic:
    """What one client loop against one node saw."""

    ok: Counter[str] = field(default_factory=Counter)  # per step: 200 with the expected verdict
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    # A 5xx other than a 503 with its code and Retry-After, a wrong verdict, a broken reply.
    unclean: list[str] = field(default_factory=list)
    refused: int = 0  # nothing listening: the load balancer's job to route elsewhere
    dropped: Counter[str] = field(default_factory=Counter)  # a connection lost without a reply
    loops: int = 0

    def passed(self, step: str, reply: httpx.Response) -> bool:
        self.statuses[(step, reply.status_code)] += 1
        clean_503 = (
            reply.status_code == 503
            and int(reply.headers.get("Retry-After", "0")) > 0
            and bool(reply.json()["error"])
        )
        if reply.status_code >= 500 and not clean_503:
            self.unclean.append(f"{step}: {reply.status_code} {reply.text[:200]}")
        if reply.status_code != 200:
            return False
        if step != "issue" and reply.json()["success"] is not True:
            self.unclean.append(f"{step}: {reply.text[:200]}")
            return False
        self.ok[step] += 1
        return True


def _drive(url: str, keys: dict[str, str], seen: Traffic, stop: threading.Event) -> None:
    """Whole loops against one node (issue, answer, siteverify) until `stop`."""
    with httpx.Client(base_url=url, headers=ORIGIN, timeout=CLIENT_TIMEOUT) as client:
        while not stop.is_set():
            step = "issue"
            try:
                issued = client.post("/api/v1/challenges", json={"sitekey": keys["sitekey"]})
                if not seen.passed(step, issued):
                    continue
                challenge = issued.json()
                step = "answer"
                answered = client.post(
                    f"/api/v1/challenges/{challenge['id']}/answer",
                    json={"pow": {"number": solve_pow(challenge["pow"])}},
                )
                if not seen.passed(step, answered):
                    continue
                step = "verify"
                form = {"secret": keys["secret"], "response": answered.json()["token"]}
                if seen.passed(step, client.post("/siteverify", data=form)):
                    seen.loops += 1
            except httpx.ConnectError:
                seen.refused += 1
            except httpx.TransportError:
                seen.dropped[step] += 1
            except Exception as error:  # a reply the test cannot read fails the test, later
                seen.unclean.append(f"{step}: {error!r}")
            stop.wait(0.02)


def _until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + RECOVERY_DEADLINE
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def _assert_counted(env: dict[str, str], keys: dict[str, str], seen: Traffic) -> None:
    """The database holds what the node answered; a step whose reply was lost may count too."""
    metrics = {"issue": "issued", "answer": "passed", "verify": "verified"}
    counted = _counters(env, keys["sitekey"])
    for step, metric in metrics.items():
        low, high = seen.ok[step], seen.ok[step] + seen.dropped[step]
        assert low <= counted[metric] <= high, (metric, counted, seen)


def test_rolling_restart_under_traffic_gives_no_5xx_and_loses_no_count(nodes: Pair) -> None:
    # One unit per node's traffic, so that what node A flushed on its way out can be read alone.
    keys = {name: create_unit_cli(nodes.a.env, *UNIT) for name in ("a", "b")}
    seen = {"a": Traffic(), "b": Traffic()}
    stop = threading.Event()
    drivers = [
        threading.Thread(target=_drive, args=(node.url, keys[node.name], seen[node.name], stop))
        for node in (nodes.a, nodes.b)
    ]
    for driver in drivers:
        driver.start()
    try:
        _until(lambda: min(t.loops for t in seen.values()) >= 3, "no traffic flowed")

        exit_code = nodes.a.terminate()
        assert exit_code in (0, -signal.SIGTERM), nodes.a.log.read_text(errors="replace")
        # Once A's driver has been refused it holds no reply from A in hand.
        _until(lambda: seen["a"].refused > 0, "node A still answered after it exited")
        _assert_counted(nodes.a.env, keys["a"], seen["a"])

        nodes.a.start()
        restarted = {name: t.loops for name, t in seen.items()}
        _until(
            lambda: all(seen[name].loops >= restarted[name] + 3 for name in seen),
            "traffic did not flow to both nodes again",
        )
    finally:
        stop.set()
        for driver in drivers:
            driver.join(timeout=CLIENT_TIMEOUT * 2)

    assert seen["a"].unclean == [] and seen["b"].unclean == [], seen
    # Node B never noticed: every request it got was answered in full.
    assert seen["b"].refused == 0 and not seen["b"].dropped, seen["b"]
    assert {status for _, status in seen["b"].statuses} == {200}, seen["b"]

    for node in (nodes.b, nodes.a):
        node.terminate()
    for name in ("a", "b"):
        _assert_counted(nodes.a.env, keys[name], seen[name])
