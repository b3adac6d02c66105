"""The operator's heavier tools over HTTP: cancelling an account, and a notice to every owner."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from humangate.accounts import list_entries, list_inbox, sign_up, suspend_account
from humangate.config import Settings
from humangate.console import notices
from humangate.db import accounts as account_db
from humangate.db.models import Notification
from humangate.messaging import DeliveryError, read_outbox
from tests.app_services import services_of
from tests.console.test_units_http import (
    BROWSER,
    PASSWORD,
    Login,
    create,
    make_admin,
    make_owner,
    post,
    run,
    units_of,
    use,
)

OWNER = "shop.owner@example.com"


@pytest.fixture
def owner(client: TestClient) -> Login:
    return make_owner(client, OWNER)


@pytest.fixture
def ops(client: TestClient) -> Login:
    login = make_admin(client)
    use(client, login)
    return login


def audit_of(client: TestClient, action: str, account_id: int | None = None) -> list[Any]:
    page = run(client, lambda s: list_entries(s, action=action, account_id=account_id))
    return list(page.entries)


def outbox(settings: Settings) -> list[Any]:
    return list(read_outbox(settings.data_dir, 1000))


# --- cancelling an account -----------------------------------------------------------------------


def test_an_admin_cancels_an_account_after_confirming(
    client: TestClient, settings: Settings, owner: Login, ops: Login
) -> None:
    use(client, owner)
    create(client)
    use(client, ops)
    target = f"/console/admin/accounts/{owner.account_id}"
    assert f'href="{target}/cancel"' in client.get(target).text
    page = client.get(f"{target}/cancel")
    assert page.status_code == 200 and "cannot be undone" in page.text and OWNER in page.text

    reason = "Order of the district court, case 12/2026."
    done = post(client, f"{target}/cancel", {"confirm": f" {OWNER.upper()} ", "reason": reason})
    assert done.status_code == 303
    assert done.headers["location"] == "/console/admin/accounts?done=cancelled"
    assert "The account is cancelled" in client.get(done.headers["location"]).text
    assert run(client, lambda s: account_db.get_account(s, owner.account_id)) is None
    assert units_of(client, owner.account_id) == []
    (entry,) = audit_of(client, "account.cancelled", owner.account_id)
    assert (entry.actor_kind, entry.actor_id) == ("admin", ops.account_id)
    assert entry.details["reason"] == reason
    mail = [e for e in outbox(settings) if e.to == OWNER]
    assert "cancelled" in (mail[-1].subject or "").lower() and reason in mail[-1].text
    assert client.get(target).status_code == 404


def test_a_cancellation_that_is_not_confirmed_changes_nothing(
    client: TestClient, settings: Settings, owner: Login, ops: Login
) -> None:
    target = f"/console/admin/accounts/{owner.account_id}/cancel"
    before = run(client, lambda s: list_entries(s, account_id=owner.account_id))
    sent = len(outbox(settings))
    for data in (
        {"confirm": "someone.else@example.com", "reason": "Court order"},
        {"confirm": "not an address", "reason": "Court order"},
        {"confirm": "", "reason": "Court order"},
        {"confirm": OWNER, "reason": "   "},
        {"confirm": OWNER, "reason": "x" * 501},
    ):
        reply = post(client, target, data)
        assert reply.status_code == 400, data
        assert 'role="alert"' in reply.text, data
    assert post(client, target, {"confirm": OWNER, "reason": "x" * 2001}).status_code == 400
    assert post(client, target, {"confirm": OWNER, "reason": "r"}, csrf=False).status_code == 403
    own = f"/console/admin/accounts/{ops.account_id}/cancel"
    assert post(client, own, {"confirm": "ops@example.com", "reason": "me"}).status_code == 400
    assert client.get(own).status_code == 400
    missing = "/console/admin/accounts/999999/cancel"
    assert post(client, missing, {"confirm": OWNER, "reason": "r"}).status_code == 404
    use(client, owner)
    assert post(client, target, {"confirm": OWNER, "reason": "r"}).status_code == 403
    assert run(client, lambda s: account_db.get_account(s, owner.account_id)) is not None
    assert run(client, lambda s: list_entries(s, account_id=owner.account_id)) == before
    assert len(outbox(settings)) == sent


# --- a notice to every owner ---------------------------------------------------------------------


def blocked_owner(client: TestClient, email: str, admin: Login, *, ban: bool) -> int:
    login = make_owner(client, email)
    ctx = services_of(client).accounts

    async def work(session: Any) -> None:
        await suspend_account(
            ctx,
            session,
            login.account_id,
            admin_id=admin.account_id,
            reason="Checks",
            ban=ban,
            client=BROWSER,
            now=datetime.now(UTC),
        )

    run(client, work)
    return login.account_id


def pending(client: TestClient, email: str) -> None:
    ctx = services_of(client).accounts
    now = datetime.now(UTC)
    run(client, lambda s: sign_up(ctx, s, email, PASSWORD, client=BROWSER, now=now))


def drain(client: TestClient) -> None:
    client.portal.call(notices.drain, client.app)  # type: ignore[union-attr, arg-type]


def inbox_subjects(client: TestClient, account_id: int) -> list[str]:
    return [n.subject for n in run(client, lambda s: list_inbox(s, account_id))]


@pytest.fixture
def people(client: TestClient, ops: Login) -> dict[str, int]:
    """Three active owners, a suspended and a banned one, a pending sign-up and the admin."""
    found = {
        f"o{i}@example.com": make_owner(client, f"o{i}@example.com").account_id for i in range(3)
    }
    found["suspended@example.com"] = blocked_owner(client, "suspended@example.com", ops, ban=False)
    found["banned@example.com"] = blocked_owner(client, "banned@example.com", ops, ban=True)
    pending(client, "pending@example.com")
    found["ops@example.com"] = ops.account_id
    use(client, ops)
    return found


ACTIVE = ["o0@example.com", "o1@example.com", "o2@example.com"]
TITLE = "Security incident on 2026-11-20"
BODY = "We found and closed a hole.\n\nChange your password."


def test_a_notice_reaches_every_active_owner(
    client: TestClient,
    settings: Settings,
    people: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(notices, "BATCH", 2)  # three owners: two batches each way
    done = post(client, "/console/admin/notices", {"title": TITLE, "body": BODY})
    assert done.status_code == 303 and done.headers["location"].endswith("done=sent")
    drain(client)
    for email, account_id in people.items():
        assert (TITLE in inbox_subjects(client, account_id)) == (email in ACTIVE), email
    mail = [e for e in outbox(settings) if TITLE in e.subject or TITLE in e.text]
    assert sorted(e.to for e in mail) == ACTIVE and "Change your password." in mail[0].text
    (entry,) = audit_of(client, "notice.broadcast")
    assert (entry.actor_kind, entry.actor_id) == ("admin", people["ops@example.com"])
    assert entry.details["recipients"] == 3 and entry.target == TITLE
    (report,) = audit_of(client, "notice.delivered")
    assert (report.details["sent"], report.details["failed"]) == (3, 0)
    assert report.details["ref"] == entry.details["ref"]
    page = client.get(done.headers["location"]).text
    assert "on their way" in page and TITLE in page


def test_a_notice_may_also_reach_blocked_owners_and_admins(
    client: TestClient, settings: Settings, people: dict[str, int]
) -> None:
    data = {"title": TITLE, "body": BODY, "blocked": "yes", "admins": "yes"}
    assert post(client, "/console/admin/notices", data).status_code == 303
    drain(client)
    for email, account_id in people.items():
        assert TITLE in inbox_subjects(client, account_id), email
    mail = sorted(e.to for e in outbox(settings) if TITLE in e.subject or TITLE in e.text)
    assert mail == sorted(people)  # and never the pending sign-up
    assert audit_of(client, "notice.broadcast")[0].details["recipients"] == len(people)


def test_failed_deliveries_are_counted_and_shown(
    client: TestClient, people: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    mailer = services_of(client).channels.mailer
    original = mailer.send

    async def flaky(message: Any) -> Any:
        if "o1@example.com" in str(message.to):
            raise DeliveryError("The relay refused it.", channel="mail", temporary=False)
        return await original(message)

    monkeypatch.setattr(mailer, "send", flaky)
    assert post(client, "/console/admin/notices", {"title": TITLE, "body": BODY}).status_code == 303
    drain(client)
    (report,) = audit_of(client, "notice.delivered")
    assert (report.details["sent"], report.details["failed"]) == (2, 1)
    row = client.get("/console/admin/notices").text.split('id="broadcasts"')[1]
    assert "<strong>1</strong>" in row


def test_a_delivery_that_stops_says_so(
    client: TestClient, people: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any) -> bool:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(notices, "_send_one", broken)
    assert post(client, "/console/admin/notices", {"title": TITLE, "body": BODY}).status_code == 303
    drain(client)
    (report,) = audit_of(client, "notice.delivered")
    assert report.details == {"ref": report.details["ref"], "sent": 0, "failed": 0, "stopped": True}
    assert "stopped early" in client.get("/console/admin/notices").text
    assert all(TITLE in inbox_subjects(client, people[email]) for email in ACTIVE)


@pytest.mark.parametrize(
    "data",
    [
        {"title": "", "body": BODY},
        {"title": "   ", "body": BODY},
        {"title": TITLE, "body": ""},
        {"title": "x" * 201, "body": BODY},
        {"title": TITLE, "body": "x" * 5001},
    ],
)
def test_bad_notices_are_refused_and_nothing_is_sent(
    client: TestClient, settings: Settings, people: dict[str, int], data: dict[str, str]
) -> None:
    sent = len(outbox(settings))
    notes = count_notifications(client)
    reply = post(client, "/console/admin/notices", data)
    assert reply.status_code == 400 and 'role="alert"' in reply.text
    drain(client)
    assert len(outbox(settings)) == sent
    assert count_notifications(client) == notes
    assert audit_of(client, "notice.") == []


def count_notifications(client: TestClient) -> int:
    statement = select(func.count()).select_from(Notification)
    return int(run(client, lambda s: s.scalar(statement)))


def test_only_admins_may_send_a_notice_to_everyone(client: TestClient, owner: Login) -> None:
    use(client, owner)
    assert client.get("/console/admin/notices").status_code == 403
    reply = post(client, "/console/admin/notices", {"title": TITLE, "body": BODY})
    assert reply.status_code == 403
    assert audit_of(client, "notice.") == []
