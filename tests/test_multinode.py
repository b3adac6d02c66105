"""Two server processes on one Redis and one PostgreSQL behave as one service."""

from __future__ import annotations

from pathlib import Path

import httpx

from humangate.challenges.pow import solve_pow
from tests.live import create_unit_cli, humangate_env, running_server

ORIGIN = {"Origin": "http://localhost"}


def test_challenge_and_token_cross_nodes(
    tmp_path: Path, redis_url: str, fresh_postgres_url: str
) -> None:
    shared = {"redis_url": redis_url, "database_url": fresh_postgres_url, "demo": "false"}
    env_a = humangate_env(tmp_path / "a", **shared)
    env_b = humangate_env(tmp_path / "b", **shared)
    with running_server(env_a) as node_a, running_server(env_b) as node_b:
        keys = create_unit_cli(env_a, "--domain", "localhost", "--mode", "invisible")
        a = httpx.Client(base_url=node_a.url, headers=ORIGIN)
        b = httpx.Client(base_url=node_b.url, headers=ORIGIN)
        with a, b:
            challenge = a.post("/api/v1/challenges", json={"sitekey": keys["sitekey"]}).json()
            number = solve_pow(challenge["pow"])
            url = f"/api/v1/challenges/{challenge['id']}/answer"
            answered = b.post(url, json={"pow": {"number": number}}).json()
            assert answered["success"] is True
            assert a.post(url, json={"pow": {"number": number}}).status_code == 410

            form = {"secret": keys["secret"], "response": answered["token"]}
            first = a.post("/siteverify", data=form).json()
            assert first["success"] is True and first["hostname"] == "localhost"
            assert b.post("/siteverify", data=form).json()["error-codes"] == [
                "timeout-or-duplicate"
            ]
            assert a.post("/siteverify", data=form).json()["error-codes"] == [
                "timeout-or-duplicate"
            ]


def test_concurrent_verifies_on_two_nodes_succeed_exactly_once(
    tmp_path: Path, redis_url: str, fresh_postgres_url: str
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    shared = {"redis_url": redis_url, "database_url": fresh_postgres_url, "demo": "false"}
    with (
        running_server(humangate_env(tmp_path / "a", **shared)) as node_a,
        running_server(humangate_env(tmp_path / "b", **shared)) as node_b,
    ):
        keys = create_unit_cli(node_a.env, "--domain", "localhost", "--mode", "invisible")
        with httpx.Client(base_url=node_a.url, headers=ORIGIN) as a:
            challenge = a.post("/api/v1/challenges", json={"sitekey": keys["sitekey"]}).json()
            number = solve_pow(challenge["pow"])
            token = a.post(
                f"/api/v1/challenges/{challenge['id']}/answer", json={"pow": {"number": number}}
            ).json()["token"]
        form = {"secret": keys["secret"], "response": token}

        def verify(i: int) -> bool:
            url = (node_a if i % 2 else node_b).url
            return bool(httpx.post(f"{url}/siteverify", data=form, timeout=10).json()["success"])

        with ThreadPoolExecutor(max_workers=16) as pool:
            results = list(pool.map(verify, range(32)))
    assert results.count(True) == 1
