"""The whole verification loop over HTTP: issue -> answer (proof of work) -> siteverify.

    .venv/bin/python -m bench.loop_e2e [--store redis,memory] [--server uvicorn] [--duration 10]

For each store it starts the server (bench._served's humangate, one worker, the options of
`humangate serve`; Redis throwaway, or the in-memory store), creates an invisible unit through the
CLI with the smallest proof of work (the rate windows raise it for a busy network or device, so
every loop comes from its own address, through X-Forwarded-For from 127.0.0.1, which the server
trusts), and runs loops on keep-alive connections:

- saturation: `--connections` connections, each running loops back to back (closed loop): loops
  per second, and loops per second per server core (the server's CPU time from /proc);
- a fixed rate (`--rate-fraction` of that, open loop): loops start on schedule whether or not the
  last ones ended, and a loop's latency runs from its scheduled start, so a queue shows.

A loop's latency is the server's part: the three requests' round trips, not the client's proof of
work (solved between the issue's answer and the answer's request, and subtracted). Every loop is
checked: the issue is a proof of work, the answer a token, the siteverify `success: true`.
Latencies are in ms; `cores` splits the machine like bench.siteverify's (`other`: the rest of the
machine, a shared one's sign).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import secrets
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench._machine import print_facts
from bench._procs import (
    BIN,
    HOST,
    CpuMeter,
    cpu_notes,
    free_port,
    http_call,
    humangate_server,
    redis_pid,
    redis_server,
    served,
    server_env,
    worker_pids,
)
from bench._profile import profile, summarize_profile
from bench._served import LAG_PATH
from humangate.challenges.pow import solve_pow

ORIGIN = "http://localhost"


class Connection:
    """One keep-alive HTTP/1.1 connection, one request at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(HOST, port)
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(reader, writer)

    async def post(self, path: str, body: bytes, content_type: str, ip: str) -> tuple[int, Any]:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: localhost\r\nOrigin: {ORIGIN}\r\n"
            f"X-Forwarded-For: {ip}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        answer = await self.reader.readuntil(b"\r\n\r\n")
        status = int(answer[9:12])
        length = 0
        for line in answer.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, json.loads(await self.reader.readexactly(length) or b"null")

    def close(self) -> None:
        self.writer.close()


class LoopFailed(Exception):
    pass


@dataclass
class Tally:
    loops: int = 0
    failures: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # seconds, the server's part


@dataclass(frozen=True)
class Unit:
    sitekey: str
    secret: str


async def one_loop(conn: Connection, unit: Unit, started: float) -> float:
    """One visitor's loop; the seconds from `started` to its end, less the proof of work's."""
    ip = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
    body = json.dumps({"sitekey": unit.sitekey}).encode()
    status, issued = await conn.post("/api/v1/challenges", body, "application/json", ip)
    if status != 200 or issued.get("kind") != "pow":
        raise LoopFailed(f"issue {status} {issued}")
    solving = time.perf_counter()
    number = solve_pow(issued["pow"])
    solved = time.perf_counter() - solving
    body = json.dumps({"pow": {"number": number}}).encode()
    path = f"/api/v1/challenges/{issued['id']}/answer"
    status, answered = await conn.post(path, body, "application/json", ip)
    if status != 200 or not answered.get("success"):
        raise LoopFailed(f"answer {status} {answered}")
    form = f"secret={quote(unit.secret)}&response={quote(answered['token'])}".encode()
    status, verified = await conn.post("/siteverify", form, "application/x-www-form-urlencoded", ip)
    if status != 200 or verified.get("success") is not True:
        raise LoopFailed(f"siteverify {status} {verified}")
    return time.perf_counter() - started - solved


async def _run(tally: Tally, conn: Connection, unit: Unit, started: float) -> None:
    try:
        tally.latencies.append(await one_loop(conn, unit, started))
        tally.loops += 1
    except (LoopFailed, OSError, asyncio.IncompleteReadError, ValueError) as exc:
        tally.failures.append(str(exc)[:200])


async def closed_loop(port: int, unit: Unit, connections: int, seconds: float) -> Tally:
    tally = Tally()
    conns = [await Connection.open(port) for _ in range(connections)]
    deadline = time.perf_counter() + seconds

    async def worker(conn: Connection) -> None:
        while time.perf_counter() < deadline:
            await _run(tally, conn, unit, time.perf_counter())

    await asyncio.gather(*(worker(c) for c in conns))
    for conn in conns:
        conn.close()
    return tally


async def open_loop(port: int, unit: Unit, connections: int, rate: float, seconds: float) -> Tally:
    """Loops due every 1/rate s, each on the next idle connection (waiting for one if none)."""
    tally = Tally()
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        idle.put_nowait(await Connection.open(port))
    begin = time.perf_counter()
    count = int(rate * seconds)

    async def due(n: int) -> None:
        at = begin + n / rate
        await asyncio.sleep(max(0.0, at - time.perf_counter()))
        conn = await idle.get()
        await _run(tally, conn, unit, at)
        idle.put_nowait(conn)

    await asyncio.gather(*(due(n) for n in range(count)))
    while not idle.empty():
        idle.get_nowait().close()
    return tally


@dataclass
class Phase:
    name: str
    tally: Tally
    seconds: float
    cores: dict[str, float]
    offered: float = 0.0
    lag: dict[str, float] = field(default_factory=dict)  # bench._served's probe, this phase

    @property
    def rate(self) -> float:
        return self.tally.loops / self.seconds

    def pct(self, q: float) -> float:
        lat = sorted(self.tally.latencies)
        return 1000 * lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")


def _client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(port: int, meter: CpuMeter, name: str, run: Any, offered: float = 0.0) -> Phase:
    http_call(port, "GET", LAG_PATH)  # a new window of the loop-lag probe
    meter.start()
    cpu, began = _client_cpu(), time.perf_counter()
    tally = asyncio.run(run)
    seconds = time.perf_counter() - began
    meter.stop()
    cores = meter.cores(seconds, "client", _client_cpu() - cpu)
    return Phase(name, tally, seconds, cores, offered, http_call(port, "GET", LAG_PATH)[1])


def create_unit(env: dict[str, str]) -> Unit:
    command = [str(BIN / "humangate"), "unit", "create", "--name", "e2e", "--domain", "localhost"]
    command += ["--mode", "invisible", "--pow-difficulty", "1", "--json"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True, timeout=60)
    keys = json.loads(done.stdout)
    return Unit(keys["sitekey"], keys["secret"])


@contextmanager
def maybe_redis(store: str, workdir: Path) -> Iterator[str]:
    with redis_server(workdir) if store == "redis" else nullcontext("") as url:
        yield url


def bench_store(args: argparse.Namespace, store: str, root: Path) -> list[Phase]:
    workdir = root / store
    (workdir / "data").mkdir(parents=True)
    with maybe_redis(store, workdir) as redis_url:
        port = free_port()
        env = server_env(workdir / "data", port, redis_url, secrets.token_urlsafe(36), 1)
        unit = create_unit(env)
        with humangate_server(env, workdir, served("humangate", args.server)) as server:
            meter = CpuMeter(worker_pids(server), redis_pid(redis_url) if redis_url else 0)
            asyncio.run(closed_loop(port, unit, args.connections, args.warmup))
            saturated = measure(
                port,
                meter,
                f"{store} saturated",
                closed_loop(port, unit, args.connections, args.duration),
            )
            rate = args.rate or args.rate_fraction * saturated.rate
            fixed = measure(
                port,
                meter,
                f"{store} fixed rate",
                open_loop(port, unit, args.open_connections, rate, args.rate_duration),
                offered=rate,
            )
            if args.profile:
                stacks = Path(args.profile_dir or workdir) / f"loop-{store}.stacks"
                profile(
                    server.pid,
                    args.duration,
                    stacks,
                    lambda: asyncio.run(closed_loop(port, unit, args.connections, args.duration)),
                )
                print(f"\n== {store}: where the server's time goes ==")
                print(summarize_profile(stacks, args.top))
            return [saturated, fixed]


def print_phase(phase: Phase) -> None:
    server = phase.cores.get("server", 0.0)
    per_core = phase.rate / server if server else float("nan")
    cores = " ".join(f"{k} {v:.2f}" for k, v in phase.cores.items())
    offered = f"{phase.offered:8.0f}" if phase.offered else f"{'-':>8}"
    print(
        f"{phase.name:<20} {offered} {phase.rate:8.0f} {per_core:9.0f} {phase.pct(0.5):7.2f} "
        f"{phase.pct(0.99):7.2f} {phase.pct(1.0):7.2f} {len(phase.tally.failures):5}  {cores}"
    )
    lag = phase.lag
    if lag:
        print(
            f"  event-loop lag: the loop's own p99 {lag['cpu_p99']:.1f} ms, max "
            f"{lag['cpu_max']:.1f} ms; wall max {lag['max']:.1f} ms; full collections "
            f"{lag['gc2']:.0f}"
        )
    for failure in sorted(set(phase.tally.failures))[:3]:
        print(f"  failed: {failure}")
    for note in cpu_notes(phase.cores):
        print(f"  NOTE: {note}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.loop_e2e", description=__doc__)
    add = parser.add_argument
    add("--store", default="redis,memory", help="comma-separated: redis, memory")
    add("--server", default="uvicorn", choices=("uvicorn", "granian"))
    add("--connections", type=int, default=16, help="closed-loop connections")
    add("--open-connections", type=int, default=64, help="connections of the fixed-rate phase")
    add("--duration", type=float, default=10.0, help="seconds at saturation")
    add("--warmup", type=float, default=2.0)
    add("--rate-fraction", type=float, default=0.5, help="fixed rate as a fraction of saturation")
    add("--rate", type=float, default=0.0, help="fixed rate in loops/s (overrides the fraction)")
    add("--rate-duration", type=float, default=10.0)
    add("--profile", action="store_true", help="sample the server with py-spy at saturation")
    add("--profile-dir", default="", help="keep py-spy's collapsed stacks here")
    add("--top", type=int, default=25, help="functions listed per profile table")
    args = parser.parse_args(argv)
    print_facts()
    print(
        f"  server: bench._served humangate on {args.server}, 1 worker; client: asyncio streams "
        f"in this process, {args.connections} connections closed loop, then "
        f"{args.open_connections} connections at a fixed rate; unit: invisible, proof of work 1"
    )
    phases = []
    with tempfile.TemporaryDirectory(prefix="hg-e2e-") as tmp:
        for store in [s.strip() for s in args.store.split(",") if s.strip()]:
            phases += bench_store(args, store, Path(tmp))
    print(
        f"\n{'phase':<20} {'offered':>8} {'loops/s':>8} {'per core':>9} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'max ms':>7} {'fail':>5}  cores used"
    )
    for phase in phases:
        print_phase(phase)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
