"""The Redis store against its ceiling, and a frozen Redis against the timeouts.

    .venv/bin/python -m bench.redis_store [--ops 20000] [--concurrency 1 32]

1. One spend (`put` then `take`, two round trips) through RedisStore against the same two
   commands through a bare redis-py client (the ceiling), on one fresh redis-server without
   persistence, at each concurrency, one process, one event loop: spends a second, and the
   client process's CPU per spend (steadier than the rate on a shared machine).
2. A frozen Redis (SIGSTOP): how long a command and a PING take to fail with the default
   settings (`RedisOptions()`), and how long after SIGCONT the store answers again.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable

import redis.asyncio

from bench._machine import print_facts
from humangate.errors import StorageError
from humangate.store import RedisOptions
from humangate.store.redis import RedisStore


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_redis(workdir: str) -> tuple[subprocess.Popen[bytes], int]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")
    port = _free_port()
    # fmt: off
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", workdir],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )
    # fmt: on
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return process, port
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("redis-server did not start")


async def _rate(
    ops: int, concurrency: int, spend: Callable[[int], Awaitable[None]]
) -> tuple[float, float]:
    """Spends per second of wall time, and this process's CPU microseconds per spend (which a
    busy machine disturbs less than the wall clock)."""
    counter = iter(range(ops))

    async def worker() -> None:
        for i in counter:
            await spend(i)

    start, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return ops / (time.perf_counter() - start), (time.process_time() - cpu) / ops * 1e6


async def _throughput(url: str, ops: int, concurrencies: list[int]) -> None:
    bare = redis.asyncio.Redis.from_url(url, max_connections=64)
    store = RedisStore(url, prefix="bench")

    async def bare_spend(i: int) -> None:
        await bare.set(f"bare:token:{i}", b"x" * 200, px=60_000)
        await bare.getdel(f"bare:token:{i}")

    async def store_spend(i: int) -> None:
        await store.put("token", str(i), b"x" * 200, 60)
        await store.take("token", str(i))

    print(
        f"\n{'concurrency':>11}  {'bare redis-py':>22}  {'RedisStore':>22}  rate ratio  CPU ratio"
    )
    for concurrency in concurrencies:
        await _rate(min(ops, 2000), concurrency, store_spend)  # warm both pools
        await _rate(min(ops, 2000), concurrency, bare_spend)
        ceiling, ceiling_cpu = await _rate(ops, concurrency, bare_spend)
        ours, ours_cpu = await _rate(ops, concurrency, store_spend)
        print(
            f"{concurrency:>11}  {ceiling:>6.0f} /s {ceiling_cpu:>6.0f} µs CPU  "
            f"{ours:>6.0f} /s {ours_cpu:>6.0f} µs CPU  {ours / ceiling:>10.2f}  "
            f"{ours_cpu / ceiling_cpu:>9.2f}"
        )
    await bare.aclose()
    await store.close()


async def _frozen(url: str, process: subprocess.Popen[bytes]) -> None:
    options = RedisOptions()
    store = RedisStore(url, options=options)
    await store.put("ns", "warm", b"v", 60)
    failures: list[float] = []
    pings: list[float] = []
    os.kill(process.pid, signal.SIGSTOP)
    try:
        for _ in range(5):
            start = time.perf_counter()
            try:
                await store.get("ns", "warm")
            except StorageError:
                failures.append(time.perf_counter() - start)
            start = time.perf_counter()
            assert await store.ping() is False
            pings.append(time.perf_counter() - start)
    finally:
        os.kill(process.pid, signal.SIGCONT)
    start = time.perf_counter()
    while not await store.ping():
        await asyncio.sleep(0.01)
    back = time.perf_counter() - start
    await store.close()
    print(
        f"\nfrozen Redis (socket timeout {options.socket_timeout} s, connect timeout "
        f"{options.connect_timeout} s): {len(failures)}/5 commands failed with StorageError, "
        f"median {statistics.median(failures):.3f} s, max {max(failures):.3f} s; "
        f"PING false in median {statistics.median(pings):.3f} s, max {max(pings):.3f} s; "
        f"answering again {back:.3f} s after SIGCONT"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 32])
    args = parser.parse_args()
    print_facts()
    with tempfile.TemporaryDirectory(prefix="hg-bench-redis-") as workdir:
        process, port = _start_redis(workdir)
        url = f"redis://127.0.0.1:{port}/0"
        try:
            asyncio.run(_throughput(url, args.ops, args.concurrency))
            asyncio.run(_frozen(url, process))
        finally:
            os.kill(process.pid, signal.SIGCONT)
            process.kill()
            process.wait()


if __name__ == "__main__":
    main()
