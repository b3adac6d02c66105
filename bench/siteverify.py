"""Siteverify throughput and latency on the real server, against the no-I/O `/livez` baseline.

    .venv/bin/python -m bench.siteverify [--workers 1,2] [--duration 10] [--profile]

For each worker count it starts a throwaway redis-server and `humangate serve` on free loopback
ports, creates a unit through the CLI, pre-mints valid and distinct pass tokens exactly as
`Verifier._mint` does and stores them in Redis, checks one of them through a real siteverify call
(`success: true`, then `timeout-or-duplicate`), and drives both endpoints with wrk (closed loop,
64 keep-alive connections, a fresh token for every siteverify request). Every siteverify answer
is checked for `"success":true` and the tokens consumed in Redis are counted, so the numbers are
those of the success path. An open-loop phase then offers a fixed rate below saturation (half
the measured siteverify rps by default), where a latency target means something: at saturation a
closed loop's latency is set by Little's law (64 connections / rps). `--profile` adds a py-spy
phase under siteverify load and prints where the server's time goes.

Columns: `µs/req` is the server's CPU time per answer; `cores used` splits the machine between the
server (and each worker), Redis, the load generator and `other` processes, which flag a shared
machine. The headline is workers=1: on 2 cores the load generator and Redis need about a fifth
of a core, so one worker gets a whole core, while two workers compete with them.

Targets: siteverify_rps / livez_rps >= 0.6, and siteverify p99 < 10 ms at 64 connections.
Everything runs on 127.0.0.1 and stops by itself; every process started here is stopped here.
Helpers: bench._procs (processes, CPU), bench._load (wrk, open loop), bench._profile (py-spy).
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench._load import (
    LUA_LIVEZ,
    LUA_SITEVERIFY,
    OpenLoop,
    Result,
    WrkSetup,
    run_open_loop,
    run_wrk,
)
from bench._machine import print_facts
from bench._procs import (
    HOST,
    CpuMeter,
    create_unit,
    free_port,
    http_call,
    humangate_server,
    loaded_extensions,
    premint,
    redis_keys,
    redis_pid,
    redis_server,
    server_env,
    store_one_token,
    unit_id,
    wait_idle,
    worker_pids,
)
from bench._profile import profile, summarize_profile

TARGET_RATIO = 0.6
TARGET_P99_MS = 10.0
EXHAUSTED = "exhausted" * 5 + "xxx"  # what the open loop sends once the tokens run out
_PACKAGES = ("fastapi", "starlette", "uvicorn", "uvloop", "httptools", "redis", "hiredis")


# --------------------------------------------------------------------------- one configuration


@dataclass
class Report:
    workers: int
    livez: Result
    siteverify: Result
    open_loop: Result | None
    consumed: int
    tokens: int
    profile_text: str = ""


class Session:
    """One running server with its unit and pre-minted tokens; every token is sent once."""

    def __init__(
        self,
        args: argparse.Namespace,
        workdir: Path,
        server: Any,
        port: int,
        redis_url: str,
        secret: str,
    ) -> None:
        self.args = args
        self.workdir = workdir
        self.server = server
        self.port = port
        self.redis_url = redis_url
        self.watch = worker_pids(server)
        self.meter = CpuMeter(self.watch, redis_pid(redis_url))
        self.wrk = WrkSetup(args.connections, args.threads, self.meter, workdir, args.verbose)
        self.secret = quote(secret)  # the unit's
        self.tokens: list[str] = []
        self.offset = 0  # the first token not sent yet

    def check_success_path(self, token: str) -> None:
        """A fresh token verifies once, then is a duplicate."""
        body = f"secret={self.secret}&response={quote(token)}"
        status, first = http_call(self.port, "POST", "/siteverify", body)
        if status != 200 or first.get("success") is not True:
            raise SystemExit(f"siteverify of a fresh token failed: {status} {first}")
        status, second = http_call(self.port, "POST", "/siteverify", body)
        if second.get("error-codes") != ["timeout-or-duplicate"]:
            raise SystemExit(f"second siteverify was not a duplicate: {status} {second}")
        print("check: fresh token -> success:true; same token again -> timeout-or-duplicate")

    def use_tokens(self, tokens: list[str]) -> None:
        """Hand `tokens` to wrk (a file, one url-quoted token a line) and write wrk's scripts."""
        self.tokens = tokens
        (self.workdir / "tokens.txt").write_text("\n".join(quote(t) for t in tokens) + "\n")
        (self.workdir / "livez.lua").write_text(LUA_LIVEZ)
        (self.workdir / "siteverify.lua").write_text(LUA_SITEVERIFY)

    def wrk_livez(self, seconds: float) -> Result:
        url = f"http://{HOST}:{self.port}/livez"
        return run_wrk(self.wrk, url, self.workdir / "livez.lua", [], seconds, "livez")

    def wrk_verify(self, seconds: float, name: str) -> Result:
        url = f"http://{HOST}:{self.port}/siteverify"
        script = self.workdir / "siteverify.lua"
        token_file = str(self.workdir / "tokens.txt")
        args = [token_file, str(self.offset), str(self.args.threads), self.secret]
        result = run_wrk(self.wrk, url, script, args, seconds, name)
        if result.last_token >= len(self.tokens) - 1 or result.last_token < 0:
            result.notes.append("tokens ran out: raise --tokens")
        self.offset = max(self.offset, result.last_token + 1)
        return result

    def measure_siteverify(self) -> tuple[Result, int]:
        """The closed-loop siteverify phase and the tokens it consumed in Redis."""
        if self.args.warmup:
            self.wrk_verify(self.args.warmup, "warm-up")
        time.sleep(0.3)  # requests still in flight when wrk stopped finish
        before = redis_keys(self.redis_url)
        result = self.wrk_verify(self.args.duration, "siteverify")
        time.sleep(0.3)
        consumed = before - redis_keys(self.redis_url)
        if not result.ok <= consumed <= result.ok + self.args.connections:
            result.notes.append(f"Redis lost {consumed} tokens for {result.ok} successes: mismatch")
        return result, consumed

    def next_request(self) -> bytes:
        """The open loop's next siteverify request, with the next unsent token."""
        token = self.tokens[self.offset] if self.offset < len(self.tokens) else EXHAUSTED
        self.offset = min(self.offset + 1, len(self.tokens))
        form = f"secret={self.secret}&response={quote(token)}"
        return (
            f"POST /siteverify HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(form)}\r\n\r\n{form}"
        ).encode()

    def open_loop(self, rate: float) -> Result:
        generator = OpenLoop(self.port, self.next_request, b'"success":true', self.args.connections)
        return run_open_loop(
            generator, self.meter, rate, self.args.rate_duration, "siteverify open"
        )

    def profile(self, workers: int) -> str:
        """Sample the server under siteverify load; where its time goes."""
        out = self.workdir / "siteverify.stacks"
        seconds = self.args.duration
        profile(self.server.pid, seconds, out, lambda: self.wrk_verify(seconds, "profiled"))
        if self.args.profile_dir:
            target = Path(self.args.profile_dir)
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy(out, target / f"siteverify-workers{workers}.stacks")
        return summarize_profile(out, self.args.top)

    def run(self, workers: int) -> Report:
        """livez, then siteverify (closed loop, then open loop), then the profile if asked."""
        args = self.args
        if args.warmup:
            self.wrk_livez(args.warmup)
        livez = self.wrk_livez(args.duration)
        siteverify, consumed = self.measure_siteverify()
        open_loop = None
        if args.rate or args.rate_fraction:
            open_loop = self.open_loop(args.rate or args.rate_fraction * siteverify.rps)
        report = Report(workers, livez, siteverify, open_loop, consumed, len(self.tokens))
        if args.profile:
            report.profile_text = self.profile(workers)
        return report


def bench_workers(args: argparse.Namespace, workers: int, root: Path) -> Report:
    workdir = root / f"workers-{workers}"
    data_dir = workdir / "data"
    data_dir.mkdir(parents=True)
    key_text = secrets.token_urlsafe(36)  # 48 characters
    key = key_text.encode()
    with redis_server(workdir) as redis_url:
        port = free_port()
        env = server_env(data_dir, port, redis_url, key_text, workers)
        unit = create_unit(env)
        uid = unit_id(data_dir, unit["sitekey"])
        with humangate_server(env, workdir) as server:
            session = Session(args, workdir, server, port, redis_url, unit["secret"])
            print(
                f"\n== workers={workers}: server pid {server.pid}, worker pids {session.watch}, "
                f"port {port}, redis {redis_url}, unit id {uid} =="
            )
            print(f"server processes: {loaded_extensions(session.watch)}")
            session.check_success_path(store_one_token(redis_url, key, uid))
            started = time.perf_counter()
            session.use_tokens(premint(redis_url, key, uid, args.tokens))
            print(f"pre-minted {args.tokens} tokens in {time.perf_counter() - started:.1f} s")
            return session.run(workers)


# --------------------------------------------------------------------------- output


def _row(result: Result, connections: int) -> str:
    cpu = " ".join(f"{k} {v:.2f}" for k, v in result.cpu.items())
    return (
        f"{result.name:<16} {connections!s:>5} {result.rps:>9.0f} {result.p50:>7.2f} "
        f"{result.p99:>7.2f} {result.max:>8.2f} {result.errors:>6} "
        f"{result.ok:>8}/{result.ok + result.bad:<8} {result.cpu_us:>6.0f}  {cpu}"
    )


def _verdict(passed: bool) -> str:
    return "PASS" if passed else "MISS"


def print_report(report: Report, connections: int) -> None:
    header = (
        f"{'endpoint':<16} {'conns':>5} {'rps':>9} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>8} "
        f"{'errors':>6} {'ok/answers':>17} {'µs/req':>6}  cores used"
    )
    print(header)
    print("-" * len(header))
    results = [r for r in (report.livez, report.siteverify, report.open_loop) if r]
    for result in results:
        print(_row(result, connections))
    s, livez, o = report.siteverify, report.livez, report.open_loop
    ratio = s.rps / livez.rps
    print(
        f"siteverify/livez rps ratio: {ratio:.2f}  (target >= {TARGET_RATIO}: "
        f"{_verdict(ratio >= TARGET_RATIO)}); by server CPU per request "
        f"{livez.cpu_us:.0f}/{s.cpu_us:.0f} µs = {livez.cpu_us / s.cpu_us:.2f}"
    )
    print(
        f"siteverify p99 at {connections} connections, saturated: {s.p99:.2f} ms  "
        f"(target < {TARGET_P99_MS:g} ms: {_verdict(s.p99 < TARGET_P99_MS)}); "
        f"Little's law floor {1000 * connections / s.rps:.2f} ms mean"
    )
    if o:
        print(
            f"siteverify p99 at a fixed {o.offered:.0f} rps over {connections} connections: "
            f"{o.p99:.2f} ms (p99.9 {o.p999:.2f}, target < {TARGET_P99_MS:g} ms: "
            f"{_verdict(o.p99 < TARGET_P99_MS)})"
        )
    print(
        f"success path: {s.ok} of {s.ok + s.bad} answers success:true, {s.non_2xx} non-2xx, "
        f"{report.consumed} tokens consumed in Redis (of {report.tokens} minted)"
    )
    for result in results:
        for note in result.notes:
            print(f"NOTE {result.name}: {note}")


def print_summary(reports: list[Report]) -> None:
    print("\n== summary ==")
    for r in reports:
        at_rate = (
            f", {r.open_loop.p99:.2f} ms at {r.open_loop.offered:.0f} rps" if r.open_loop else ""
        )
        print(
            f"workers={r.workers}: livez {r.livez.rps:.0f} rps, siteverify "
            f"{r.siteverify.rps:.0f} rps (ratio {r.siteverify.rps / r.livez.rps:.2f}), "
            f"siteverify p99 {r.siteverify.p99:.2f} ms saturated{at_rate}"
        )


def _version(command: list[str]) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=False).stdout


def print_setup(args: argparse.Namespace) -> None:
    """The machine (bench._machine's facts plus memory and OS), the stack and the load."""
    from humangate.config import Settings

    print_facts()
    meminfo = Path("/proc/meminfo").read_text().split()
    memory = int(meminfo[meminfo.index("MemTotal:") + 1]) / 1024 / 1024
    found = re.search(r'^PRETTY_NAME="?([^"\n]*)', Path("/etc/os-release").read_text(), re.M)
    versions = []
    for name in _PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} -")
    print(f"{'memory':>8}: {memory:.1f} GiB")
    print(f"{'os':>8}: {found.group(1) if found else '?'}, kernel {os.uname().release}")
    print(f"{'web':>8}: {', '.join(versions)}")
    loop = "uvloop" if find_spec("uvloop") else "asyncio"
    http = "httptools" if find_spec("httptools") else "h11"
    redis_version = " ".join(_version(["redis-server", "--version"]).split()[2:3])
    wrk_version = _version(["wrk", "-v"])
    cache = float(Settings.model_fields["unit_cache_seconds"].default)
    print(
        f"  server: humangate serve, HUMANGATE_WORKERS in {args.worker_counts}, uvicorn "
        f"loop=auto -> {loop}, http=auto -> {http}, access log off, log level warning\n"
        f"   store: Redis ({redis_version}, no persistence) through redis-py asyncio (hiredis "
        f"parser: {'yes' if find_spec('hiredis') else 'no'}); SQLite unit directory, cache "
        f"HUMANGATE_UNIT_CACHE_SECONDS default {cache} s\n"
        f"  client: {wrk_version.splitlines()[0] if wrk_version else 'wrk'}\n"
        f"    load: wrk -t{args.threads} -c{args.connections}, {args.warmup:g} s warm-up + "
        f"{args.duration:g} s per endpoint, closed loop; open loop at "
        f"{args.rate or args.rate_fraction} {'rps' if args.rate else 'x saturation'} for "
        f"{args.rate_duration:g} s"
    )


# --------------------------------------------------------------------------- command line


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.siteverify",
        description=__doc__.split("\n\n", 1)[0] if __doc__ else None,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add = parser.add_argument
    add(
        "--workers",
        default="1,2",
        help="comma-separated HUMANGATE_WORKERS values to measure, each on a fresh server",
    )
    add("--connections", type=int, default=64, help="keep-alive connections")
    add("--threads", type=int, default=1, help="wrk threads")
    add("--duration", type=float, default=10.0, help="seconds per measured run")
    add("--warmup", type=float, default=2.0, help="seconds of warm-up per endpoint")
    add("--tokens", type=int, default=300_000, help="pass tokens pre-minted per worker count")
    add(
        "--rate-fraction",
        type=float,
        default=0.5,
        help="open-loop phase at this fraction of the measured siteverify rps (0: skip)",
    )
    add("--rate", type=float, default=0.0, help="open-loop rate in rps (overrides the fraction)")
    add("--rate-duration", type=float, default=5.0, help="seconds of the open-loop phase")
    add("--profile", action="store_true", help="also sample the server with py-spy under load")
    add("--profile-dir", default="", help="keep py-spy's collapsed stacks here")
    add("--top", type=int, default=20, help="functions listed per profile table")
    add(
        "--wait-idle",
        type=float,
        default=0.0,
        help="before each worker count, wait up to this many seconds for an idle machine",
    )
    add("--verbose", action="store_true", help="print wrk's own reports")
    args = parser.parse_args(argv)
    args.worker_counts = [int(w) for w in str(args.workers).split(",") if w.strip()]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print_setup(args)
    reports = []
    with tempfile.TemporaryDirectory(prefix="hg-bench-") as tmp:
        for workers in args.worker_counts:
            if args.wait_idle:
                load = wait_idle(args.wait_idle)
                print(f"\nmachine load before workers={workers}: {load:.2f} cores")
            report = bench_workers(args, workers, Path(tmp))
            reports.append(report)
            print()
            print_report(report, args.connections)
            if report.profile_text:
                print()
                print(report.profile_text)
    if len(reports) > 1:
        print_summary(reports)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
