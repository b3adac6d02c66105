"""Siteverify throughput and latency on the real server, against the server's own ceiling.

    .venv/bin/python -m bench.siteverify [--workers 1,2] [--server uvicorn,granian] [--profile]

The ceiling: for each server and worker count, a bare Starlette hello-JSON app and a plain ASGI
one (bench/_served.py) are served first by the same server with the same options, and driven by
the same wrk; their rates are what no app can beat there, so the ratios printed (siteverify and
/livez against the Starlette ceiling, /livez p99 against the ceiling's p99) hold on a loaded
machine where absolute figures do not. Every app runs inside bench._served's loop-lag probe,
which reports how late the event loop woke a 5 ms timer during each phase (p99, max) and the
garbage collector's full collections.

Then, for each worker count, it starts a throwaway redis-server and the server on free loopback
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

Targets (issue 12): siteverify rps >= 0.5 of the Starlette ceiling; /livez p99 at 64 connections
within 2x the ceiling's p99; no event-loop stall over 20 ms under load (the lag probe's max in the
open-loop phase, where the server is not saturated: at saturation each turn of the loop runs the
requests of every ready connection, so the lag there is a batch of up to 64 requests, shown for
comparison with the ceiling's); siteverify p99 < 10 ms at a fixed rate.
`--serve` measures `humangate serve` itself (no lag probe) instead of bench._served's copy.
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
    served,
    server_env,
    store_one_token,
    unit_id,
    wait_idle,
    worker_pids,
)
from bench._profile import profile, summarize_profile
from bench._served import LAG_PATH

TARGET_RATIO = 0.5  # siteverify rps / ceiling rps
TARGET_LIVEZ_P99 = 2.0  # livez p99 / ceiling p99 at 64 connections
TARGET_LAG_MS = 20.0
TARGET_P99_MS = 10.0
EXHAUSTED = "exhausted" * 5 + "xxx"  # what the open loop sends once the tokens run out
_PACKAGES = (
    "fastapi",
    "starlette",
    "uvicorn",
    "granian",
    "uvloop",
    "httptools",
    "redis",
    "hiredis",
)
CEILINGS = ("starlette", "ceiling")  # bench._served's apps: Starlette, plain ASGI


# --------------------------------------------------------------------------- one configuration


@dataclass
class Report:
    workers: int
    server: str
    ceilings: dict[str, Result]
    livez: Result
    siteverify: Result
    open_loop: Result | None
    consumed: int
    tokens: int
    lags: dict[str, dict[str, float]]  # phase -> the lag probe's window (ms)
    profile_text: str = ""

    @property
    def ceiling(self) -> Result:
        return self.ceilings["starlette"]


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
        self.lags: dict[str, dict[str, float]] = {}

    def lag(self, phase: str = "") -> None:
        """Close the lag probe's window (recorded under `phase` when given)."""
        if not self.args.serve:
            status, window = http_call(self.port, "GET", LAG_PATH)
            if phase and status == 200:
                self.lags[phase] = window

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
        self.lag()
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
        self.lag()
        livez = self.wrk_livez(args.duration)
        self.lag("livez")
        siteverify, consumed = self.measure_siteverify()
        self.lag("siteverify")
        open_loop = None
        if args.rate or args.rate_fraction:
            open_loop = self.open_loop(args.rate or args.rate_fraction * siteverify.rps)
            self.lag("siteverify open")
        report = Report(
            workers,
            args.server_now,
            {},
            livez,
            siteverify,
            open_loop,
            consumed,
            len(self.tokens),
            self.lags,
        )
        if args.profile:
            report.profile_text = self.profile(workers)
        return report


def measure_ceiling(
    args: argparse.Namespace, app: str, env: dict[str, str], workdir: Path, redis_url: str
) -> tuple[Result, dict[str, float]]:
    """wrk against bench._served's `app` (a hello JSON) under the server being measured."""
    with humangate_server(env, workdir, served(app, args.server_now)) as server:
        port = int(env["HUMANGATE_PORT"])
        meter = CpuMeter(worker_pids(server), redis_pid(redis_url))
        setup = WrkSetup(args.connections, args.threads, meter, workdir, args.verbose)
        url = f"http://{HOST}:{port}/livez"
        if args.warmup:
            run_wrk(setup, url, workdir / "livez.lua", [], args.warmup, "warm-up")
        http_call(port, "GET", LAG_PATH)
        result = run_wrk(setup, url, workdir / "livez.lua", [], args.duration, f"ceiling {app}")
        return result, http_call(port, "GET", LAG_PATH)[1]


def bench_workers(args: argparse.Namespace, workers: int, root: Path) -> Report:
    workdir = root / f"{args.server_now}-workers-{workers}"
    data_dir = workdir / "data"
    data_dir.mkdir(parents=True)
    key_text = secrets.token_urlsafe(36)  # 48 characters
    key = key_text.encode()
    (workdir / "livez.lua").write_text(LUA_LIVEZ)
    with redis_server(workdir) as redis_url:
        port = free_port()
        env = server_env(data_dir, port, redis_url, key_text, workers)
        ceilings, ceiling_lags = {}, {}
        for app in CEILINGS:
            ceilings[app], ceiling_lags[f"ceiling {app}"] = measure_ceiling(
                args, app, env, workdir, redis_url
            )
            print(f"ceiling {app}: {ceilings[app].rps:.0f} rps, p99 {ceilings[app].p99:.2f} ms")
        unit = create_unit(env)
        uid = unit_id(data_dir, unit["sitekey"])
        command = None if args.serve else served("humangate", args.server_now)
        with humangate_server(env, workdir, command) as server:
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
            report = session.run(workers)
            report.ceilings = ceilings
            report.lags = {**ceiling_lags, **report.lags}
            return report


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
    print(f"server {report.server}, workers={report.workers}")
    print(header)
    print("-" * len(header))
    results = [*report.ceilings.values(), report.livez, report.siteverify]
    results += [report.open_loop] if report.open_loop else []
    for result in results:
        print(_row(result, connections))
    c, s, livez, o = report.ceiling, report.siteverify, report.livez, report.open_loop
    ratio = s.rps / c.rps
    print(
        f"siteverify/ceiling rps: {ratio:.2f}  (target >= {TARGET_RATIO}: "
        f"{_verdict(ratio >= TARGET_RATIO)}); livez/ceiling {livez.rps / c.rps:.2f}; against "
        f"plain ASGI {s.rps / report.ceilings['ceiling'].rps:.2f} and "
        f"{livez.rps / report.ceilings['ceiling'].rps:.2f}"
    )
    print(
        f"by server CPU per request (steadier on a shared machine): ceiling {c.cpu_us:.0f} µs, "
        f"livez {livez.cpu_us:.0f} µs, siteverify {s.cpu_us:.0f} µs: siteverify keeps "
        f"{c.cpu_us / s.cpu_us:.2f} of the ceiling, livez {c.cpu_us / livez.cpu_us:.2f}"
    )
    p99_ratio = livez.p99 / c.p99
    print(
        f"livez p99 / ceiling p99 at {connections} connections: {livez.p99:.2f} / {c.p99:.2f} ms "
        f"= {p99_ratio:.2f}  (target <= {TARGET_LIVEZ_P99:g}: "
        f"{_verdict(p99_ratio <= TARGET_LIVEZ_P99)}); max {livez.max:.0f} / {c.max:.0f} ms"
    )
    print(
        f"siteverify p99 at {connections} connections, saturated: {s.p99:.2f} ms; "
        f"Little's law floor {1000 * connections / s.rps:.2f} ms mean"
    )
    if o:
        print(
            f"siteverify p99 at a fixed {o.offered:.0f} rps over {connections} connections: "
            f"{o.p99:.2f} ms (p99.9 {o.p999:.2f}, target < {TARGET_P99_MS:g} ms: "
            f"{_verdict(o.p99 < TARGET_P99_MS)})"
        )
    print_lags(report)
    print(
        f"success path: {s.ok} of {s.ok + s.bad} answers success:true, {s.non_2xx} non-2xx, "
        f"{report.consumed} tokens consumed in Redis (of {report.tokens} minted)"
    )
    for result in results:
        for note in result.notes:
            print(f"NOTE {result.name}: {note}")


def print_lags(report: Report) -> None:
    """The loop-lag probe's windows; the stall target is judged where the loop is not full."""
    if not report.lags:
        return
    print(
        "event-loop lag, ms late on a 5 ms timer (wall; cpu = the part the loop's own thread ran,"
        " without the time other processes took the core; gc2 = full collections, longest ms):"
    )
    for phase, lag in report.lags.items():
        print(
            f"  {phase:<18} wall p50 {lag['p50']:6.2f} p99 {lag['p99']:6.2f} max {lag['max']:6.2f}"
            f" | cpu p99 {lag['cpu_p99']:6.2f} max {lag['cpu_max']:6.2f}"
            f" | ticks {lag['ticks']:5.0f}  gc2 {lag['gc2']:.0f} ({lag['gc2_max']:.1f} ms)"
        )
    fixed = report.lags.get("siteverify open")
    if fixed:
        print(
            f"stall at a fixed rate: the loop's own max {fixed['cpu_max']:.1f} ms, p99 "
            f"{fixed['cpu_p99']:.1f} ms (target max <= {TARGET_LAG_MS:g} ms: "
            f"{_verdict(fixed['cpu_max'] <= TARGET_LAG_MS)}); wall max {fixed['max']:.1f} ms; at "
            "saturation a turn of the loop runs every ready connection's request, compare with "
            "the ceiling's"
        )


def print_summary(reports: list[Report]) -> None:
    print("\n== summary ==")
    for r in reports:
        at_rate = (
            f", {r.open_loop.p99:.2f} ms at {r.open_loop.offered:.0f} rps" if r.open_loop else ""
        )
        fixed = r.lags.get("siteverify open")
        lag = (
            f", loop stall max {fixed['cpu_max']:.1f} ms (wall lag {fixed['max']:.1f}) at that rate"
            if fixed
            else ""
        )
        print(
            f"{r.server} workers={r.workers}: ceiling {r.ceiling.rps:.0f} rps (p99 "
            f"{r.ceiling.p99:.1f} ms), livez {r.livez.rps:.0f} (p99 {r.livez.p99:.1f} ms), "
            f"siteverify {r.siteverify.rps:.0f} rps = {r.siteverify.rps / r.ceiling.rps:.2f} of "
            f"the ceiling ({r.ceiling.cpu_us / r.siteverify.cpu_us:.2f} by CPU per request), "
            f"p99 {r.siteverify.p99:.2f} ms saturated{at_rate}{lag}"
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
        f"  server: {'humangate serve' if args.serve else 'bench._served humangate'} on "
        f"{args.server}, HUMANGATE_WORKERS in {args.worker_counts}; uvicorn "
        f"loop=auto -> {loop}, http=auto -> {http}; granian asgi, loop uvloop; access log off, "
        "log level warning\n"
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
    add(
        "--server",
        default="uvicorn",
        help="comma-separated ASGI servers to measure: uvicorn (what `humangate serve` runs), "
        "granian",
    )
    add("--serve", action="store_true", help="measure `humangate serve` itself (uvicorn only)")
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
    args.servers = [name.strip() for name in str(args.server).split(",") if name.strip()]
    if args.serve and args.servers != ["uvicorn"]:
        parser.error("--serve runs uvicorn: `humangate serve` knows no other server")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print_setup(args)
    reports = []
    with tempfile.TemporaryDirectory(prefix="hg-bench-") as tmp:
        for server in args.servers:
            args.server_now = server
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
    print_summary(reports)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
