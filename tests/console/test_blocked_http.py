"""A suspended or banned owner over HTTP: from the login page's blocked message, a code opens the
data export and the cancellation, and nothing else."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from humangate.accounts import suspend_account
from humangate.accounts.blocked import BAN_HOLD
from humangate.config import Settings
from humangate.console import account, auth, inbox, sessions, web
from humangate.console import blocked as blocked_pages
from humangate.db import accounts as account_db
from humangate.messaging import read_outbox
from tests.app_services import services_of
from tests.console.test_units_http import (
    BROWSER,
    PASSWORD,
    Login,
    csrf_of,
    make_admin,
    make_owner,
    run,
    use,
)
from tests.console.test_web_http import Clock, last_code, messages_to

OWNER = "shop.owner@example.com"
REASON = "Your sign-up form sent 10,000 spam messages."


def block(client: TestClient, owner: Login, *, ban: bool = False) -> None:
    ctx = services_of(client).accounts
    admin = make_admin(client)
    now = datetime.now(UTC)

    async def work(session: Any) -> None:
        await suspend_account(
            ctx,
            session,
            owner.account_id,
            admin_id=admin.account_id,
            reason=REASON,
            ban=ban,
            client=BROWSER,
            now=now,
        )

    run(client, work)
    use(client, None)


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The console's clock, two minutes ahead: past the minute of the sign-up code's resend
    limit, which the account fixtures spent."""
    clock = Clock()
    clock.advance(2)
    for module in (web, auth, account, inbox, sessions, blocked_pages):
        monkeypatch.setattr(module, "utcnow", clock)
    return clock


@pytest.fixture
def owner(client: TestClient) -> Login:
    login = make_owner(client, OWNER)
    block(client, login)
    return login


def form_post(client: TestClient, path: str, page: str, data: dict[str, str]) -> Any:
    return client.post(path, data={"csrf": csrf_of(page), **data}, follow_redirects=False)


def open_access(client: TestClient, settings: Settings) -> Any:
    """Log in (refused, with the way to the data), ask for a code, enter it."""
    login = client.get("/console/login").text
    refused = form_post(
        client, "/console/login", login, {"identifier": OWNER, "password": PASSWORD}
    )
    assert refused.status_code == 403 and REASON in refused.text
    assert 'action="/console/blocked"' in refused.text
    asked = form_post(client, "/console/blocked", refused.text, {"identifier": OWNER})
    assert asked.status_code == 200 and 'action="/console/blocked/confirm"' in asked.text
    data = {"identifier": OWNER, "code": last_code(settings, OWNER)}
    opened = form_post(client, "/console/blocked/confirm", asked.text, data)
    assert opened.status_code == 303 and opened.headers["location"] == "/console/blocked/account"
    cookie = opened.headers["set-cookie"]
    assert "hg_blocked=" in cookie and "HttpOnly" in cookie and "Path=/console/blocked" in cookie
    return opened


def test_a_suspended_owner_downloads_then_cancels(
    client: TestClient, settings: Settings, owner: Login
) -> None:
    open_access(client, settings)
    page = client.get("/console/blocked/account")
    assert page.status_code == 200 and REASON in page.text and "suspended" in page.text
    assert "10 days" in page.text
    # The access reaches nothing else in the console.
    for path in ("/console", "/console/units", "/console/profile", "/console/export"):
        assert client.get(path, follow_redirects=False).status_code == 303, path

    export = form_post(client, "/console/blocked/export", page.text, {})
    assert export.status_code == 200
    assert export.headers["content-disposition"].startswith("attachment;")
    assert json.loads(export.text)["account"]["email"] == OWNER

    unticked = form_post(client, "/console/blocked/cancel", page.text, {})
    assert unticked.status_code == 400 and "Tick the box" in unticked.text
    assert run(client, lambda s: account_db.get_account(s, owner.account_id)) is not None

    done = form_post(client, "/console/blocked/cancel", page.text, {"confirm": "yes"})
    assert done.status_code == 200 and "cancelled" in done.text
    assert run(client, lambda s: account_db.get_account(s, owner.account_id)) is None
    mail = [e for e in read_outbox(settings.data_dir, 100) if e.to == OWNER]
    assert "cancelled" in (mail[-1].subject or "").lower()
    gone = client.get("/console/blocked/account")
    assert gone.status_code == 403 and "expired" in gone.text


def test_a_banned_owner_is_told_of_the_longer_hold(client: TestClient, settings: Settings) -> None:
    login = make_owner(client, OWNER)
    block(client, login, ban=True)
    open_access(client, settings)
    page = client.get("/console/blocked/account").text
    assert "banned" in page and f"{BAN_HOLD.days} days" in page


def test_the_code_request_answers_alike_for_anyone(
    client: TestClient, settings: Settings, owner: Login
) -> None:
    make_owner(client, "active@example.com")
    use(client, None)
    answers = {}
    for who in (OWNER, "active@example.com", "nobody@example.com"):
        page = client.get("/console/blocked").text
        reply = form_post(client, "/console/blocked", page, {"identifier": who})
        assert reply.status_code == 200, who
        answers[who] = reply.text.replace(who, "WHO").replace(csrf_of(reply.text), "CSRF")
    assert len(set(answers.values())) == 1
    assert messages_to(settings, OWNER) >= 1
    assert messages_to(settings, "active@example.com") == 0
    assert messages_to(settings, "nobody@example.com") == 0


def test_bad_input_and_wrong_codes_open_nothing(
    client: TestClient, settings: Settings, owner: Login
) -> None:
    page = client.get("/console/blocked").text
    assert form_post(client, "/console/blocked", page, {"identifier": "no"}).status_code == 400
    long = form_post(client, "/console/blocked", page, {"identifier": "x" * 400})
    assert long.status_code == 400
    asked = form_post(client, "/console/blocked", page, {"identifier": OWNER})
    code = last_code(settings, OWNER)
    wrong = "000000" if code != "000000" else "111111"
    refused = form_post(
        client, "/console/blocked/confirm", asked.text, {"identifier": OWNER, "code": wrong}
    )
    assert refused.status_code == 400 and "wrong or has expired" in refused.text
    assert "hg_blocked" not in refused.headers.get("set-cookie", "")
    malformed = form_post(
        client, "/console/blocked/confirm", asked.text, {"identifier": OWNER, "code": "12"}
    )
    assert malformed.status_code == 400
    no_csrf = client.post("/console/blocked/confirm", data={"identifier": OWNER, "code": code})
    assert no_csrf.status_code == 403
    # Without the access, the export and the cancellation answer 403 and change nothing.
    client.cookies.set("hg_blocked", "made-up-token", path="/console/blocked")
    for path in ("/console/blocked/export", "/console/blocked/cancel"):
        reply = form_post(client, path, page, {"confirm": "yes"})
        assert reply.status_code == 403, path
    assert run(client, lambda s: account_db.get_account(s, owner.account_id)) is not None


def test_ending_the_access(client: TestClient, settings: Settings, owner: Login) -> None:
    open_access(client, settings)
    page = client.get("/console/blocked/account").text
    ended = form_post(client, "/console/blocked/end", page, {})
    assert ended.status_code == 303
    assert client.get("/console/blocked/account").status_code == 403
