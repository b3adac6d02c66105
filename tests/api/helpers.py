"""Small helpers for API tests: create units through the real database functions."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from humangate.challenges.pow import solve_pow
from humangate.db import units as unit_db
from humangate.units import Mode
from tests.app_services import services_of


def create_unit(
    client: TestClient,
    *,
    mode: Mode = "invisible",
    domains: list[str] | None = None,
    difficulty: int = 500,
    kinds: tuple[str, ...] = ("slide",),
    level: int = 0,
) -> tuple[str, str]:
    """Create a unit in the app's database; returns (sitekey, secret)."""
    sessions = services_of(client).sessions

    async def work() -> unit_db.CreatedUnit:
        async with sessions() as session:
            return await unit_db.create_unit(
                session,
                name="t",
                domains=domains or ["localhost"],
                mode=mode,
                pow_difficulty=difficulty,
                kinds=kinds,
                difficulty=level,
            )

    # The engine belongs to the app's event loop, which runs in the client's portal thread.
    created = client.portal.call(work)  # type: ignore[union-attr]
    return created.unit.sitekey, created.secret


def issue(client: TestClient, sitekey: str, **extra: Any) -> dict[str, Any]:
    reply = client.post("/api/v1/challenges", json={"sitekey": sitekey, **extra})
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def pass_pow(client: TestClient, sitekey: str, **extra: Any) -> str:
    """Issue a pow challenge, solve it and return the pass token."""
    challenge = issue(client, sitekey, **extra)
    assert challenge["kind"] == "pow"
    number = solve_pow(challenge["pow"])
    reply = client.post(
        f"/api/v1/challenges/{challenge['id']}/answer", json={"pow": {"number": number}}
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["success"] is True, body
    return str(body["token"])


def siteverify(
    client: TestClient, secret: str, token: str, path: str = "/siteverify", **extra: str
) -> Any:
    return client.post(path, data={"secret": secret, "response": token, **extra})
