"""Load generators for the siteverify bench: wrk (closed loop) and an asyncio open loop.

Both return a `Result` with exact counts (answers carrying the expected marker, other 2xx answers,
errors), latency percentiles and the cores each component used during the phase.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import resource
import shutil
import socket
import subprocess
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._procs import HOST, CpuMeter, cpu_notes

# wrk scripts. Each thread keeps every n-th token from `offset` on, counts answers that carry the
# expected marker, and `done` prints one JSON line with the exact numbers (latencies in µs).
_LUA_COMMON = r"""
local threads, counter = {}, 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function response(status, headers, body)
  if status == 200 and string.find(body, marker, 1, true) then ok = ok + 1 else bad = bad + 1 end
end
function done(summary, latency, requests)
  local good, wrong, last = 0, 0, -1
  for _, t in ipairs(threads) do
    good = good + t:get("ok")
    wrong = wrong + t:get("bad")
    if t:get("last") > last then last = t:get("last") end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,' ..
    '"timeout":%d,"p50":%d,"p99":%d,"p999":%d,"max":%d,"ok":%d,"bad":%d,"last":%d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max,
    good, wrong, last))
end
"""

LUA_LIVEZ = (
    _LUA_COMMON
    + r"""
function init(args)
  ok, bad, last = 0, 0, -1
  marker = '"status":"ok"'
end
"""
)

# Arguments: token file, first token line, wrk threads, url-quoted unit secret.
LUA_SITEVERIFY = (
    _LUA_COMMON
    + r"""
local tokens, i, n = {}, 0, 0
local headers = {["Content-Type"] = "application/x-www-form-urlencoded"}
local prefix
function init(args)
  ok, bad, last = 0, 0, -1
  marker = '"success":true'
  local offset, step = tonumber(args[2]), tonumber(args[3])
  prefix = "secret=" .. args[4] .. "&response="
  local line_no = 0
  for line in io.lines(args[1]) do
    if line_no >= offset and (line_no - offset) % step == tid then
      n = n + 1
      tokens[n] = {line_no, line}
    end
    line_no = line_no + 1
  end
end
function request()
  i = i + 1
  local entry = tokens[i]
  local token = "exhausted-exhausted-exhausted-exhausted-exhaust"
  if entry then
    token = entry[2]
    last = entry[1]
  end
  return wrk.format("POST", wrk.path, headers, prefix .. token)
end
"""
)


@dataclass
class Result:
    """One load phase; latencies in milliseconds."""

    name: str
    rps: float
    p50: float
    p99: float
    p999: float
    max: float
    errors: int  # socket errors, timeouts and non-2xx answers
    non_2xx: int
    ok: int  # answers carrying the success marker
    bad: int  # 2xx answers without it
    cpu: dict[str, float] = field(default_factory=dict)  # cores used per component
    notes: list[str] = field(default_factory=list)
    last_token: int = -1  # wrk: the highest token line sent
    offered: float = 0.0  # open loop: the offered rate

    @property
    def cpu_us(self) -> float:
        """Server CPU time per answered request, in µs; less swayed by other load than rps."""
        return self.cpu.get("server", 0.0) * 1e6 / self.rps if self.rps else float("nan")

    def account(self, meter: CpuMeter, seconds: float, client: str, client_cpu: float) -> None:
        self.cpu = meter.cores(seconds, client, client_cpu)
        self.notes += cpu_notes(self.cpu)


# --------------------------------------------------------------------------- wrk, closed loop


@dataclass(frozen=True)
class WrkSetup:
    """What every wrk phase against one server shares."""

    connections: int
    threads: int
    meter: CpuMeter
    workdir: Path
    verbose: bool


def run_wrk(
    setup: WrkSetup, url: str, script: Path, args: list[str], seconds: float, name: str
) -> Result:
    """Drive `url` with wrk and `script` (its arguments `args`) for `seconds`."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    command = [wrk, f"-t{setup.threads}", f"-c{setup.connections}", f"-d{max(1, round(seconds))}s"]
    command += ["--latency", "--timeout", "5s", "-s", str(script), url, "--", *args]
    out_path = setup.workdir / "wrk.out"
    setup.meter.start()
    returncode, wrk_cpu = _wait_wrk(command, out_path)
    setup.meter.stop()
    text = out_path.read_text()
    if setup.verbose:
        print(text)
    match = re.search(r"^BENCH (\{.*\})$", text, re.M)
    if returncode != 0 or match is None:
        raise SystemExit(f"wrk failed ({returncode}):\n{text}")
    data = json.loads(match.group(1))
    result = _wrk_result(name, data, text)
    result.account(setup.meter, data["duration_us"] / 1e6, "wrk", wrk_cpu)
    return result


def _wait_wrk(command: list[str], out_path: Path) -> tuple[int, float]:
    """Run wrk to its end; its exit code and the CPU seconds it used."""
    with open(out_path, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        try:
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:
            process.kill()
            process.wait()
            raise
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_utime + usage.ru_stime


def _wrk_result(name: str, data: dict[str, int], text: str) -> Result:
    """A Result from the script's JSON line, cross-checked against wrk's own text report."""
    shown = re.search(r"Requests/sec:\s+([\d.]+)", text)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    seconds = data["duration_us"] / 1e6
    return Result(
        name=name,
        rps=float(shown.group(1)) if shown else data["requests"] / seconds,
        p50=data["p50"] / 1000,
        p99=data["p99"] / 1000,
        p999=data["p999"] / 1000,
        max=data["max"] / 1000,
        errors=sum(data[k] for k in ("connect", "read", "write", "timeout", "status")),
        non_2xx=int(non_2xx.group(1)) if non_2xx else data["status"],
        ok=data["ok"],
        bad=data["bad"],
        last_token=data["last"],
    )


# --------------------------------------------------------------------------- open loop


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; one request in flight at a time."""

    def __init__(self, generator: OpenLoop) -> None:
        self.generator = generator
        self.transport: Any = None
        self.buffer = bytearray()
        self.started = 0.0
        self.need = -1  # full length of the response being read, once its head is in
        self.status = 0
        self.body_at = 0
        self.busy = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # uvloop's transports are not asyncio.Transport subclasses
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def send(self, started: float, request: bytes) -> None:
        self.started = started
        self.busy = True
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (self.need >= 0 or self._read_head()) and len(self.buffer) >= self.need:
            body = bytes(self.buffer[self.body_at : self.need])
            del self.buffer[: self.need]
            self.need = -1
            self.busy = False
            self.generator.answered(self, self.status, body)

    def _read_head(self) -> bool:
        """Parse the response head once it is all in; False while it is not (or is unusable)."""
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = bytes(self.buffer[:end]).lower()
        at = head.find(b"\r\ncontent-length:")
        if at < 0:
            self.generator.failed(self, "no content-length")
            return False
        stop = head.find(b"\r\n", at + 2)
        length = int(head[at + 17 : stop if stop >= 0 else len(head)])
        self.need = end + 4 + length
        self.status = int(head[9:12])
        self.body_at = end + 4
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self.generator.lost(self)


class OpenLoop:
    """Offers requests at a fixed rate over `connections` keep-alive connections.

    A request waits in a backlog when every connection is busy; its latency runs from the moment
    it was due, so a slow server cannot hide its queue (no coordinated omission).
    """

    def __init__(
        self, port: int, make: Callable[[], bytes], marker: bytes, connections: int
    ) -> None:
        self.port = port
        self.make = make
        self.marker = marker
        self.connections = connections
        self.idle: deque[_Connection] = deque()
        self.backlog: deque[float] = deque()
        self.latencies: list[float] = []
        self.ok = self.bad = self.non_2xx = self.errors = 0
        self.outstanding = 0
        self.drained: asyncio.Event | None = None

    def answered(self, conn: _Connection, status: int, body: bytes) -> None:
        self.latencies.append(time.perf_counter() - conn.started)
        if not 200 <= status < 300:
            self.non_2xx += 1
        elif self.marker in body:
            self.ok += 1
        else:
            self.bad += 1
        self.outstanding -= 1
        self._next(conn)

    def failed(self, conn: _Connection, _why: str) -> None:
        self.errors += 1
        conn.transport.close()

    def lost(self, conn: _Connection) -> None:
        if conn.busy:
            conn.busy = False
            self.errors += 1
            self.outstanding -= 1
        elif conn in self.idle:
            self.idle.remove(conn)
        self._check_drained()

    def _next(self, conn: _Connection) -> None:
        if self.backlog:
            conn.send(self.backlog.popleft(), self.make())
        else:
            self.idle.append(conn)
            self._check_drained()

    def _check_drained(self) -> None:
        if self.drained is not None and self.outstanding <= 0:
            self.drained.set()

    def _offer(self, due: float) -> None:
        self.outstanding += 1
        if self.idle:
            self.idle.popleft().send(due, self.make())
        else:
            self.backlog.append(due)

    async def run(self, rate: float, duration: float) -> float:
        """Offer `rate` requests a second for `duration` seconds; the seconds it really took."""
        loop = asyncio.get_running_loop()
        for _ in range(self.connections):
            _, conn = await loop.create_connection(lambda: _Connection(self), HOST, self.port)
            self.idle.append(conn)
        total = int(rate * duration)
        start = time.perf_counter()
        offered = 0
        while offered < total:
            now = time.perf_counter()
            due = min(total, int((now - start) * rate) + 1)
            # Requests falling due within one timer tick are stamped with the tick's time: the
            # timer's own lateness is the client's, not the server's.
            while offered < due:
                self._offer(now)
                offered += 1
            await asyncio.sleep(0.001)
        elapsed = time.perf_counter() - start
        await self._drain()
        return elapsed

    async def _drain(self) -> None:
        """Wait (up to 10 s) for the answers still due, then close every connection."""
        self.drained = asyncio.Event()
        self._check_drained()
        try:
            await asyncio.wait_for(self.drained.wait(), timeout=10)
        except TimeoutError:
            self.errors += self.outstanding
        for conn in list(self.idle):
            conn.transport.close()

    def result(self, name: str, rate: float, elapsed: float) -> Result:
        latencies = sorted(self.latencies)

        def pct(q: float) -> float:
            if not latencies:
                return float("nan")
            return latencies[min(len(latencies) - 1, int(q / 100 * len(latencies)))] * 1000

        return Result(
            name=name,
            rps=len(latencies) / elapsed,
            p50=pct(50),
            p99=pct(99),
            p999=pct(99.9),
            max=latencies[-1] * 1000 if latencies else float("nan"),
            errors=self.errors + self.non_2xx,
            non_2xx=self.non_2xx,
            ok=self.ok,
            bad=self.bad,
            offered=rate,
        )


def run_open_loop(
    generator: OpenLoop, meter: CpuMeter, rate: float, seconds: float, name: str
) -> Result:
    """Run `generator` at `rate` for `seconds` (under uvloop when it is installed)."""
    try:
        import uvloop

        runner: Callable[[Any], float] = uvloop.run
    except ImportError:
        runner = asyncio.run
    meter.start()
    own = resource.getrusage(resource.RUSAGE_SELF)
    elapsed = runner(generator.run(rate, seconds))
    mine = resource.getrusage(resource.RUSAGE_SELF)
    meter.stop()
    result = generator.result(name, rate, elapsed)
    used = mine.ru_utime + mine.ru_stime - own.ru_utime - own.ru_stime
    result.account(meter, elapsed, "client", used)
    return result
