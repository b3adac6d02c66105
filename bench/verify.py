"""The verification API's start+check round trip on the real server, against its own ceiling,
and what a request's signature costs.

    .venv/bin/python -m bench.verify [--seconds N] [--store memory|redis]
    .venv/bin/python -m bench.verify --database sqlite,postgres --store redis

One round trip is what an app's backend does for one user: a signed `POST
/api/v1/verify/verifications` (e-mail channel, a distinct address each time, so no destination
limit is reached), the code read from the development outbox, and a signed `POST
.../{id}/check` with it. Every answer is checked (201 `pending`, then 200 `approved` with
`valid: true`); a round trip that fails is counted, not timed.

The server is `humangate serve` itself, one worker, HUMANGATE_ENVIRONMENT=local with no SMTP or
SMS URL, so each code is appended to `<data_dir>/outbox/messages.jsonl` (a thread, `flock`, one
write: part of the server's cost, as a mail relay call would be). The client reads that file
incrementally (it keeps its offset and parses only the new lines), so reading a code costs the
client microseconds and the server nothing. The app is created through `humangate app create`
with caps far above the run (`--daily-cap 10000000 --destination-daily-cap 100
--network-hourly-cap 100000 --prefix-hourly-cap 100000 --no-require-token`). The database is
SQLite (the default) and, with `--database sqlite,postgres`, a throwaway PostgreSQL cluster
(tests.test_db_outage.PostgresCluster: fsync off); the store (the pumping guard's counters) is
the in-memory one or, with `--store redis`, a throwaway redis-server.

The client is asyncio streams in this process (uvloop when installed), `--connections`
keep-alive connections each running round trips back to back (closed loop), signing every
request with humangate.verify.signing as the app's backend would. The same client code then
drives the baselines for `--seconds` each: the same server's `GET /livez` (its cheapest JSON
route: no signature, no database) and bench._served's plain ASGI hello-JSON (`ceiling`) under
uvicorn with the options of `humangate serve`.

Figures:
- `rt/s`: round trips a second; `req/s` counts each request (two per round trip).
- `µs/req` (and `µs/rt`): the server process's CPU time (/proc, bench._procs.CpuMeter) per
  request (per round trip); the steadier figure on a shared machine. `rt/s per core` is
  1e6 / `µs/rt`: round trips one fully used core would serve.
- p50/p99 in ms of start and of check separately (from the request's write to its answer's
  last byte; at saturation they include queueing behind the other connections).
- `sys`: the kernel's share of the server's CPU time (sockets, the outbox file, fsync).
- `cores used`: the server, Redis, PostgreSQL (`db`), this client, and `other` processes: a
  shared machine's sign (a NOTE above 0.25 cores).
- The ratios: a verification request's CPU against a /livez request's and the ceiling's.

The signature's own cost is measured apart, in this process, since the product has no unsigned
start: `read_signature` + `signature_matches` + `timestamp_fresh` on the headers of a 120-byte
body as the server receives them (starlette Headers), µs per call over many calls (timeit, best
of 5); and the whole `VerifyService.authenticate` (parse, app and secrets from the database, the
secret unsealed, HMAC, nonce insert and commit), sequential calls with fresh nonces against the
run's SQLite database after its server stopped. That is what a signed request with no writes of
its own would cost: start, check, fetch and cancel claim the nonce in their own transaction
(`VerifyService.signed`), so their nonce shares a commit with their writes. Everything runs on
127.0.0.1; every process started here is stopped here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import resource
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import timeit
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._machine import print_facts
from bench._procs import (
    BIN,
    CLK_TCK,
    HOST,
    CpuMeter,
    cpu_notes,
    cpu_seconds,
    free_port,
    humangate_server,
    redis_pid,
    redis_server,
    served,
    server_env,
    worker_pids,
)
from humangate.verify import signing

START_PATH = "/api/v1/verify/verifications"
CAPS = [
    "--daily-cap",
    "10000000",
    "--destination-daily-cap",
    "100",
    "--network-hourly-cap",
    "100000",
    "--prefix-hourly-cap",
    "100000",
    "--no-require-token",
]
CODE_LENGTH = 6
_CODE = re.compile(rb"\b(\d{%d})\b" % CODE_LENGTH)


class Failed(Exception):
    pass


# --------------------------------------------------------------------------- the client


class Connection:
    """One keep-alive HTTP/1.1 connection, one request at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(HOST, port)
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(reader, writer)

    async def call(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        if body or method == "POST":
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return int(head[9:12]), await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


class Outbox:
    """The development outbox read incrementally: address -> the newest code sent to it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.partial = b""
        self.codes: dict[str, str] = {}

    def code_for(self, to: str) -> str:
        if to not in self.codes:
            self._read_new()
        code = self.codes.pop(to, None)
        if code is None:
            raise Failed(f"no message to {to} in the outbox")
        return code

    def _read_new(self) -> None:
        try:
            with self.path.open("rb") as handle:
                handle.seek(self.offset)
                data = handle.read()
        except FileNotFoundError:
            return
        self.offset += len(data)
        *lines, self.partial = (self.partial + data).split(b"\n")
        for line in lines:
            entry = json.loads(line)
            found = _CODE.search(entry["text"].encode())
            if found:
                self.codes[entry["to"]] = found.group(1).decode()


@dataclass
class App:
    key: str
    secret: str


@dataclass
class Tally:
    """One phase's outcome; latencies in seconds."""

    done: int = 0
    failures: list[str] = field(default_factory=list)
    first: list[float] = field(default_factory=list)  # start, or the baseline's request
    second: list[float] = field(default_factory=list)  # check


async def _signed(
    conn: Connection, app: App, path: str, payload: dict[str, Any]
) -> tuple[int, dict[str, Any], float]:
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = signing.signature_headers(app.key, app.secret, "POST", path, body)
    began = time.perf_counter()
    status, answer = await conn.call("POST", path, body, headers)
    return status, json.loads(answer), time.perf_counter() - began


class RoundTrips:
    """start -> code from the outbox -> check, each to a new address."""

    def __init__(self, app: App, outbox: Outbox) -> None:
        self.app = app
        self.outbox = outbox
        self.serial = 0
        self.run_tag = secrets.token_hex(3)

    async def once(self, conn: Connection, tally: Tally) -> None:
        self.serial += 1
        to = f"bench-{self.run_tag}-{self.serial}@example.com"
        status, started, start_s = await _signed(
            conn, self.app, START_PATH, {"to": to, "channel": "email"}
        )
        if status != 201 or started.get("status") != "pending":
            raise Failed(f"start {status} {started}")
        code = self.outbox.code_for(to)
        path = f"{START_PATH}/{started['id']}/check"
        status, checked, check_s = await _signed(conn, self.app, path, {"code": code})
        if status != 200 or checked.get("status") != "approved" or checked.get("valid") is not True:
            raise Failed(f"check {status} {checked}")
        tally.first.append(start_s)
        tally.second.append(check_s)
        tally.done += 1


async def get_livez(conn: Connection, tally: Tally) -> None:
    began = time.perf_counter()
    status, body = await conn.call("GET", "/livez")
    if status != 200 or b'"status":"ok"' not in body:
        raise Failed(f"livez {status} {body[:100]!r}")
    tally.first.append(time.perf_counter() - began)
    tally.done += 1


Step = Callable[[Connection, Tally], Awaitable[None]]


async def closed_loop(port: int, step: Step, connections: int, seconds: float) -> Tally:
    tally = Tally()
    conns = [await Connection.open(port) for _ in range(connections)]
    deadline = time.perf_counter() + seconds

    async def worker(conn: Connection) -> None:
        while time.perf_counter() < deadline:
            try:
                await step(conn, tally)
            except (Failed, OSError, asyncio.IncompleteReadError, ValueError, KeyError) as exc:
                tally.failures.append(str(exc)[:200])
                if len(tally.failures) > 50:
                    return

    await asyncio.gather(*(worker(c) for c in conns))
    for conn in conns:
        conn.close()
    return tally


def _run_async(coroutine: Awaitable[Tally]) -> Tally:
    try:
        import uvloop

        return uvloop.run(coroutine)  # type: ignore[arg-type]
    except ImportError:
        return asyncio.run(coroutine)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- phases


@dataclass
class Phase:
    name: str
    tally: Tally
    seconds: float
    cores: dict[str, float]
    requests_per_unit: int  # 2 for a round trip
    system_share: float = 0.0  # of the server's CPU time, the part spent in the kernel

    @property
    def rate(self) -> float:
        return self.tally.done / self.seconds

    @property
    def us_per_unit(self) -> float:
        server = self.cores.get("server", 0.0)
        return server * 1e6 / self.rate if self.rate else float("nan")

    @property
    def us_per_request(self) -> float:
        return self.us_per_unit / self.requests_per_unit

    @staticmethod
    def pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def user_system(pids: list[int]) -> tuple[float, float]:
    """User and system CPU seconds of `pids` together (/proc/<pid>/stat)."""
    user = system = 0.0
    for pid in pids:
        try:
            raw = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        user += int(fields[11]) / CLK_TCK
        system += int(fields[12]) / CLK_TCK
    return user, system


class DbMeter:
    """CPU of a PostgreSQL cluster's processes (the postmaster and its children) in a phase."""

    def __init__(self, postmaster: int | None) -> None:
        self.postmaster = postmaster
        self.before: dict[int, float] = {}

    def pids(self) -> list[int]:
        if not self.postmaster:
            return []
        children = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    raw = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(raw[raw.rindex(")") + 2 :].split()[1]) == self.postmaster:
                    children.append(int(entry.name))
        return [self.postmaster, *children]

    def start(self) -> None:
        self.before = cpu_seconds(self.pids())

    def used(self) -> float:
        after = cpu_seconds(self.pids())
        return sum(t - self.before.get(pid, 0.0) for pid, t in after.items())


def _client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(
    name: str, meter: CpuMeter, db: DbMeter, coroutine: Awaitable[Tally], per_unit: int
) -> Phase:
    user, system = user_system(meter.workers)
    meter.start()
    db.start()
    cpu, began = _client_cpu(), time.perf_counter()
    tally = _run_async(coroutine)
    seconds = time.perf_counter() - began
    meter.stop()
    user_after, system_after = user_system(meter.workers)
    db_cpu = db.used()
    cores = meter.cores(seconds, "client", _client_cpu() - cpu)
    if db.postmaster:
        cores["db"] = db_cpu / seconds
        cores["other"] = max(0.0, cores["other"] - cores["db"])
        cores = {k: cores[k] for k in ("server", "redis", "db", "client", "other")}
    spent = user_after - user + system_after - system
    return Phase(name, tally, seconds, cores, per_unit, (system_after - system) / (spent or 1))


def create_app(env: dict[str, str]) -> App:
    command = [str(BIN / "humangate"), "app", "create", "--name", "bench", "--channel", "email"]
    command += ["--code-length", str(CODE_LENGTH), *CAPS, "--json"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True, timeout=60)
    data = json.loads(done.stdout)
    return App(data["app_key"], data["secret"])


@contextmanager
def maybe_redis(store: str, workdir: Path) -> Iterator[str]:
    with redis_server(workdir) if store == "redis" else nullcontext("") as url:
        yield url


@contextmanager
def database(kind: str, workdir: Path) -> Iterator[tuple[str, int | None]]:
    """("", None) for SQLite (the data folder's default); a throwaway cluster's URL and
    postmaster pid for PostgreSQL, stopped on exit."""
    if kind == "sqlite":
        yield "", None
        return
    from tests.test_db_outage import PostgresCluster

    # Its own folder, outside `workdir` (mode 700, root's): the cluster runs as `postgres`.
    folder = Path(tempfile.mkdtemp(prefix="hg-bench-verify-pg-"))
    try:
        cluster = PostgresCluster(folder)
        cluster.start()
        try:
            postmaster = int((cluster.datadir / "postmaster.pid").read_text().split()[0])
            yield cluster.url, postmaster
        finally:
            cluster.crash()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Run:
    """One database's phases, and what the micro-benchmark needs afterwards."""

    phases: list[Phase]
    env: dict[str, str]
    app: App


def bench_database(args: argparse.Namespace, kind: str, root: Path) -> Run:
    workdir = root / kind
    data_dir = workdir / "data"
    data_dir.mkdir(parents=True)
    with maybe_redis(args.store, workdir) as redis_url, database(kind, workdir) as (url, pg):
        port = free_port()
        env = server_env(data_dir, port, redis_url, secrets.token_urlsafe(36), 1)
        env["HUMANGATE_ENVIRONMENT"] = "local"
        if url:
            env["HUMANGATE_DATABASE_URL"] = url
        app = create_app(env)
        outbox = Outbox(data_dir / "outbox" / "messages.jsonl")
        flow = RoundTrips(app, outbox)
        with humangate_server(env, workdir) as server:
            meter = CpuMeter(worker_pids(server), redis_pid(redis_url) if redis_url else 0)
            db = DbMeter(pg)
            n = args.connections
            _run_async(closed_loop(port, flow.once, n, args.warmup))
            phases = [
                measure(
                    f"{kind} start+check",
                    meter,
                    db,
                    closed_loop(port, flow.once, n, args.seconds),
                    2,
                ),
                measure(
                    f"{kind} GET /livez",
                    meter,
                    db,
                    closed_loop(port, get_livez, n, args.seconds),
                    1,
                ),
            ]
        return Run(phases, env, app)


def measure_ceiling(args: argparse.Namespace, env: dict[str, str], root: Path) -> Phase:
    """bench._served's plain ASGI hello-JSON under uvicorn, driven by the same client."""
    ceiling_env = {**env, "HUMANGATE_PORT": str(free_port())}
    port = int(ceiling_env["HUMANGATE_PORT"])
    with humangate_server(ceiling_env, root, served("ceiling", "uvicorn")) as server:
        meter = CpuMeter(worker_pids(server), 0)
        _run_async(closed_loop(port, get_livez, args.connections, min(1.0, args.warmup)))
        return measure(
            "ceiling (plain ASGI)",
            meter,
            DbMeter(None),
            closed_loop(port, get_livez, args.connections, args.seconds),
            1,
        )


# --------------------------------------------------------------------------- signature cost


BODY_120 = b'{"to":"someone.example@example.com","channel":"email","locale":"en","idempotency_key":"order-20261207-0001234567890123"}'  # noqa: E501


def signature_check_us(iterations: int) -> float:
    """µs per read_signature + signature_matches + timestamp_fresh, headers as the server
    gets them."""
    from starlette.datastructures import Headers

    secret = "hgs_" + secrets.token_urlsafe(32)
    key = "hga_" + secrets.token_urlsafe(18)[:24]
    signed = signing.signature_headers(key, secret, "POST", START_PATH, BODY_120)
    raw = [(b"host", b"127.0.0.1"), (b"content-type", b"application/json")]
    raw += [(b"content-length", str(len(BODY_120)).encode())]
    raw += [(name.lower().encode(), value.encode()) for name, value in signed.items()]
    headers = Headers(raw=raw)
    now = time.time()

    def check() -> None:
        request = signing.read_signature(headers)
        if not signing.timestamp_fresh(request.timestamp, now):
            raise Failed("stale")
        if not signing.signature_matches(secret, request, "POST", START_PATH, BODY_120):
            raise Failed("the signature does not match")

    check()
    best = min(timeit.repeat(check, number=iterations, repeat=5))
    return best / iterations * 1e6


def authenticate_us(env: dict[str, str], app: App, calls: int) -> tuple[float, float]:
    """µs per VerifyService.authenticate, sequential, against the run's database: wall time and
    this process's CPU time (aiosqlite's thread included)."""
    from humangate.config import Settings
    from humangate.services import open_core_services
    from humangate.store.memory import MemoryStore
    from humangate.verify.service import VerifyPolicy, VerifyService

    settings = Settings(
        data_dir=Path(env["HUMANGATE_DATA_DIR"]),
        secret_key=env["HUMANGATE_SECRET_KEY"],
        database_url=env.get("HUMANGATE_DATABASE_URL", ""),
        demo=False,
    )
    requests = []
    for _ in range(calls + 50):
        headers = signing.signature_headers(app.key, app.secret, "POST", START_PATH, BODY_120)
        requests.append(headers)

    async def no_token(*_: Any) -> bool:
        return False

    async def run() -> tuple[float, float]:
        async with open_core_services(settings, store=MemoryStore()) as core:
            service = VerifyService(
                sessions=core.sessions,
                store=core.store,
                key=core.key,
                channels=core.channels,
                policy=VerifyPolicy(),
                check_token=no_token,
            )
            for headers in requests[:50]:  # warm-up: connections, statement caches
                await service.authenticate("POST", START_PATH, headers, BODY_120)
            began, cpu = time.perf_counter(), time.process_time()
            for headers in requests[50:]:
                await service.authenticate("POST", START_PATH, headers, BODY_120)
            wall, used = time.perf_counter() - began, time.process_time() - cpu
            return wall / calls * 1e6, used / calls * 1e6

    return asyncio.run(run())


# --------------------------------------------------------------------------- output


def print_phases(phases: list[Phase], connections: int) -> None:
    header = (
        f"{'phase':<22} {'rt|req/s':>9} {'req/s':>7} {'µs/req':>7} {'per core':>9} "
        f"{'p50 ms':>15} {'p99 ms':>15} {'fail':>5} {'sys':>4}  cores used"
    )
    print(f"\nclosed loop, {connections} keep-alive connections; p50/p99 of start / check")
    print(header)
    print("-" * len(header))
    for p in phases:
        per_core = 1e6 / p.us_per_unit if p.us_per_unit else float("nan")
        if p.requests_per_unit == 2:
            p50 = f"{p.pct(p.tally.first, 0.5):.2f} / {p.pct(p.tally.second, 0.5):.2f}"
            p99 = f"{p.pct(p.tally.first, 0.99):.2f} / {p.pct(p.tally.second, 0.99):.2f}"
        else:
            p50, p99 = f"{p.pct(p.tally.first, 0.5):.2f}", f"{p.pct(p.tally.first, 0.99):.2f}"
        cores = " ".join(f"{k} {v:.2f}" for k, v in p.cores.items())
        print(
            f"{p.name:<22} {p.rate:>9.0f} {p.rate * p.requests_per_unit:>7.0f} "
            f"{p.us_per_request:>7.0f} {per_core:>9.0f} {p50:>15} {p99:>15} "
            f"{len(p.tally.failures):>5} {p.system_share:>4.0%}  {cores}"
        )
        for failure in sorted(set(p.tally.failures))[:3]:
            print(f"  failed: {failure}")
        for note in cpu_notes(p.cores):
            print(f"  NOTE {p.name}: {note}")
    print(
        "rt|req/s: round trips (start+check) or requests a second; µs/req: server CPU per "
        "request; per core: round trips (requests) a second per server core = 1e6 / server "
        "µs per round trip (request); sys: the kernel's share of the server's CPU time"
    )


def print_verdict(
    runs: list[Run], ceiling: Phase, sig_us: float, auth: dict[str, tuple[float, float]]
) -> None:
    print("\n== summary ==")
    for run in runs:
        flow, livez = run.phases
        kind = flow.name.split()[0]
        print(
            f"{kind}: {flow.rate:.0f} round trips/s ({1e6 / flow.us_per_unit:.0f} per server "
            f"core, {flow.us_per_unit:.0f} µs server CPU each); a verification request costs "
            f"{flow.us_per_request / livez.us_per_request:.1f}x a /livez request and "
            f"{flow.us_per_request / ceiling.us_per_request:.1f}x the ceiling's by CPU "
            f"(by rate: {flow.rate * 2 / livez.rate:.2f} of /livez, "
            f"{flow.rate * 2 / ceiling.rate:.2f} of the ceiling)"
        )
        if kind in auth:
            cpu = auth[kind][1]
            print(
                f"  authenticate alone (its own commit): {cpu:.0f} µs CPU/call = "
                f"{cpu / flow.us_per_request:.0%} of a verification request's server CPU"
            )
    print(f"signature check alone (parse + HMAC + clock): {sig_us:.1f} µs per request")
    first = runs[0].phases[0]
    share = sig_us / first.us_per_request
    livez = runs[0].phases[1]
    print(
        f"verdict: {1e6 / first.us_per_unit:.0f} start+check round trips/s per server core on "
        f"{first.name.split()[0]} (a verification request costs "
        f"{first.us_per_request / livez.us_per_request:.0f}x a /livez request); the signature "
        f"check is {share:.1%} of a request's server CPU, so signing is not what limits the API"
    )


def print_setup(args: argparse.Namespace) -> None:
    print_facts()
    with open("/proc/loadavg") as handle:
        load = handle.read().split()[:3]
    print(f"{'load':>8}: {' '.join(load)} (1, 5, 15 min; the machine is shared)")
    print(
        f"  server: `humangate serve`, 1 worker, environment local, codes to the outbox file; "
        f"store {args.store}; database {args.database}\n"
        f"  client: asyncio streams in this process, {args.connections} connections, "
        f"{args.warmup:g} s warm-up + {args.seconds:g} s per phase, closed loop"
    )


# --------------------------------------------------------------------------- command line


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.verify",
        description=__doc__.split("\n\n", 1)[0] if __doc__ else None,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add = parser.add_argument
    add("--seconds", type=float, default=8.0, help="seconds per measured phase")
    add("--warmup", type=float, default=1.5, help="seconds of round trips before measuring")
    add("--store", choices=("memory", "redis"), default="memory", help="the server's store")
    add("--database", default="sqlite", help="comma-separated: sqlite, postgres")
    add("--connections", type=int, default=8, help="keep-alive connections")
    add("--iterations", type=int, default=20_000, help="signature checks per timeit repeat")
    add("--auth-calls", type=int, default=1000, help="authenticate calls per database")
    args = parser.parse_args(argv)
    args.databases = [d.strip() for d in args.database.split(",") if d.strip()]
    unknown = set(args.databases) - {"sqlite", "postgres"}
    if unknown or not args.databases:
        parser.error(f"--database takes sqlite and postgres, not {sorted(unknown)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print_setup(args)
    with tempfile.TemporaryDirectory(prefix="hg-bench-verify-") as tmp:
        root = Path(tmp)
        runs: list[Run] = []
        auth: dict[str, tuple[float, float]] = {}
        for kind in args.databases:
            run = bench_database(args, kind, root)
            runs.append(run)
            if kind == "sqlite":  # the server is stopped; its database is quiet
                auth[kind] = authenticate_us(run.env, run.app, args.auth_calls)
        ceiling = measure_ceiling(args, runs[0].env, root)
    sig_us = signature_check_us(args.iterations)
    print_phases([p for run in runs for p in run.phases] + [ceiling], args.connections)
    print(
        f"\nsignature check (read_signature + signature_matches + timestamp_fresh, "
        f"{len(BODY_120)}-byte body): {sig_us:.1f} µs/call (best of 5 x {args.iterations})"
    )
    for kind, (wall, cpu) in auth.items():
        print(
            f"VerifyService.authenticate on {kind} (app + secrets lookup, HMAC, nonce insert "
            f"and its own commit): {wall:.0f} µs/call wall, {cpu:.0f} µs CPU ({args.auth_calls} "
            "sequential calls)"
        )
    print_verdict(runs, ceiling, sig_us, auth)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
