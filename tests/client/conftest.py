"""One real `humangate serve` for all of tests/client (started once: ~5 s), a unit made with
the CLI, and tokens won by solving its proof of work, as a visitor's browser would."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from humangate.challenges.pow import solve_pow
from tests.live import LiveServer, create_unit_cli, humangate_env, running_server

ORIGIN = {"Origin": "http://localhost"}


@dataclass(frozen=True)
class Site:
    server: LiveServer
    sitekey: str
    secret: str

    @property
    def url(self) -> str:
        return self.server.url

    def token(self, action: str = "") -> str:
        """A fresh pass token of this unit."""
        with httpx.Client(base_url=self.url, headers=ORIGIN) as http:
            asked: dict[str, str] = {"sitekey": self.sitekey}
            if action:
                asked["action"] = action
            challenge = http.post("/api/v1/challenges", json=asked).json()
            number = solve_pow(challenge["pow"])
            answer = http.post(
                f"/api/v1/challenges/{challenge['id']}/answer", json={"pow": {"number": number}}
            ).json()
        assert answer["success"] is True, answer
        return str(answer["token"])


@pytest.fixture(scope="package")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    env = humangate_env(tmp_path_factory.mktemp("client"), demo="false")
    with running_server(env) as server:
        yield server


@pytest.fixture(scope="package")
def site(live: LiveServer) -> Site:
    keys = create_unit_cli(live.env, "--domain", "localhost", "--mode", "invisible")
    return Site(server=live, sitekey=keys["sitekey"], secret=keys["secret"])
