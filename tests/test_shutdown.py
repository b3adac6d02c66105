"""SIGTERM to a real `humangate serve`: it exits within its shutdown timeout even while a client
holds a half-sent body, and what it counted before the signal is in the database after."""

from __future__ import annotations

import csv
import io
import os
import signal
import socket
import sqlite3
import time
from pathlib import Path

import httpx

from humangate.challenges.pow import solve_pow
from tests.live import create_unit_cli, humangate_env, run_cli
from tests.test_observability_live import serving_with_log

ORIGIN = {"Origin": "http://localhost"}
SHUTDOWN_TIMEOUT = 2
# Not a speed figure: the margin covers a loaded machine; without a bound the node never exits.
EXIT_MARGIN = 20.0


def test_sigterm_drains_flushes_and_exits_despite_a_half_sent_body(tmp_path: Path) -> None:
    env = humangate_env(
        tmp_path, demo="false", log_level="info", shutdown_timeout=str(SHUTDOWN_TIMEOUT)
    )
    keys = create_unit_cli(env, "--domain", "localhost", "--mode", "invisible")
    with serving_with_log(env, tmp_path / "server.log") as server:
        with httpx.Client(base_url=server.url, headers=ORIGIN) as client:
            issued = [
                client.post("/api/v1/challenges", json={"sitekey": keys["sitekey"]}).json()
                for _ in range(3)
            ]
            answered = client.post(
                f"/api/v1/challenges/{issued[0]['id']}/answer",
                json={"pow": {"number": solve_pow(issued[0]["pow"])}},
            ).json()
            assert answered["success"] is True
        host, port = server.url.removeprefix("http://").split(":")
        holder = socket.create_connection((host, int(port)))
        holder.sendall(
            b"POST /siteverify HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n"
            b"secret=half"
        )
        time.sleep(0.5)  # the request is in the app, waiting for the rest of its body
        signalled = time.monotonic()
        os.kill(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(timeout=SHUTDOWN_TIMEOUT * 2 + EXIT_MARGIN)
        finally:
            holder.close()
        took = time.monotonic() - signalled
        log = (tmp_path / "server.log").read_text()
        # uvicorn ends by raising the signal it caught again, as a process killed by it would.
        assert server.process.returncode in (0, -signal.SIGTERM), (took, log)
        assert "Application shutdown complete" in log, log

    stats = run_cli(env, "unit", "stats", keys["sitekey"], "--csv")
    assert stats.returncode == 0, stats.stderr
    counted = _counters(stats.stdout)
    assert counted.get("issued", 0) == 3, counted
    assert counted.get("passed", 0) == 1, counted
    with sqlite3.connect(tmp_path / "humangate.db") as db:
        (events,) = db.execute(
            "SELECT count(*) FROM risk_events WHERE outcome = 'passed'"
        ).fetchone()
    assert events == 1


def _counters(text: str) -> dict[str, int]:
    totals: dict[str, int] = {}
    for row in csv.DictReader(io.StringIO(text)):
        totals[row["metric"]] = totals.get(row["metric"], 0) + int(row["count"])
    return totals
