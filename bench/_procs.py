"""The system under the siteverify bench: Redis, the server, its unit and pass tokens, and the
CPU each process uses.

Every process started here runs in its own session and is stopped, with its whole process group,
when its context manager exits. CPU accounting reads /proc, so this module is Linux-only.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
BIN = Path(sys.executable).parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
# The server under test; an experiment may point this at a patched copy of the app.
SERVE_COMMAND = [str(BIN / "humangate"), "serve"]


def served(app: str, server: str) -> list[str]:
    """The command serving `app` of bench._served (with its loop-lag probe) under `server`."""
    return [str(BIN / "python"), "-m", "bench._served", app, "--server", server]


TOKEN_TTL = 300  # seconds, as a pass token lives


# --------------------------------------------------------------------------- starting and stopping


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def stop_group(process: subprocess.Popen[Any], timeout: float = 10.0) -> None:
    """Stop a process started with start_new_session=True, with its whole process group."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def _started(
    command: list[str], log_path: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[Any]]:
    """Run `command` in a new session with its output in `log_path`; stop its group on exit."""
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            yield process
        finally:
            stop_group(process)


def _wait_ready(
    process: subprocess.Popen[Any], ready: Callable[[], bool], seconds: float, interval: float
) -> bool:
    """Poll `ready` until it holds (True) or `process` exits or `seconds` pass (False)."""
    deadline = time.monotonic() + seconds
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


def redis_client(url: str) -> closing[Any]:
    import redis

    return closing(redis.Redis.from_url(url))


def _pings(url: str) -> bool:
    import redis

    try:
        with redis_client(url) as client:
            return bool(client.ping())
    except redis.ConnectionError:
        return False


@contextmanager
def redis_server(workdir: Path) -> Iterator[str]:
    """A throwaway redis-server without persistence on a free port; yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is missing: apt-get install redis-server")
    port = free_port()
    command = [binary, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no"]
    command += ["--dir", str(workdir), "--daemonize", "no", "--protected-mode", "yes"]
    url = f"redis://{HOST}:{port}/0"
    with _started(command, workdir / "redis.log") as process:
        if not _wait_ready(process, lambda: _pings(url), 10, 0.05):
            raise SystemExit(f"redis-server did not start; see {workdir}/redis.log")
        yield url


def redis_pid(url: str) -> int:
    with redis_client(url) as client:
        return int(client.info("server")["process_id"])


def redis_keys(url: str) -> int:
    with redis_client(url) as client:
        return int(client.dbsize())


def server_env(data_dir: Path, port: int, redis_url: str, key: str, workers: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUMANGATE_")}
    env.update(
        HUMANGATE_DATA_DIR=str(data_dir),
        HUMANGATE_PORT=str(port),
        HUMANGATE_HOST=HOST,
        HUMANGATE_REDIS_URL=redis_url,
        HUMANGATE_SECRET_KEY=key,
        HUMANGATE_DEMO="false",
        HUMANGATE_LOG_LEVEL="warning",
        HUMANGATE_RATE_CHALLENGES_PER_MINUTE="100000000",
        HUMANGATE_WORKERS=str(workers),
    )
    return env


@contextmanager
def humangate_server(
    env: dict[str, str], workdir: Path, command: list[str] | None = None
) -> Iterator[subprocess.Popen[Any]]:
    """`command` (`humangate serve` by default) with `env`, once /livez answers and every worker
    is up."""
    command = command or SERVE_COMMAND
    name = command[-3] if "bench._served" in command else "serve"
    log_path = workdir / f"server-{name}-{env['HUMANGATE_WORKERS']}.log"
    port, workers = int(env["HUMANGATE_PORT"]), int(env["HUMANGATE_WORKERS"])
    with _started(command, log_path, env) as process:

        def ready() -> bool:
            try:
                status, _ = http_call(port, "GET", "/livez")
            except OSError:
                return False
            # Every worker must be up, or the first seconds of load hit a single one.
            return status == 200 and len(worker_pids(process)) >= workers

        if not _wait_ready(process, ready, 30, 0.1):
            raise SystemExit(f"humangate serve did not start; see {log_path}")
        yield process


def http_call(port: int, method: str, path: str, body: str = "") -> tuple[int, Any]:
    conn = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
        conn.request(method, path, body=body or None, headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


# ------------------------------------------------------------------------- the unit and its tokens


def create_unit(env: dict[str, str]) -> dict[str, str]:
    """A unit for the bench, created through the CLI: its sitekey and secret."""
    command = [str(BIN / "humangate"), "unit", "create", "--name", "bench", "--domain", "localhost"]
    command += ["--mode", "invisible", "--json"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True, timeout=60)
    return dict(json.loads(done.stdout))


def unit_id(data_dir: Path, sitekey: str) -> int:
    from humangate.config import Settings
    from humangate.db.engine import create_engine, create_sessionmaker
    from humangate.db.units import get_unit_by_sitekey

    async def find() -> int:
        engine = create_engine(Settings(data_dir=data_dir).resolved_database_url)
        try:
            async with create_sessionmaker(engine)() as session:
                unit = await get_unit_by_sitekey(session, sitekey)
        finally:
            await engine.dispose()
        if unit is None:
            raise SystemExit(f"unit {sitekey} is not in the database")
        return unit.id

    return asyncio.run(find())


def _record(now: int) -> bytes:
    """The record `Verifier._mint` stores for a token (an invisible unit: a PoW challenge)."""
    record = {"hostname": "localhost", "action": "", "cdata": "", "challenge_ts": now}
    return json.dumps({**record, "kind": "pow"}).encode()


def store_one_token(redis_url: str, key: bytes, uid: int) -> str:
    """One token stored through the server's own RedisStore.put, as `Verifier._mint` does."""
    from humangate.store.redis import RedisStore
    from humangate.tokens import mint_token, token_key

    async def put() -> str:
        store = RedisStore(redis_url)
        now = int(time.time())
        token = mint_token(key, unit_id=uid, expires_at=now + TOKEN_TTL)
        try:
            await store.put("token", token_key(token), _record(now), TOKEN_TTL)
        finally:
            await store.close()
        return token

    return asyncio.run(put())


def premint(redis_url: str, key: bytes, uid: int, count: int) -> list[str]:
    """`count` distinct tokens stored with RedisStore's key layout (`hg:<generation>:token:<…>`).

    The SET commands go to Redis as raw RESP in batches: redis-py's pipeline spends most of a
    300k-token setup encoding commands.
    """
    from humangate.store.redis import RedisStore
    from humangate.tokens import mint_token, token_key

    store = RedisStore(redis_url)

    async def generation() -> str:
        try:
            return await store.generation()
        finally:
            await store.close()

    current = asyncio.run(generation())  # keys carry the Redis server's generation

    def layout(namespace: str, name: str) -> str:
        return store._key(current, namespace, name)  # the server's own key layout

    now = int(time.time())
    record, px = _record(now), b"%d" % (TOKEN_TTL * 1000)
    tail = b"$%d\r\n%s\r\n$2\r\nPX\r\n$%d\r\n%s\r\n" % (len(record), record, len(px), px)
    tokens = [mint_token(key, unit_id=uid, expires_at=now + TOKEN_TTL) for _ in range(count)]
    host, port = redis_url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        for start in range(0, count, 20_000):
            names = [layout("token", token_key(t)).encode() for t in tokens[start : start + 20_000]]
            _set_batch(
                sock, [b"*5\r\n$3\r\nSET\r\n$%d\r\n%s\r\n%s" % (len(n), n, tail) for n in names]
            )
    stored = redis_keys(redis_url)
    if stored < count:
        raise SystemExit(f"only {stored} of {count} tokens reached Redis")
    return tokens


def _set_batch(sock: socket.socket, commands: list[bytes]) -> None:
    """Send SET commands in one write and check that every reply is `+OK`."""
    sock.sendall(b"".join(commands))
    expected, replies = 5 * len(commands), bytearray()  # one "+OK\r\n" per SET
    while len(replies) < expected:
        chunk = sock.recv(1 << 20)
        if not chunk:
            raise SystemExit("Redis closed the connection while tokens were stored")
        replies += chunk
    if replies != b"+OK\r\n" * len(commands):
        raise SystemExit(f"Redis refused a token: {bytes(replies[:200])!r}")


# --------------------------------------------------------------------------- /proc


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError:
        return b""


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat from `state` on, or None once the process is gone."""
    raw = _read(f"/proc/{pid}/stat").decode()
    return raw[raw.rindex(")") + 2 :].split() if raw else None


def group_pids(pgid: int) -> dict[int, int]:
    """pid -> ppid of every live process in the process group `pgid`."""
    found = {}
    for entry in os.listdir("/proc"):
        stat = _stat(int(entry)) if entry.isdigit() else None
        if stat and int(stat[2]) == pgid:
            found[int(entry)] = int(stat[1])
    return found


def worker_pids(server: subprocess.Popen[Any]) -> list[int]:
    """The processes that serve requests: the server itself, or its uvicorn worker children."""
    children = [pid for pid, ppid in group_pids(server.pid).items() if ppid == server.pid]
    # Uvicorn's multiprocess supervisor also spawns multiprocessing's resource tracker.
    workers = [pid for pid in children if b"resource_tracker" not in _read(f"/proc/{pid}/cmdline")]
    return workers or [server.pid]


def loaded_extensions(pids: list[int]) -> str:
    """Which of uvloop and httptools the serving processes really loaded (from their maps)."""
    found = []
    for name, marker in (("uvloop", b"/uvloop/loop."), ("httptools", b"/httptools/parser/")):
        hits = sum(marker in _read(f"/proc/{pid}/maps") for pid in pids)
        found.append(f"{name} {'loaded' if hits == len(pids) else 'NOT loaded'}")
    return ", ".join(found)


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User plus system CPU seconds of each live process in `pids`."""
    times = {}
    for pid in pids:
        stat = _stat(pid)
        if stat:
            times[pid] = (int(stat[11]) + int(stat[12])) / CLK_TCK
    return times


def machine_busy() -> float:
    """CPU seconds the whole machine spent busy (user, system, irq; steal too) since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def wait_idle(limit: float, busy: float = 0.2) -> float:
    """Wait up to `limit` seconds for the machine to fall under `busy` cores; the last load."""
    deadline = time.monotonic() + limit
    while True:
        start = machine_busy()
        time.sleep(2.0)
        load = (machine_busy() - start) / 2.0
        if load < busy or time.monotonic() > deadline:
            return load


# --------------------------------------------------------------------------- CPU per load phase


def _is_worker(component: str) -> bool:
    """`w1`, `w2`, ...: one worker's share, already counted in `server`."""
    return re.fullmatch(r"w\d+", component) is not None


class CpuMeter:
    """Cores used by the server's workers, Redis, the load generator and everything else."""

    def __init__(self, workers: list[int], redis: int) -> None:
        self.workers = workers
        self.redis = redis
        self._before: dict[int, float] = {}
        self._after: dict[int, float] = {}
        self._machine = 0.0

    def start(self) -> None:
        self._before = cpu_seconds([*self.workers, self.redis])
        self._machine = machine_busy()

    def stop(self) -> None:
        self._after = cpu_seconds([*self.workers, self.redis])
        self._machine = machine_busy() - self._machine

    def cores(self, seconds: float, client: str, client_cpu: float) -> dict[str, float]:
        """Cores per component between start and stop; `client_cpu` is the load generator's."""
        used = {pid: (t - self._before.get(pid, 0.0)) / seconds for pid, t in self._after.items()}
        cores = {"server": sum(used.get(pid, 0.0) for pid in self.workers)}
        if len(self.workers) > 1:
            cores.update({f"w{n}": used.get(pid, 0.0) for n, pid in enumerate(self.workers, 1)})
        cores["redis"] = used.get(self.redis, 0.0)
        cores[client] = client_cpu / seconds
        ours = sum(v for k, v in cores.items() if not _is_worker(k))
        cores["other"] = max(0.0, self._machine / seconds - ours)
        return cores


def cpu_notes(cores: dict[str, float]) -> list[str]:
    """Warnings about a phase: a shared machine, or connections piled onto one worker."""
    notes = []
    if cores["other"] > 0.25:
        notes.append(
            f"other processes used {cores['other']:.2f} cores during the run: "
            "the machine was shared, so these numbers are low"
        )
    shares = [v for k, v in cores.items() if _is_worker(k)]
    total = sum(shares)
    if len(shares) > 1 and total > 0 and min(shares) / total < 0.5 / len(shares):
        split = "/".join(f"{100 * v / total:.0f}%" for v in shares)
        notes.append(
            f"the workers' CPU split {split}: the kernel handed most connections to one worker, "
            "so this run measures fewer workers than configured"
        )
    return notes
