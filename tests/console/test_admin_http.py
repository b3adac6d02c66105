"""The operator's pages over HTTP: admins only, suspend and restore, notices, the audit log."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from humangate.accounts import list_entries, list_inbox
from humangate.config import Settings
from humangate.console import admin
from humangate.db import units as unit_db
from humangate.messaging import read_outbox
from tests.console.test_units_http import (
    PASSWORD,
    Login,
    create,
    csrf_of,
    make_admin,
    make_owner,
    post,
    run,
    units_of,
    use,
)


@pytest.fixture
def owner(client: TestClient) -> Login:
    return make_owner(client, "shop.owner@example.com")


@pytest.fixture
def ops(client: TestClient) -> Login:
    login = make_admin(client)
    use(client, login)
    return login


ADMIN_GETS = ["/console/admin", "/console/admin/accounts", "/console/admin/audit"]


def test_owners_get_403_everywhere(client: TestClient, owner: Login) -> None:
    use(client, owner)
    target = f"/console/admin/accounts/{owner.account_id}"
    for path in [*ADMIN_GETS, target]:
        reply = client.get(path, follow_redirects=False)
        assert reply.status_code == 403, path
    for action in ("suspend", "restore", "notice"):
        data = {"reason": "x", "title": "t", "body": "b"}
        assert post(client, f"{target}/{action}", data).status_code == 403, action
    assert "Accounts" not in client.get("/console/units").text.split("<main")[0]


def test_search_finds_accounts_by_fragment(client: TestClient, owner: Login, ops: Login) -> None:
    make_owner(client, "someone.else@example.net")
    page = client.get("/console/admin/accounts", params={"q": "SHOP.own"}).text
    assert "shop.owner@example.com" in page and "someone.else" not in page
    assert "someone.else@example.net" in client.get("/console/admin/accounts?q=example.net").text
    assert "No account matches" in client.get("/console/admin/accounts?q=nobody").text
    by_id = client.get(f"/console/admin/accounts?q={owner.account_id}").text
    assert "shop.owner@example.com" in by_id
    assert client.get("/console/admin/accounts", params={"q": "x" * 300}).status_code == 400


def test_suspend_shows_the_reason_and_is_audited(
    client: TestClient, settings: Settings, owner: Login, ops: Login
) -> None:
    use(client, owner)
    sitekey, _ = create(client)
    use(client, ops)
    page = client.get(f"/console/admin/accounts/{owner.account_id}")
    assert page.status_code == 200 and '<dd id="account-units">1</dd>' in page.text
    assert 'id="reason"' in page.text and "/restore" not in page.text
    own = client.get(f"/console/admin/accounts/{ops.account_id}").text
    assert 'id="reason"' not in own  # an admin cannot suspend themselves

    reason = "Your sign-up form sent 10,000 spam messages."
    done = post(
        client,
        f"/console/admin/accounts/{owner.account_id}/suspend",
        {"reason": reason, "action": "suspend"},
    )
    assert done.status_code == 303
    page = client.get(done.headers["location"]).text
    assert '<dd id="account-status">suspended</dd>' in page and reason in page
    assert units_of(client, owner.account_id)[0].disabled

    audit = client.get(f"/console/admin/audit?account={owner.account_id}&action=account.").text
    assert "account.suspended" in audit and reason in audit
    assert f'admin <a href="/console/admin/accounts/{ops.account_id}">' in audit
    assert "198.51.100.0/24" in audit  # the address, truncated

    # The owner's session ended; logging in again shows the reason.
    use(client, owner)
    assert client.get("/console/units", follow_redirects=False).status_code == 303
    form = client.get("/console/login").text
    reply = client.post(
        "/console/login",
        data={"csrf": csrf_of(form), "identifier": "shop.owner@example.com", "password": PASSWORD},
    )
    assert reply.status_code == 403 and reason in reply.text
    inbox = run(client, lambda s: list_inbox(s, owner.account_id))
    assert any(reason in note.body for note in inbox)
    mail = [e for e in read_outbox(settings.data_dir, 100) if e.to == "shop.owner@example.com"]
    assert any("suspended" in e.subject.lower() for e in mail)

    use(client, ops)
    restored = post(client, f"/console/admin/accounts/{owner.account_id}/restore", {})
    assert restored.status_code == 303
    assert not units_of(client, owner.account_id)[0].disabled
    assert '<dd id="account-status">active</dd>' in client.get(restored.headers["location"]).text
    assert run(client, lambda s: unit_db.get_unit_by_sitekey(s, sitekey)) is not None


def test_ban_and_bad_requests_change_nothing(client: TestClient, owner: Login, ops: Login) -> None:
    target = f"/console/admin/accounts/{owner.account_id}"
    before = run(client, lambda s: list_entries(s, account_id=owner.account_id))
    assert post(client, f"{target}/suspend", {"reason": "  "}).status_code == 400
    assert post(client, f"{target}/suspend", {"reason": "x" * 501}).status_code == 400
    assert post(client, f"{target}/suspend", {"reason": "spam"}, csrf=False).status_code == 403
    assert post(client, f"{target}/restore", {}).status_code == 400  # it is active
    assert post(client, f"{target}/notice", {"title": "", "body": "b"}).status_code == 400
    missing = "/console/admin/accounts/999999/suspend"
    assert post(client, missing, {"reason": "x"}).status_code == 404
    own = f"/console/admin/accounts/{ops.account_id}/suspend"
    assert post(client, own, {"reason": "myself"}).status_code == 400
    after = run(client, lambda s: list_entries(s, account_id=owner.account_id))
    assert after == before

    banned = post(client, f"{target}/suspend", {"reason": "Phishing pages.", "action": "ban"})
    assert banned.status_code == 303
    assert "banned" in client.get(banned.headers["location"]).text


def test_notice_goes_to_inbox_and_mail(
    client: TestClient, settings: Settings, owner: Login, ops: Login
) -> None:
    done = post(
        client,
        f"/console/admin/accounts/{owner.account_id}/notice",
        {"title": "Maintenance on Sunday", "body": "The service pauses at 02:00 UTC.\n\nThanks."},
    )
    assert done.status_code == 303 and done.headers["location"].endswith("done=notice")
    inbox = run(client, lambda s: list_inbox(s, owner.account_id))
    assert inbox[0].subject == "Maintenance on Sunday"
    mail = [e for e in read_outbox(settings.data_dir, 100) if e.to == "shop.owner@example.com"]
    assert any("02:00 UTC" in e.text for e in mail)


def test_audit_log_filters_and_pages(
    client: TestClient, owner: Login, ops: Login, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admin, "PAGE", 2)
    for _ in range(2):
        make_owner(client, f"extra{_}@example.com")
    first = client.get("/console/admin/audit")
    assert first.status_code == 200
    older = re.search(r'href="(/console/admin/audit\?[^"]+before=\d+)"', first.text)
    assert older, first.text
    second = client.get(older.group(1).replace("&amp;", "&"))
    assert second.status_code == 200 and "<code>" in second.text
    signups = client.get("/console/admin/audit?action=account.signup").text
    assert "<code>account.signup</code>" in signups
    assert "<code>login.succeeded</code>" not in signups
    for bad in ("action=nope", "account=abc", "before=-1", "account=\u00b2", "before=\u00b2"):
        assert client.get(f"/console/admin/audit?{bad}").status_code == 400
