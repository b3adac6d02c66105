"""Kinds per unit, escalation along them, the audio alternative, and the visitor's language."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.helpers import create_unit, issue
from tests.app_services import stored_state

ALL = ("slide", "rotate", "click", "text")


def fail(client: TestClient, challenge: dict) -> dict:  # type: ignore[type-arg]
    reply = client.post(
        f"/api/v1/challenges/{challenge['id']}/answer",
        json={"answer": {"x": -1, "points": [], "angle": -1, "text": "!"}, "trajectory": []},
    )
    body = reply.json()
    assert reply.status_code == 200 and body["success"] is False, body
    return dict(body["next"])


def test_interactive_unit_walks_its_kinds_from_least_to_most_demanding(client: TestClient) -> None:
    sitekey, _ = create_unit(client, mode="interactive", kinds=ALL)
    seen = [issue(client, sitekey)]
    for _ in range(4):
        seen.append(fail(client, seen[-1]))
    assert [c["kind"] for c in seen] == ["slide", "rotate", "click", "text", "text"]
    assert all(c["kind"] in c for c in seen)


def test_managed_unit_starts_invisible_then_uses_the_units_kinds(client: TestClient) -> None:
    sitekey, _ = create_unit(client, mode="managed", kinds=("click", "text"))
    first = issue(client, sitekey)
    assert first["kind"] == "pow"
    second = fail_pow(client, first)
    assert second["kind"] == "click"
    assert fail(client, second)["kind"] == "text"


def fail_pow(client: TestClient, challenge: dict) -> dict:  # type: ignore[type-arg]
    reply = client.post(
        f"/api/v1/challenges/{challenge['id']}/answer", json={"pow": {"number": 10**9}}
    )
    return dict(reply.json()["next"])


def test_level_adds_the_units_difficulty_to_the_visitors_risk(client: TestClient) -> None:
    sitekey, _ = create_unit(client, mode="interactive", kinds=("text",), level=3)
    first = issue(client, sitekey)
    assert stored_state(client, first["id"]).level == 0
    nxt = fail(client, fail(client, first))
    assert stored_state(client, nxt["id"]).level == 2


def test_audio_alternative_replaces_a_visual_challenge(client: TestClient) -> None:
    sitekey, _ = create_unit(client, mode="interactive")
    visual = issue(client, sitekey, action="login")
    reply = client.post(f"/api/v1/challenges/{visual['id']}/audio", json={"language": "zh"})
    assert reply.status_code == 200, reply.text
    audio = reply.json()
    assert audio["kind"] == "audio" and "audio" in audio
    state = stored_state(client, audio["id"])
    assert state.lang == "zh" and state.action == "login"
    assert stored_state(client, visual["id"]) is None  # the visual one is consumed
    again = client.post(f"/api/v1/challenges/{visual['id']}/audio", json={"language": "en"})
    assert again.status_code == 410


def test_audio_alternative_is_refused_for_pow_and_bad_bodies(client: TestClient) -> None:
    sitekey, _ = create_unit(client, mode="invisible")
    pow_challenge = issue(client, sitekey)
    url = f"/api/v1/challenges/{pow_challenge['id']}/audio"
    assert client.post(url, json={}).json()["error"] == "bad-request"
    interactive, _ = create_unit(client, mode="interactive")
    visual = issue(client, interactive)
    url = f"/api/v1/challenges/{visual['id']}/audio"
    for body in ({"language": "fr"}, {"language": 1}, {"lang": "en"}):
        assert client.post(url, json=body).status_code == 400
    assert stored_state(client, visual["id"]) is not None  # bad input changed nothing


def test_language_is_remembered_for_the_next_challenge(client: TestClient) -> None:
    sitekey, _ = create_unit(client, mode="interactive", kinds=("slide", "click"))
    first = issue(client, sitekey, lang="zh")
    assert stored_state(client, first["id"]).lang == "zh"
    nxt = fail(client, first)
    assert stored_state(client, nxt["id"]).lang == "zh"
    bad = client.post("/api/v1/challenges", json={"sitekey": sitekey, "lang": "de"})
    assert bad.status_code == 400
