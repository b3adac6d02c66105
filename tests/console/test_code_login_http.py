"""The profile's switch for login by one-time code."""

from __future__ import annotations

from fastapi.testclient import TestClient

from humangate.config import Settings
from tests.console.test_web_http import EMAIL, Clock, clock, get_csrf, messages_to, post, sign_up

__all__ = ["clock"]  # the fixture, used by name below


def test_turn_login_by_code_off_and_on(
    client: TestClient, settings: Settings, clock: Clock
) -> None:
    sign_up(client, settings)
    csrf = get_csrf(client, "/console/profile")
    assert 'id="code_login"' in client.get("/console/profile").text
    off = client.post("/console/profile/code-login", data={"csrf": csrf}, follow_redirects=False)
    assert off.status_code == 303
    assert (
        'id="code_login" name="code_login" value="on" aria' in client.get("/console/profile").text
    )
    clock.advance(2)
    before = messages_to(settings, EMAIL)
    asked = post(TestClient(client.app), "/console/login/code", {"identifier": EMAIL})
    assert asked.status_code == 200  # the same page as for any address
    assert messages_to(settings, EMAIL) == before  # but nothing was sent
    on = client.post(
        "/console/profile/code-login",
        data={"csrf": csrf, "code_login": "on"},
        follow_redirects=False,
    )
    assert on.status_code == 303
    clock.advance(2)
    post(TestClient(client.app), "/console/login/code", {"identifier": EMAIL})
    assert messages_to(settings, EMAIL) == before + 1


def test_a_bad_value_is_refused(client: TestClient, settings: Settings) -> None:
    sign_up(client, settings)
    csrf = get_csrf(client, "/console/profile")
    reply = client.post("/console/profile/code-login", data={"csrf": csrf, "code_login": "maybe"})
    assert reply.status_code == 400
    assert "checked" in reply.text.split('id="code_login"')[1].split(">")[0]
