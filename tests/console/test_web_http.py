"""The console over HTTP: CSRF, session fixation, enumeration, lockout, bad input, headers.

The app runs on the embedded defaults (SQLite, in-memory store, development outbox) with the
password hasher at test cost. Most tests turn the console widget off
(HUMANGATE_CONSOLE_WIDGET=false); `test_the_widget_guards_the_forms` keeps it on and passes it
with a real proof-of-work token, as a browser would.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from humangate.config import Settings
from humangate.console import account, auth, inbox, sessions, web
from humangate.db.models import Account
from humangate.messaging import read_outbox
from tests.api.helpers import pass_pow
from tests.app_services import services_of
from tests.console.conftest import open_client

PASSWORD = "correct horse battery"
EMAIL = "owner@example.com"
HEADERS = {
    "content-security-policy",
    "referrer-policy",
    "x-content-type-options",
}


class Clock:
    """The console's clock, moved forward by tests (resend limits count real minutes)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, minutes: float) -> None:
        self.offset += timedelta(minutes=minutes)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    for module in (web, auth, account, inbox, sessions):
        monkeypatch.setattr(module, "utcnow", clock)
    return clock


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, html
    return found.group(1)


def get_csrf(client: TestClient, path: str = "/console/login") -> str:
    reply = client.get(path)
    assert reply.status_code == 200, reply.text
    return csrf_of(reply.text)


def post(client: TestClient, path: str, data: dict[str, str], *, csrf_from: str = "") -> Any:
    token = get_csrf(client, csrf_from or "/console/login")
    return client.post(path, data={"csrf": token, **data}, follow_redirects=False)


def last_code(settings: Settings, to: str) -> str:
    entries = [e for e in read_outbox(settings.data_dir, 200) if e.to == to]
    assert entries, f"no message to {to}"
    found = re.search(r"\b(\d{6})\b", entries[-1].text)
    assert found, entries[-1].text
    return found.group(1)


def messages_to(settings: Settings, to: str) -> int:
    return len([e for e in read_outbox(settings.data_dir, 1000) if e.to == to])


def count_accounts(client: TestClient) -> int:
    sessions = services_of(client).sessions

    async def work() -> int:
        async with sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(Account)) or 0)

    return int(client.portal.call(work))  # type: ignore[union-attr]


def sign_up(client: TestClient, settings: Settings, identifier: str = EMAIL) -> Any:
    reply = post(
        client,
        "/console/signup",
        {"identifier": identifier, "password": PASSWORD},
        csrf_from="/console/signup",
    )
    assert reply.status_code == 200, reply.text
    code = last_code(settings, identifier)
    reply = client.post(
        "/console/signup/confirm",
        data={"csrf": csrf_of(reply.text), "identifier": identifier, "code": code},
        follow_redirects=False,
    )
    assert reply.status_code == 303, reply.text
    assert reply.headers["location"] == "/console"
    return reply


def test_sign_up_confirm_and_land_on_home(client: TestClient, settings: Settings) -> None:
    sign_up(client, settings)
    home = client.get("/console")
    assert home.status_code == 200
    assert f"logged in as {EMAIL}" in home.text
    cookie = home.request.headers["cookie"]
    assert "hg_session=" in cookie


def test_security_headers_on_every_page(client: TestClient, settings: Settings) -> None:
    public = ["/console/login", "/console/signup", "/console/login/code"]
    replies = [client.get(path) for path in public]
    replies.append(client.get("/console/profile", follow_redirects=False))
    replies.append(client.post("/console/signup", data={}))
    replies.append(client.get("/console/no-such-page"))
    assert replies[-1].status_code == 404
    replies.append(client.get("/console/", follow_redirects=False))
    assert replies[-1].headers["location"] == "/console"
    sign_up(client, settings)
    private = ["/console", "/console/profile", "/console/inbox", "/console/sessions"]
    replies += [client.get(path) for path in private + ["/console/export", "/console/cancel"]]
    for reply in replies:
        assert HEADERS <= set(reply.headers), reply.request.url
        csp = reply.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert reply.headers["referrer-policy"] == "same-origin"
        assert reply.headers["x-content-type-options"] == "nosniff"
        assert "<script>" not in reply.text  # no inline script anywhere


def test_cookies_are_httponly_and_samesite(client: TestClient, settings: Settings) -> None:
    reply = sign_up(client, settings)
    cookies = reply.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("hg_session="))
    assert "HttpOnly" in session and "SameSite=lax" in session and "Path=/console" in session
    assert "Secure" not in session  # local, http


def test_cookies_are_secure_behind_https(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(console_widget=False, public_url="https://gate.example.com")
    client = open_client(settings)
    try:
        reply = client.get("/console/login")
        assert "Secure" in reply.headers["set-cookie"]
    finally:
        client.__exit__(None, None, None)


@pytest.mark.parametrize("token", [None, "", "0" * 64, "not-hex"])
def test_sign_up_without_a_valid_csrf_token_is_refused(
    client: TestClient, settings: Settings, token: str | None
) -> None:
    client.get("/console/signup")
    data = {"identifier": EMAIL, "password": PASSWORD}
    if token is not None:
        data["csrf"] = token
    reply = client.post("/console/signup", data=data)
    assert reply.status_code == 403
    assert "The form has expired" in reply.text
    assert count_accounts(client) == 0
    assert messages_to(settings, EMAIL) == 0


def test_csrf_token_of_another_browser_is_refused(client: TestClient, settings: Settings) -> None:
    other = open_client(settings)
    try:
        foreign = get_csrf(other, "/console/signup")
    finally:
        other.__exit__(None, None, None)
    client.get("/console/signup")
    data = {"csrf": foreign, "identifier": EMAIL, "password": PASSWORD}
    assert client.post("/console/signup", data=data).status_code == 403
    assert count_accounts(client) == 0


def test_logged_in_post_without_csrf_changes_nothing(
    client: TestClient, settings: Settings
) -> None:
    sign_up(client, settings)
    reply = client.post("/console/profile", data={"display_name": "Mallory", "language": "en"})
    assert reply.status_code == 403
    assert "Mallory" not in client.get("/console/profile").text
    reply = client.post("/console/logout", data={"csrf": "0" * 64})
    assert reply.status_code == 403
    assert client.get("/console", follow_redirects=False).status_code == 200


def test_session_fixation_a_planted_cookie_is_not_promoted(
    client: TestClient, settings: Settings
) -> None:
    planted = "attacker-chosen-session-token-0123456789"
    client.cookies.set("hg_session", planted, path="/console")
    reply = sign_up(client, settings)
    issued = next(c for c in reply.headers.get_list("set-cookie") if c.startswith("hg_session="))
    assert planted not in issued
    fresh = TestClient(client.app, cookies={"hg_session": planted})
    assert fresh.get("/console", follow_redirects=False).status_code == 303


def test_login_ends_the_session_the_browser_held(client: TestClient, settings: Settings) -> None:
    sign_up(client, settings)
    before = client.cookies.get("hg_session")
    reply = post(client, "/console/login", {"identifier": EMAIL, "password": PASSWORD})
    assert reply.status_code == 303
    after = client.cookies.get("hg_session")
    assert after and after != before
    stale = TestClient(client.app, cookies={"hg_session": before or ""})
    assert stale.get("/console", follow_redirects=False).status_code == 303


def _page_shape(html: str, identifier: str) -> str:
    return re.sub(r'value="[0-9a-f]{64}"', "", html).replace(identifier, "IDENT")


def test_sign_up_looks_the_same_for_taken_and_new_addresses(
    client: TestClient, settings: Settings, clock: Clock
) -> None:
    sign_up(client, settings, "taken@example.com")
    client.post("/console/logout", data={"csrf": get_csrf(client, "/console")})
    clock.advance(2)
    replies = {}
    for address in ("taken@example.com", "new@example.com"):
        data = {"identifier": address, "password": PASSWORD}
        reply = post(client, "/console/signup", data, csrf_from="/console/signup")
        replies[address] = (reply.status_code, _page_shape(reply.text, address))
    assert replies["taken@example.com"] == replies["new@example.com"]
    # The owner of the taken address is told, and gets no code.
    assert messages_to(settings, "taken@example.com") == 2


def test_login_code_looks_the_same_for_known_and_unknown(
    client: TestClient, settings: Settings, clock: Clock
) -> None:
    sign_up(client, settings)
    client.post("/console/logout", data={"csrf": get_csrf(client, "/console")})
    clock.advance(2)
    replies = {}
    for address in (EMAIL, "nobody@example.com"):
        reply = post(client, "/console/login/code", {"identifier": address})
        replies[address] = (reply.status_code, _page_shape(reply.text, address))
    assert replies[EMAIL] == replies["nobody@example.com"]
    assert replies[EMAIL][0] == 200
    assert messages_to(settings, "nobody@example.com") == 0


def test_wrong_password_and_unknown_account_read_alike(
    client: TestClient, settings: Settings
) -> None:
    sign_up(client, settings)
    client.post("/console/logout", data={"csrf": get_csrf(client, "/console")})
    wrong = post(client, "/console/login", {"identifier": EMAIL, "password": "wrong password 1"})
    unknown = post(
        client, "/console/login", {"identifier": "x@example.com", "password": "wrong password 1"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert _page_shape(wrong.text, EMAIL) == _page_shape(unknown.text, "x@example.com")


def test_lockout_after_repeated_wrong_passwords(client: TestClient, settings: Settings) -> None:
    sign_up(client, settings)
    client.post("/console/logout", data={"csrf": get_csrf(client, "/console")})
    statuses = []
    for attempt in range(6):
        data = {"identifier": EMAIL, "password": f"wrong password {attempt}"}
        statuses.append(post(client, "/console/login", data).status_code)
    assert statuses[0] == 401 and statuses[-1] == 429
    locked = post(client, "/console/login", {"identifier": EMAIL, "password": PASSWORD})
    assert locked.status_code == 429
    assert "Too many failed attempts" in locked.text
    assert "hg_session" not in locked.headers.get("set-cookie", "")


@pytest.mark.parametrize(
    ("identifier", "password", "message"),
    [
        ("a" * 400 + "@example.com", PASSWORD, "too long"),
        ("not-an-address", PASSWORD, ""),
        ("owner@nodot", PASSWORD, "needs at least one dot"),
        ("+1 555", PASSWORD, ""),
        (EMAIL, "short", "at least 10 characters"),
        (EMAIL, "x" * 2000, "too long"),
    ],
)
def test_bad_sign_up_input_is_a_clear_4xx(
    client: TestClient, settings: Settings, identifier: str, password: str, message: str
) -> None:
    data = {"identifier": identifier, "password": password}
    reply = post(client, "/console/signup", data, csrf_from="/console/signup")
    assert reply.status_code == 400
    assert 'role="alert"' in reply.text
    assert message in reply.text
    assert count_accounts(client) == 0
    assert read_outbox(settings.data_dir) == []


def test_wrong_code_is_refused_and_nothing_is_confirmed(
    client: TestClient, settings: Settings
) -> None:
    reply = post(
        client,
        "/console/signup",
        {"identifier": EMAIL, "password": PASSWORD},
        csrf_from="/console/signup",
    )
    code = last_code(settings, EMAIL)
    wrong = "000000" if code != "000000" else "111111"
    for value, status in ((wrong, 400), ("12ab", 400), ("9" * 40, 400)):
        data = {"csrf": csrf_of(reply.text), "identifier": EMAIL, "code": value}
        answer = client.post("/console/signup/confirm", data=data, follow_redirects=False)
        assert answer.status_code == status, value
        assert 'role="alert"' in answer.text
    assert client.get("/console", follow_redirects=False).status_code == 303


def test_logout_invalidates_the_session(client: TestClient, settings: Settings) -> None:
    sign_up(client, settings)
    token = client.cookies.get("hg_session")
    reply = client.post("/console/logout", data={"csrf": get_csrf(client, "/console")})
    assert reply.status_code == 200 and reply.url.path == "/console/login"
    replay = TestClient(client.app, cookies={"hg_session": token or ""})
    answer = replay.get("/console/profile", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/login?next=/console/profile"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/elsewhere", "/console\\@evil"]
)
def test_next_only_leads_into_the_console(
    client: TestClient, settings: Settings, target: str
) -> None:
    sign_up(client, settings)
    client.post("/console/logout", data={"csrf": get_csrf(client, "/console")})
    data = {"identifier": EMAIL, "password": PASSWORD, "next": target}
    reply = post(client, "/console/login", data)
    assert reply.status_code == 303
    assert reply.headers["location"] == "/console"


def test_next_inside_the_console_is_followed(client: TestClient, settings: Settings) -> None:
    sign_up(client, settings)
    client.post("/console/logout", data={"csrf": get_csrf(client, "/console")})
    data = {"identifier": EMAIL, "password": PASSWORD, "next": "/console/inbox"}
    assert post(client, "/console/login", data).headers["location"] == "/console/inbox"


def test_a_new_device_must_enter_a_code(
    client: TestClient, settings: Settings, clock: Clock
) -> None:
    sign_up(client, settings)
    clock.advance(2)
    other = TestClient(client.app)
    data = {"identifier": EMAIL, "password": PASSWORD}
    reply = post(other, "/console/login", data)
    assert reply.status_code == 200 and "Confirm it is you" in reply.text
    token = re.search(r'name="token" value="([^"]+)"', reply.text)
    assert token
    step = {"csrf": csrf_of(reply.text), "token": token.group(1), "next": "/console"}
    wrong = other.post("/console/login/step-up", data={**step, "code": "000001"})
    # A typo keeps the visitor on the code page; only the login's own end sends them back.
    assert wrong.status_code == 400 and "Confirm it is you" in wrong.text
    assert auth.WRONG_CODE in wrong.text
    code = last_code(settings, EMAIL)
    elsewhere = TestClient(client.app)
    stolen = elsewhere.post(
        "/console/login/step-up",
        data={**step, "csrf": get_csrf(elsewhere), "code": code},
        follow_redirects=False,
    )
    assert stolen.status_code == 400 and auth.LOGIN_EXPIRED in stolen.text
    done = other.post("/console/login/step-up", data={**step, "code": code}, follow_redirects=False)
    assert done.status_code == 303
    assert other.get("/console").status_code == 200


def test_log_in_with_a_code(client: TestClient, settings: Settings, clock: Clock) -> None:
    sign_up(client, settings)
    clock.advance(2)
    other = TestClient(client.app)
    reply = post(other, "/console/login/code", {"identifier": EMAIL})
    data = {"csrf": csrf_of(reply.text), "identifier": EMAIL, "code": last_code(settings, EMAIL)}
    done = other.post("/console/login/code/confirm", data=data, follow_redirects=False)
    assert done.status_code == 303
    assert other.get("/console").status_code == 200


def test_profile_password_sessions_inbox_export(
    client: TestClient, settings: Settings, clock: Clock
) -> None:
    sign_up(client, settings)
    clock.advance(2)
    csrf = get_csrf(client, "/console/profile")
    # English, so that the pages below read as asserted (tests/console/test_i18n.py: zh-CN).
    reply = client.post(
        "/console/profile", data={"csrf": csrf, "display_name": "Ada", "language": "en"}
    )
    assert reply.status_code == 200 and 'value="Ada"' in reply.text
    bad = client.post(
        "/console/profile", data={"csrf": csrf, "display_name": "x" * 150, "language": "en"}
    )
    assert bad.status_code == 400 and 'value="Ada"' in bad.text
    second = TestClient(client.app)
    sign_in = post(second, "/console/login/code", {"identifier": EMAIL})
    data = {"csrf": csrf_of(sign_in.text), "identifier": EMAIL, "code": last_code(settings, EMAIL)}
    second.post("/console/login/code/confirm", data=data)
    assert client.get("/console/sessions").text.count("(this browser)") == 1
    ended = client.post("/console/sessions/revoke-others", data={"csrf": csrf})
    assert "1 other session(s) logged out" in ended.text
    assert second.get("/console", follow_redirects=False).status_code == 303
    wrong = client.post(
        "/console/profile/password",
        data={
            "csrf": csrf,
            "current_password": "not it at all",
            "new_password": "another fine phrase",
        },
    )
    assert wrong.status_code == 400 and "The password is wrong" in wrong.text
    changed = client.post(
        "/console/profile/password",
        data={"csrf": csrf, "current_password": PASSWORD, "new_password": "another fine phrase"},
    )
    assert changed.status_code == 200 and "Your password was changed" in changed.text
    exported = client.post("/console/export", data={"csrf": csrf})
    assert exported.headers["content-disposition"].startswith("attachment")
    body = json.loads(exported.text)
    assert body["account"]["email"] == EMAIL and body["account"]["display_name"] == "Ada"
    inbox = client.get("/console/inbox")
    assert inbox.status_code == 200
    assert client.post("/console/inbox/read", data={"csrf": csrf}).status_code == 200
    assert client.post("/console/inbox/read", data={"csrf": csrf, "id": "x1"}).status_code == 400


def test_cancel_account_with_a_code(client: TestClient, settings: Settings, clock: Clock) -> None:
    sign_up(client, settings)
    clock.advance(2)
    csrf = get_csrf(client, "/console/cancel")
    sent = client.post("/console/cancel", data={"csrf": csrf})
    assert sent.status_code == 200 and "Confirm cancellation" in sent.text
    wrong = client.post("/console/cancel/confirm", data={"csrf": csrf, "code": "000002"})
    assert wrong.status_code == 400 and count_accounts(client) == 1
    code = last_code(settings, EMAIL)
    clock.advance(2)
    done = client.post("/console/cancel/confirm", data={"csrf": csrf, "code": code})
    assert done.status_code == 200 and "Your account is cancelled" in done.text
    assert count_accounts(client) == 0
    assert client.get("/console", follow_redirects=False).status_code == 303
    again = post(
        client,
        "/console/signup",
        {"identifier": EMAIL, "password": PASSWORD},
        csrf_from="/console/signup",
    )
    assert again.status_code == 200 and count_accounts(client) == 0  # held for 10 days


def test_the_widget_guards_the_forms(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(demo=False)
    client = open_client(settings)
    try:
        sitekey = services_of(client).console_unit.sitekey
        page = client.get("/console/signup")
        assert f'data-sitekey="{sitekey}"' in page.text
        data = {"csrf": csrf_of(page.text), "identifier": EMAIL, "password": PASSWORD}
        refused = client.post("/console/signup", data=data)
        assert refused.status_code == 400 and "human verification" in refused.text
        assert count_accounts(client) == 0
        token = _pow(client, sitekey)
        accepted = client.post("/console/signup", data={**data, "humangate-response": token})
        assert accepted.status_code == 200 and "Enter your code" in accepted.text
        replay = client.post("/console/signup", data={**data, "humangate-response": token})
        assert replay.status_code == 400  # a token is spent once
        for path in ("/console/login", "/console/login/code"):
            page = client.get(path)
            form = {"csrf": csrf_of(page.text), "identifier": EMAIL, "password": PASSWORD}
            refused = client.post(path, data=form)
            assert refused.status_code == 400 and "human verification" in refused.text
        assert messages_to(settings, EMAIL) == 1  # the sign-up code only
    finally:
        client.__exit__(None, None, None)


def _pow(client: TestClient, sitekey: str) -> str:
    client.headers["Origin"] = "http://localhost"
    try:
        return pass_pow(client, sitekey)
    finally:
        del client.headers["Origin"]


def test_change_the_e_mail_address_with_a_code(
    client: TestClient, settings: Settings, clock: Clock
) -> None:
    sign_up(client, settings)
    csrf = get_csrf(client, "/console/profile")
    new = "renamed@example.com"
    wrong = client.post(
        "/console/profile/contact",
        data={"csrf": csrf, "identifier": new, "password": "not the password"},
    )
    assert wrong.status_code == 400 and "The password is wrong" in wrong.text
    assert messages_to(settings, new) == 0
    bad = client.post(
        "/console/profile/contact",
        data={"csrf": csrf, "identifier": "no-at-sign", "password": PASSWORD},
    )
    assert bad.status_code == 400 and 'role="alert"' in bad.text
    sent = client.post(
        "/console/profile/contact", data={"csrf": csrf, "identifier": new, "password": PASSWORD}
    )
    assert sent.status_code == 200 and "Confirm your new contact" in sent.text
    code = last_code(settings, new)
    data = {"csrf": csrf, "identifier": new}
    assert (
        client.post("/console/profile/contact/confirm", data={**data, "code": "000003"}).status_code
        == 400
    )
    done = client.post("/console/profile/contact/confirm", data={**data, "code": code})
    assert done.status_code == 200 and new in done.text
    assert messages_to(settings, EMAIL) == 2  # the sign-up code, then the notice of the change


def test_undelivered_mail_changes_nothing_the_visitor_sees(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    """In production without SMTP the message fails; the page is the same and no code leaks."""
    settings = make_settings(console_widget=False, demo=False, environment="production")
    client = open_client(settings, base_url="https://testserver")  # Secure cookies
    try:
        data = {"identifier": EMAIL, "password": PASSWORD}
        reply = post(client, "/console/signup", data, csrf_from="/console/signup")
        assert reply.status_code == 200 and "Enter your code" in reply.text
        assert read_outbox(settings.data_dir) == []
        assert "was not delivered" in caplog.text
        assert not re.search(r"\b\d{6}\b", caplog.text)
    finally:
        client.__exit__(None, None, None)


def test_log_out_one_other_session(client: TestClient, settings: Settings, clock: Clock) -> None:
    sign_up(client, settings)
    clock.advance(2)
    second = TestClient(client.app)
    reply = post(second, "/console/login/code", {"identifier": EMAIL})
    data = {"csrf": csrf_of(reply.text), "identifier": EMAIL, "code": last_code(settings, EMAIL)}
    second.post("/console/login/code/confirm", data=data)
    page = client.get("/console/sessions").text
    ids = re.findall(r'name="id" value="(\d+)"', page)
    assert len(ids) == 1  # only the other session has a button
    csrf = csrf_of(page)
    assert (
        client.post("/console/sessions/revoke", data={"csrf": csrf, "id": "x"}).status_code == 400
    )
    done = client.post("/console/sessions/revoke", data={"csrf": csrf, "id": ids[0]})
    assert done.status_code == 200 and "The session was logged out" in done.text
    assert second.get("/console", follow_redirects=False).status_code == 303
    again = client.post("/console/sessions/revoke", data={"csrf": csrf, "id": ids[0]})
    assert again.status_code == 404


def test_admin_pages_refuse_owners(client: TestClient, settings: Settings) -> None:
    async def only_admins(viewer: web.AdminDep) -> dict[str, int]:
        return {"id": viewer.account.id}

    # Ahead of the console's catch-all 404 route.
    route = APIRoute("/console/test-only-admins", only_admins)
    client.app.router.routes.insert(0, route)  # type: ignore[attr-defined]
    anonymous = client.get("/console/test-only-admins", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/console/login?next=/console/test-only-admins"
    sign_up(client, settings)
    refused = client.get("/console/test-only-admins")
    assert refused.status_code == 403 and "operators of this service" in refused.text
