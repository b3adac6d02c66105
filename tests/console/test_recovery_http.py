"""The forgotten-password pages: a code, a new password, logged in; refusals as clear 4xx."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from humangate.config import Settings
from humangate.console import account, auth, inbox, recovery, sessions, web
from tests.console.test_web_http import (
    EMAIL,
    PASSWORD,
    Clock,
    csrf_of,
    get_csrf,
    last_code,
    messages_to,
    post,
    sign_up,
)

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    for module in (web, auth, account, inbox, sessions, recovery):
        monkeypatch.setattr(module, "utcnow", clock)
    return clock


def ask(client: TestClient, identifier: str = EMAIL) -> object:
    return post(client, "/console/login/reset", {"identifier": identifier})


def test_reset_the_password_from_the_login_page(
    client: TestClient, settings: Settings, clock: Clock
) -> None:
    sign_up(client, settings)
    other = TestClient(client.app)
    assert 'href="/console/login/reset"' in other.get("/console/login").text
    clock.advance(2)
    page = ask(other)
    assert page.status_code == 200 and "a code is on its way" in page.text  # type: ignore[attr-defined]
    data = {
        "csrf": csrf_of(page.text),  # type: ignore[attr-defined]
        "identifier": EMAIL,
        "code": last_code(settings, EMAIL),
        "password": NEW_PASSWORD,
    }
    done = other.post("/console/login/reset/confirm", data=data, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/console"
    assert other.get("/console", follow_redirects=False).status_code == 200
    # The first browser's session ended with the reset; the old password no longer works.
    assert client.get("/console", follow_redirects=False).status_code == 303
    old = post(
        TestClient(client.app), "/console/login", {"identifier": EMAIL, "password": PASSWORD}
    )
    assert old.status_code == 401
    # Sign-up code, reset code, "your password was changed", and the new sign-in notice.
    assert messages_to(settings, EMAIL) == 4


def test_unknown_addresses_get_the_same_page(
    client: TestClient, settings: Settings, clock: Clock
) -> None:
    sign_up(client, settings)
    clock.advance(2)
    known = ask(TestClient(client.app))
    unknown = ask(TestClient(client.app), "nobody@example.com")
    assert known.status_code == unknown.status_code == 200  # type: ignore[attr-defined]
    shape = [
        reply.text.replace(identifier, "X").split('name="csrf" value="')[0]  # type: ignore[attr-defined]
        for reply, identifier in ((known, EMAIL), (unknown, "nobody@example.com"))
    ]
    assert shape[0] == shape[1]
    assert messages_to(settings, "nobody@example.com") == 0


def test_a_second_request_within_the_minute_is_throttled(
    client: TestClient, settings: Settings, clock: Clock
) -> None:
    sign_up(client, settings)
    clock.advance(2)
    assert ask(TestClient(client.app)).status_code == 200  # type: ignore[attr-defined]
    again = ask(TestClient(client.app))
    assert again.status_code == 429 and "Ask again" in again.text  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("code", "password", "status", "says"),
    [
        ("000000", NEW_PASSWORD, 400, "The code is wrong or has expired"),
        ("12", NEW_PASSWORD, 400, "code"),
        ("123456", "short", 400, "at least 10 characters"),
        ("123456", "x" * 1025, 400, "too long"),
    ],
)
def test_bad_confirmations_change_nothing(
    client: TestClient,
    settings: Settings,
    clock: Clock,
    code: str,
    password: str,
    status: int,
    says: str,
) -> None:
    sign_up(client, settings)
    clock.advance(2)
    other = TestClient(client.app)
    ask(other)
    data = {"csrf": get_csrf(other), "identifier": EMAIL, "code": code, "password": password}
    reply = other.post("/console/login/reset/confirm", data=data, follow_redirects=False)
    assert reply.status_code == status and says in reply.text
    # The old password still works and the first browser is still logged in.
    assert client.get("/console", follow_redirects=False).status_code == 200
    clock.advance(2)
    still = post(client, "/console/login", {"identifier": EMAIL, "password": PASSWORD})
    assert still.status_code == 303


def test_reset_needs_the_csrf_token(client: TestClient, settings: Settings) -> None:
    reply = client.post("/console/login/reset", data={"identifier": EMAIL, "csrf": "0" * 64})
    assert reply.status_code == 403
