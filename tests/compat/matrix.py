"""What the compat matrix shares: a live server's keys and fresh pass tokens, got the way a
non-browser client gets them (ALTCHA's own solver for the proof of work)."""

from __future__ import annotations

from dataclasses import dataclass, field

import altcha
import httpx

from tests.live import LiveServer, create_unit_cli

ORIGIN = {"Origin": "http://localhost"}
WRONG_SECRET = "hgs_" + "w" * 40
ACTION = "login"


@dataclass(frozen=True)
class Outcome:
    """What a library told its caller: passed or not, the error codes it let through (None when
    it exposes none), and the score and action when it reads them."""

    passed: bool
    codes: list[str] | None = None
    score: float | None = None
    action: str | None = None
    threw: str | None = None
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Keys:
    sitekey: str
    secret: str


def make_unit(server: LiveServer, mode: str) -> Keys:
    keys = create_unit_cli(server.env, "--domain", "localhost", "--mode", mode)
    return Keys(keys["sitekey"], keys["secret"])


def fresh_token(server: LiveServer, sitekey: str, action: str = ACTION) -> str:
    with httpx.Client(base_url=server.url, headers=ORIGIN) as http:
        challenge = http.post(
            "/api/v1/challenges", json={"sitekey": sitekey, "action": action}
        ).json()
        pow_ = challenge["pow"]
        solution = altcha.solve_challenge_v1(
            pow_["challenge"], pow_["salt"], pow_["algorithm"], pow_["maxnumber"]
        )
        assert solution is not None
        answer = http.post(
            f"/api/v1/challenges/{challenge['id']}/answer",
            json={"pow": {"number": solution.number}},
        ).json()
    assert answer["success"] is True, answer
    return str(answer["token"])
