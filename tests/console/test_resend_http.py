"""The "Send a new code" buttons over HTTP: a new code replaces the old one, a throttled resend
says when to ask again (429), and the answer is the same whether an account waits or not.

The console's clock is pinned half a minute into a minute, so the per-minute send limit is
reached and released at known moments: no test depends on the wall clock.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from humangate.config import Settings
from humangate.console import account, auth, inbox, sessions, web
from tests.app_services import services_of
from tests.console.conftest import open_client
from tests.console.test_web_http import (
    EMAIL,
    PASSWORD,
    _pow,
    count_accounts,
    csrf_of,
    get_csrf,
    last_code,
    messages_to,
    post,
    sign_up,
)

NEW_CODE = "Send a new code"
SAME_ANSWER = "is waiting for a code, a new one is on its way. Only the newest code works."
WRONG_CODE = "The code is wrong or has expired"


class PinnedClock:
    """The console's clock: 30 seconds into a whole minute, moved only by `advance`."""

    def __init__(self) -> None:
        now = datetime.now(UTC)
        self.now = now.replace(second=30, microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += timedelta(minutes=minutes)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> PinnedClock:
    clock = PinnedClock()
    for module in (web, auth, account, inbox, sessions):
        monkeypatch.setattr(module, "utcnow", clock)
    return clock


def form_of(html: str, action: str) -> str:
    """The HTML of the form posting to `action`."""
    found = re.search(rf'<form method="post" action="{re.escape(action)}".*?</form>', html, re.S)
    assert found, html
    return found.group(0)


def alert_of(html: str) -> str:
    found = re.search(r'<p class="alert (?:bad|ok)" role="(?:alert|status)"[^>]*>([^<]+)</p>', html)
    assert found, html
    return found.group(1)


def start_sign_up(client: TestClient, identifier: str = EMAIL) -> Any:
    data = {"identifier": identifier, "password": PASSWORD}
    reply = post(client, "/console/signup", data, csrf_from="/console/signup")
    assert reply.status_code == 200 and "Enter your code" in reply.text
    return reply


def test_sign_up_code_resend(client: TestClient, settings: Settings, clock: PinnedClock) -> None:
    page = start_sign_up(client)
    resend = form_of(page.text, "/console/signup/resend")
    assert f'name="identifier" value="{EMAIL}"' in resend and NEW_CODE in resend
    first = last_code(settings, EMAIL)
    data = {"csrf": csrf_of(page.text), "identifier": EMAIL}

    throttled = client.post("/console/signup/resend", data=data)
    assert throttled.status_code == 429
    assert alert_of(throttled.text).endswith("Ask again in 30 seconds.")
    assert messages_to(settings, EMAIL) == 1

    clock.advance(1)
    resent = client.post("/console/signup/resend", data=data)
    assert resent.status_code == 200 and alert_of(resent.text) == f"If {EMAIL} {SAME_ANSWER}"
    assert messages_to(settings, EMAIL) == 2
    second = last_code(settings, EMAIL)
    if first != second:  # one chance in a million that both are the same six digits
        old = client.post("/console/signup/confirm", data={**data, "code": first})
        assert old.status_code == 400 and WRONG_CODE in old.text
    done = client.post(
        "/console/signup/confirm", data={**data, "code": second}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == "/console"


def test_sign_up_resend_reads_the_same_for_any_address(
    client: TestClient, settings: Settings, clock: PinnedClock
) -> None:
    sign_up(client, settings, "active@example.com")
    start_sign_up(client, "pending@example.com")
    clock.advance(1)
    client.cookies.clear()
    answers = {}
    for identifier in ("pending@example.com", "active@example.com", "nobody@example.com"):
        csrf = get_csrf(client, "/console/signup")
        data = {"csrf": csrf, "identifier": identifier}
        reply = client.post("/console/signup/resend", data=data)
        assert reply.status_code == 200
        answers[identifier] = alert_of(reply.text).replace(identifier, "…")
        again = client.post("/console/signup/resend", data=data)
        assert again.status_code == 429, identifier  # throttled alike
    assert len(set(answers.values())) == 1
    assert messages_to(settings, "pending@example.com") == 2
    assert messages_to(settings, "active@example.com") == 1  # its sign-up code only
    assert messages_to(settings, "nobody@example.com") == 0
    assert count_accounts(client) == 2


def test_login_code_resend(client: TestClient, settings: Settings, clock: PinnedClock) -> None:
    sign_up(client, settings)
    clock.advance(1)
    other = TestClient(client.app)
    page = post(other, "/console/login/code", {"identifier": EMAIL, "next": "/console/inbox"})
    resend = form_of(page.text, "/console/login/code/resend")
    assert 'name="next" value="/console/inbox"' in resend and NEW_CODE in resend
    first = last_code(settings, EMAIL)
    data = {"csrf": csrf_of(page.text), "identifier": EMAIL, "next": "/console/inbox"}
    throttled = other.post("/console/login/code/resend", data=data)
    assert throttled.status_code == 429 and "Ask again in 30 seconds." in throttled.text

    clock.advance(1)
    resent = other.post("/console/login/code/resend", data=data)
    assert resent.status_code == 200 and alert_of(resent.text) == f"If {EMAIL} {SAME_ANSWER}"
    second = last_code(settings, EMAIL)
    if first != second:
        old = other.post("/console/login/code/confirm", data={**data, "code": first})
        assert old.status_code == 400 and WRONG_CODE in old.text
    done = other.post(
        "/console/login/code/confirm", data={**data, "code": second}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == "/console/inbox"

    # An unknown address gets the same page, and no message.
    visitor = TestClient(client.app)
    unknown = {**data, "csrf": get_csrf(visitor), "identifier": "nobody@example.com"}
    reply = visitor.post("/console/login/code/resend", data=unknown)
    assert reply.status_code == 200
    assert alert_of(reply.text) == f"If nobody@example.com {SAME_ANSWER}"
    assert messages_to(settings, "nobody@example.com") == 0


def _step_up(client: TestClient, settings: Settings) -> tuple[TestClient, dict[str, str]]:
    """A login from a new browser, waiting at the step-up page."""
    other = TestClient(client.app)
    reply = post(other, "/console/login", {"identifier": EMAIL, "password": PASSWORD})
    assert reply.status_code == 200 and "Confirm it is you" in reply.text
    token = re.search(r'name="token" value="([^"]+)"', reply.text)
    assert token
    resend = form_of(reply.text, "/console/login/step-up/resend")
    assert f'name="token" value="{token.group(1)}"' in resend and NEW_CODE in resend
    return other, {"csrf": csrf_of(reply.text), "token": token.group(1), "next": "/console"}


def test_step_up_code_resend(client: TestClient, settings: Settings, clock: PinnedClock) -> None:
    sign_up(client, settings)
    clock.advance(1)
    other, step = _step_up(client, settings)
    first = last_code(settings, EMAIL)
    throttled = other.post("/console/login/step-up/resend", data=step)
    assert throttled.status_code == 429 and "Ask again in 30 seconds." in throttled.text
    assert f'name="token" value="{step["token"]}"' in throttled.text  # still waiting

    clock.advance(1)
    resent = other.post("/console/login/step-up/resend", data=step)
    assert resent.status_code == 200 and "A new code is on its way" in resent.text
    second = last_code(settings, EMAIL)
    if first != second:
        old = other.post("/console/login/step-up", data={**step, "code": first})
        assert old.status_code == 400
    done = other.post(
        "/console/login/step-up", data={**step, "code": second}, follow_redirects=False
    )
    assert done.status_code == 303 and other.get("/console").status_code == 200


def test_step_up_resend_needs_the_browser_that_gave_the_password(
    client: TestClient, settings: Settings, clock: PinnedClock
) -> None:
    sign_up(client, settings)
    clock.advance(1)
    _, step = _step_up(client, settings)
    sent = messages_to(settings, EMAIL)
    clock.advance(1)
    thief = TestClient(client.app)
    csrf = get_csrf(thief)
    for token in (step["token"], "made-up"):
        data = {**step, "csrf": csrf, "token": token}
        reply = thief.post("/console/login/step-up/resend", data=data)
        assert reply.status_code == 400 and "Log in again" in reply.text, token
    huge = thief.post(
        "/console/login/step-up/resend", data={**step, "csrf": csrf, "token": "x" * 300}
    )
    assert huge.status_code == 400 and "too long" in huge.text
    assert messages_to(settings, EMAIL) == sent


def test_contact_change_code_resend(
    client: TestClient, settings: Settings, clock: PinnedClock
) -> None:
    sign_up(client, settings)
    clock.advance(1)
    csrf = get_csrf(client, "/console/profile")
    new = "renamed@example.com"
    page = client.post(
        "/console/profile/contact", data={"csrf": csrf, "identifier": new, "password": PASSWORD}
    )
    assert NEW_CODE in form_of(page.text, "/console/profile/contact/resend")
    first = last_code(settings, new)
    data = {"csrf": csrf, "identifier": new}
    throttled = client.post("/console/profile/contact/resend", data=data)
    assert throttled.status_code == 429 and "Ask again in 30 seconds." in throttled.text

    clock.advance(1)
    resent = client.post("/console/profile/contact/resend", data=data)
    assert resent.status_code == 200 and "a new code is on its way" in resent.text
    assert messages_to(settings, new) == 2
    second = last_code(settings, new)
    if first != second:
        old = client.post("/console/profile/contact/confirm", data={**data, "code": first})
        assert old.status_code == 400 and WRONG_CODE in old.text
    done = client.post("/console/profile/contact/confirm", data={**data, "code": second})
    assert done.status_code == 200 and new in done.text

    # A free address no change was asked for gets the same page and no message.
    clock.advance(1)
    unasked = client.post(
        "/console/profile/contact/resend", data={"csrf": csrf, "identifier": "free@example.com"}
    )
    assert unasked.status_code == 200 and "a new code is on its way" in unasked.text
    assert messages_to(settings, "free@example.com") == 0


def test_cancellation_code_resend(
    client: TestClient, settings: Settings, clock: PinnedClock
) -> None:
    sign_up(client, settings)
    clock.advance(1)
    csrf = get_csrf(client, "/console/cancel")
    page = client.post("/console/cancel", data={"csrf": csrf})
    assert NEW_CODE in form_of(page.text, "/console/cancel/resend")
    first = last_code(settings, EMAIL)
    throttled = client.post("/console/cancel/resend", data={"csrf": csrf})
    assert throttled.status_code == 429 and "Ask again in 30 seconds." in throttled.text
    assert "Cancel my account for good" in throttled.text

    clock.advance(1)
    resent = client.post("/console/cancel/resend", data={"csrf": csrf})
    assert resent.status_code == 200 and "A new code is on its way" in resent.text
    second = last_code(settings, EMAIL)
    if first != second:
        old = client.post("/console/cancel/confirm", data={"csrf": csrf, "code": first})
        assert old.status_code == 400 and count_accounts(client) == 1
    done = client.post("/console/cancel/confirm", data={"csrf": csrf, "code": second})
    assert done.status_code == 200 and "Your account is cancelled" in done.text
    assert count_accounts(client) == 0


RESENDS = [
    "/console/signup/resend",
    "/console/login/code/resend",
    "/console/login/step-up/resend",
    "/console/profile/contact/resend",
    "/console/cancel/resend",
]


def test_resends_need_the_csrf_token(
    client: TestClient, settings: Settings, clock: PinnedClock
) -> None:
    sign_up(client, settings)
    clock.advance(1)
    sent = messages_to(settings, EMAIL)
    for path in RESENDS:
        data = {"identifier": EMAIL, "token": "t"}
        assert client.post(path, data=data).status_code == 403, path
        assert client.post(path, data={**data, "csrf": "0" * 64}).status_code == 403, path
    assert messages_to(settings, EMAIL) == sent and count_accounts(client) == 1


@pytest.mark.parametrize(
    ("identifier", "message"),
    [("no-at-sign", "write an e-mail address"), ("x" * 400, "too long")],
)
def test_a_bad_identifier_is_a_clear_4xx(
    client: TestClient, settings: Settings, clock: PinnedClock, identifier: str, message: str
) -> None:
    sign_up(client, settings)
    clock.advance(1)
    logged_in = get_csrf(client, "/console/profile")
    for path in ("/console/signup/resend", "/console/login/code/resend"):
        visitor = TestClient(client.app)
        data = {"csrf": get_csrf(visitor), "identifier": identifier}
        reply = visitor.post(path, data=data)
        assert reply.status_code == 400 and message in reply.text, path
    reply = client.post(
        "/console/profile/contact/resend", data={"csrf": logged_in, "identifier": identifier}
    )
    assert reply.status_code == 400 and message in reply.text
    assert messages_to(settings, EMAIL) == 1 and count_accounts(client) == 1


def test_the_widget_guards_the_visitors_resends(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = PinnedClock()
    for module in (web, auth, account, inbox, sessions):
        monkeypatch.setattr(module, "utcnow", clock)
    settings = make_settings(demo=False)
    client = open_client(settings)
    try:
        sitekey = services_of(client).console_unit.sitekey
        page = client.get("/console/signup")
        data = {"csrf": csrf_of(page.text), "identifier": EMAIL, "password": PASSWORD}
        confirm = client.post(
            "/console/signup", data={**data, "humangate-response": _pow(client, sitekey)}
        )
        resend = form_of(confirm.text, "/console/signup/resend")
        assert f'data-sitekey="{sitekey}"' in resend
        assert re.search(r'<script src="/v/[0-9a-f]{16}/humangate.js" async defer>', confirm.text)
        clock.advance(1)
        data = {"csrf": csrf_of(confirm.text), "identifier": EMAIL}
        for path in ("/console/signup/resend", "/console/login/code/resend"):
            refused = client.post(path, data=data)
            assert refused.status_code == 400 and "human verification" in refused.text, path
        assert messages_to(settings, EMAIL) == 1
        token = _pow(client, sitekey)
        accepted = client.post("/console/signup/resend", data={**data, "humangate-response": token})
        assert accepted.status_code == 200 and messages_to(settings, EMAIL) == 2
    finally:
        client.__exit__(None, None, None)
