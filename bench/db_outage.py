"""How fast a node answers while its PostgreSQL is stopped or frozen, and how soon it recovers.

    .venv/bin/python -m bench.db_outage [--requests 20]

Starts a private PostgreSQL cluster and a `humangate serve` on it (production timeouts, the unit
cache off so every request asks the database), then for each state (up, stopped with
`pg_ctl -m immediate`, frozen with SIGSTOP) times requests one after another: a challenge for
the unit's site key, a siteverify with its secret, /readyz. Prints the median and the maximum
in ms and the answers seen, and the time from the database's return to /readyz's 200.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from bench._machine import print_facts
from tests.live import create_unit_cli, humangate_env, running_server
from tests.test_db_outage import PostgresCluster

SETTINGS = {"unit_cache_seconds": "0", "demo": "false"}
Probe = Callable[[httpx.Client], httpx.Response]


def _probes(sitekey: str, secret: str) -> dict[str, Probe]:
    return {
        "challenge": lambda c: c.post("/api/v1/challenges", json={"sitekey": sitekey}),
        "siteverify": lambda c: c.post("/siteverify", data={"secret": secret, "response": "x"}),
        "readyz": lambda c: c.get("/readyz"),
    }


def _time(client: httpx.Client, probe: Probe, count: int) -> str:
    took, seen = [], set()
    for _ in range(count):
        start = time.perf_counter()
        reply = probe(client)
        took.append((time.perf_counter() - start) * 1000)
        body = reply.json()
        codes = ",".join(body.get("error-codes", []))
        seen.add(f"{reply.status_code} {body.get('error') or body.get('status') or codes}")
    return f"median {statistics.median(took):7.1f} ms  max {max(took):7.1f} ms  {sorted(seen)}"


def _recovery(client: httpx.Client) -> float:
    start = time.perf_counter()
    while client.get("/readyz").status_code != 200:
        time.sleep(0.01)
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    # A `timeout` or a Ctrl-C still stops the cluster and the node (the `finally` below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    print_facts()
    workdir = Path(tempfile.mkdtemp(prefix="hg-bench-pg-"))
    cluster = PostgresCluster(workdir)
    cluster.start()
    try:
        env = humangate_env(workdir / "node", database_url=cluster.url, **SETTINGS)
        with running_server(env) as server:
            keys = create_unit_cli(server.env, "--domain", "localhost", "--mode", "invisible")
            probes = _probes(keys["sitekey"], keys["secret"])
            headers = {"Origin": "http://localhost"}
            with httpx.Client(base_url=server.url, headers=headers, timeout=60) as client:
                for name, probe in probes.items():
                    print(f"up       {name:10} {_time(client, probe, args.requests)}")
                cluster.crash()
                for name, probe in probes.items():
                    print(f"stopped  {name:10} {_time(client, probe, args.requests)}")
                cluster.start()
                print(f"stopped  recovery   {_recovery(client):7.1f} ms after pg_ctl start")
                cluster.signal_all(signal.SIGSTOP)
                try:
                    for name, probe in probes.items():
                        print(f"frozen   {name:10} {_time(client, probe, 3)}")
                finally:
                    cluster.signal_all(signal.SIGCONT)
                print(f"frozen   recovery   {_recovery(client):7.1f} ms after SIGCONT")
    finally:
        cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
