"""Malformed requests against a live node on PostgreSQL, over real HTTP: how many got a 5xx.

    .venv/bin/python -m bench.malformed [--requests 2000]

Starts a private PostgreSQL cluster and a `humangate serve` on it, then sends requests drawn
from the fuzz suite's generators (tests/api/test_fuzz_edges.py: deep nesting, NUL and lone
surrogates, huge numbers, wrong types, in JSON, form and multipart bodies under any content type,
odd Origin headers) to siteverify's three paths and the challenge, answer, feedback and privacy
routes, over one keep-alive connection. Prints the count of each status (`reset`: the server
dropped the connection) and exits 1 on any 5xx or reset.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
from collections import Counter
from pathlib import Path

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.test_fuzz_edges import (
    CONTENT_TYPES,
    SITEVERIFY_FIELDS,
    form_bodies,
    json_bodies,
    latin1_headers,
    multipart_bodies,
)
from tests.live import humangate_env, running_server
from tests.test_db_outage import PostgresCluster

PATHS = [
    "/siteverify",
    "/recaptcha/api/siteverify",
    "/turnstile/v0/siteverify",
    "/api/v1/challenges",
    "/api/v1/challenges/AAAAAAAAAAAAAAAAAAAA/answer",
    "/api/v1/feedback",
    "/privacy/device",
]
# HTTP/1.1 allows a header value tab, space, visible ASCII and bytes 0x80-0xFF, nothing else.
_WIRE_FORBIDDEN = {code: None for code in [*range(0x09), *range(0x0A, 0x20), 0x7F]}
FIELDS = [*SITEVERIFY_FIELDS, "sitekey", "signals", "pow", "answer", "env", "label"]


def send_all(client: httpx.Client, count: int, statuses: Counter[int | str]) -> None:
    @settings(
        max_examples=count,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        path=st.sampled_from(PATHS),
        body=st.one_of(json_bodies(FIELDS), form_bodies(FIELDS), multipart_bodies(FIELDS)),
        content_type=st.sampled_from(CONTENT_TYPES),
        origin=latin1_headers().map(lambda value: value.translate(_WIRE_FORBIDDEN).strip()),
    )
    def send(path: str, body: bytes, content_type: str, origin: str) -> None:
        headers = {"Content-Type": content_type, "Origin": origin.encode("latin-1")}
        try:
            statuses[client.post(path, content=body, headers=headers).status_code] += 1
        except httpx.TransportError:
            statuses["reset"] += 1  # the server dropped the connection: a failure too

    send()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    # A `timeout` or a Ctrl-C still stops the cluster and the node (the `finally` below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    workdir = Path(tempfile.mkdtemp(prefix="hg-bench-malformed-"))
    cluster = PostgresCluster(workdir)
    cluster.start()
    statuses: Counter[int | str] = Counter()
    try:
        env = humangate_env(workdir / "node", database_url=cluster.url, unit_cache_seconds="0")
        with running_server(env) as server, httpx.Client(base_url=server.url, timeout=30) as c:
            send_all(c, args.requests, statuses)
    finally:
        cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    total = sum(statuses.values())
    failed = sum(n for status, n in statuses.items() if status == "reset" or int(status) >= 500)
    print(
        f"{total} requests: " + ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items(), key=str))
    )
    print(f"5xx or reset: {failed}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
