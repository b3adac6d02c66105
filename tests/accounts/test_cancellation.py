"""Cancellation, the 10-day hold, inactivity, suspension and bans, admins."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from humangate.accounts import (
    Cancelled,
    Client,
    CodeRejected,
    CodeSent,
    LoggedIn,
    LoginFailed,
    authenticate,
    cancel_account,
    confirm_cancellation,
    create_admin,
    export_account,
    find_inactive_accounts,
    list_entries,
    log_in,
    request_cancellation,
    restore_account,
    run_housekeeping,
    sign_up,
    suspend_account,
)
from humangate.accounts.audit import SYSTEM
from humangate.db import accounts as account_db
from humangate.db import units as unit_db
from humangate.db.events import EventRecord, add_events
from humangate.db.models import RiskEvent, UnitSecret
from tests.accounts.conftest import BROWSER, PASSWORD, SIGNED_UP, T0, Harness, code_in

ADMIN_PASSWORD = "operator passphrase"


async def _unit(accounts: Harness, account_id: int, name: str = "Shop") -> unit_db.CreatedUnit:
    async with accounts.sessions() as session:
        created = await unit_db.create_unit(
            session, name=name, domains=["example.com"], mode="managed", pow_difficulty=1000
        )
        await account_db.set_unit_owner(session, created.unit.id, account_id)
        await add_events(
            session,
            [
                EventRecord(
                    unit_id=created.unit.id,
                    created_at=T0,
                    device_id="d" * 32,
                    ip_prefix="203.0.113.0/24",
                    kind="slide",
                    mode="managed",
                    outcome="pass",
                    score=0.9,
                    reasons=(),
                    features={},
                )
            ],
        )
    return created


async def _count(accounts: Harness, column: Any) -> int:
    async with accounts.sessions() as session:
        return int(await session.scalar(select(func.count(column))) or 0)


async def _cancel(accounts: Harness, account_id: int) -> Cancelled:
    sent = await accounts.run(request_cancellation, account_id, client=BROWSER, now=T0)
    assert isinstance(sent, CodeSent)
    (message,) = sent.outgoing
    assert (message.to, message.template) == ("owner@example.com", "cancel-code")
    done = await accounts.run(
        confirm_cancellation, account_id, message.params["code"], client=BROWSER, now=T0
    )
    assert isinstance(done, Cancelled), done
    return done


# --- cancellation -------------------------------------------------------------------------------


async def test_cancellation_erases_everything(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    other = await accounts.signed_up("other@example.com")
    mine = await _unit(accounts, owner.account.id)
    theirs = await _unit(accounts, other.account.id, "Theirs")
    async with accounts.sessions() as session:
        await account_db.add_notification(
            session, owner.account.id, kind="billing", subject="Bill", body="…", now=T0
        )
        await session.commit()
    wrong = await accounts.run(
        confirm_cancellation, owner.account.id, "123456", client=BROWSER, now=T0
    )
    assert wrong == CodeRejected("expired")  # no code was asked for yet

    done = await _cancel(accounts, owner.account.id)
    assert done.units_deleted == 1
    assert done.held_until == T0 + timedelta(days=10)
    assert [(o.to, o.template) for o in done.outgoing] == [
        ("owner@example.com", "account-cancelled")
    ]

    cells = str(await accounts.snapshot())
    for gone in ("owner@example.com", mine.unit.sitekey, unit_db.digest_secret(mine.secret)):
        assert gone not in cells
    assert await accounts.run(authenticate, owner.session_token, now=T0) is None
    async with accounts.sessions() as session:
        assert await unit_db.get_unit_by_sitekey(session, mine.unit.sitekey) is None
        assert await unit_db.get_unit_by_sitekey(session, theirs.unit.sitekey) is not None
    assert await _count(accounts, RiskEvent.id) == 1  # the other account's event only
    assert await _count(accounts, UnitSecret.id) == 1
    # What remains about the account: one audit entry, with its id and no personal data.
    page = await accounts.db(list_entries, account_id=owner.account.id)
    (entry,) = page.entries
    assert (entry.action, entry.account_id, entry.ip_prefix) == (
        "account.cancelled",
        owner.account.id,
        None,
    )
    assert entry.details["reason"] == "owner" and entry.details["units"] == 1
    # The other account is untouched.
    me = Client(ip=BROWSER.ip, device_token=other.device_token)
    assert isinstance(
        await accounts.run(log_in, "other@example.com", PASSWORD, client=me, now=T0), LoggedIn
    )


async def test_cancelled_identifier_is_held_for_ten_days(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    await _cancel(accounts, owner.account.id)
    assert await accounts.run(log_in, "owner@example.com", PASSWORD, client=BROWSER, now=T0) == (
        LoginFailed()
    )
    before = await accounts.snapshot()
    day_nine = T0 + timedelta(days=9, hours=23)
    held = await accounts.run(sign_up, "OWNER@example.com", PASSWORD, client=BROWSER, now=day_nine)
    assert isinstance(held, CodeSent)
    (notice,) = held.outgoing
    assert notice.template == "identifier-held"
    assert notice.params["until"] == (T0 + timedelta(days=10)).isoformat()
    assert await accounts.snapshot() == before
    with pytest.raises(ValueError, match="held until"):
        await accounts.run(create_admin, "owner@example.com", ADMIN_PASSWORD, now=day_nine)
    day_ten = T0 + timedelta(days=10, minutes=1)
    freed = await accounts.run(sign_up, "owner@example.com", PASSWORD, client=BROWSER, now=day_ten)
    assert isinstance(freed, CodeSent) and freed.outgoing[0].template == "signup-code"


async def test_cancellation_code_rules(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    sent = await accounts.run(request_cancellation, owner.account.id, client=BROWSER, now=T0)
    assert isinstance(sent, CodeSent)
    code = code_in(sent.outgoing)
    late = T0 + timedelta(minutes=11)
    expired = await accounts.run(
        confirm_cancellation, owner.account.id, code, client=BROWSER, now=late
    )
    assert expired == CodeRejected("expired")
    assert await accounts.run(authenticate, owner.session_token, now=late) is not None


# --- inactivity ---------------------------------------------------------------------------------


async def test_inactive_accounts_are_warned_then_cancelled(accounts: Harness) -> None:
    idle = await accounts.signed_up("idle@example.com")
    busy = await accounts.signed_up("busy@example.com")
    back = await accounts.signed_up("back@example.com")
    await accounts.run(create_admin, "admin@example.com", ADMIN_PASSWORD, now=SIGNED_UP)
    year = SIGNED_UP + timedelta(days=365, hours=1)
    # `busy` logged in last month; the others (and the admin, who is never auto-cancelled) not.
    me = Client(ip=BROWSER.ip, device_token=busy.device_token)
    month_ago = year - timedelta(days=30)
    assert isinstance(
        await accounts.run(log_in, "busy@example.com", PASSWORD, client=me, now=month_ago), LoggedIn
    )
    found = await accounts.run(find_inactive_accounts, now=year)
    assert [view.id for view in found] == [idle.account.id, back.account.id]

    report = await accounts.run(run_housekeeping, now=year)
    assert report.warned == (idle.account.id, back.account.id) and report.cancelled == ()
    assert {(o.to, o.template) for o in report.outgoing} == {
        ("idle@example.com", "inactivity-warning"),
        ("back@example.com", "inactivity-warning"),
    }
    assert (
        report.outgoing[0].params["cancel_after"] == (year + timedelta(days=30)).date().isoformat()
    )
    # Warned once only.
    assert (await accounts.run(run_housekeeping, now=year + timedelta(days=1))).warned == ()
    # `back` logs in during the grace period, which clears the warning.
    me = Client(ip=BROWSER.ip, device_token=back.device_token)
    soon = year + timedelta(days=3)
    assert isinstance(
        await accounts.run(log_in, "back@example.com", PASSWORD, client=me, now=soon), LoggedIn
    )

    after = year + timedelta(days=30, minutes=1)
    report = await accounts.run(run_housekeeping, now=after)
    assert report.cancelled == (idle.account.id,)
    assert [(o.to, o.template) for o in report.outgoing] == [
        ("idle@example.com", "account-cancelled")
    ]
    (entry,) = (await accounts.db(list_entries, account_id=idle.account.id)).entries
    assert (entry.action, entry.actor_kind, entry.details["reason"]) == (
        "account.cancelled",
        "system",
        "inactivity",
    )
    for survivor in (busy, back):
        assert await accounts.run(export_account, survivor.account.id, client=BROWSER, now=after)


async def test_housekeeping_purges_what_has_ended(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    await _cancel(accounts, owner.account.id)
    await accounts.run(sign_up, "pending@example.com", PASSWORD, client=BROWSER, now=T0)
    report = await accounts.run(run_housekeeping, now=T0 + timedelta(days=11))
    assert report.purged_pending == 1 and report.purged_holds == 1
    cells = str(await accounts.snapshot())
    assert "pending@example.com" not in cells


# --- admins, suspension, bans -------------------------------------------------------------------


async def test_create_admin(accounts: Harness) -> None:
    admin = await accounts.run(create_admin, "Admin@Example.com", ADMIN_PASSWORD, now=T0)
    assert (admin.role, admin.status, admin.email) == ("admin", "active", "Admin@example.com")
    with pytest.raises(ValueError, match="exists already"):
        await accounts.run(create_admin, "admin@example.com", ADMIN_PASSWORD, now=T0)
    with pytest.raises(ValueError, match="at least 10"):
        await accounts.run(create_admin, "root@example.com", "short", now=T0)
    (entry,) = (await accounts.db(list_entries, account_id=admin.id)).entries
    assert (entry.action, entry.actor_kind) == ("account.admin_created", SYSTEM.kind)


async def test_suspend_and_restore(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    admin = await accounts.run(create_admin, "admin@example.com", ADMIN_PASSWORD, now=T0)
    enabled = await _unit(accounts, owner.account.id, "On")
    off = await _unit(accounts, owner.account.id, "Off")
    async with accounts.sessions() as session:
        await unit_db.update_unit(session, off.unit.sitekey, unit_db.UnitChanges(disabled=True))

    changed = await accounts.run(
        suspend_account,
        owner.account.id,
        admin_id=admin.id,
        reason="Unpaid abuse reports",
        client=BROWSER,
        now=T0,
    )
    assert changed.account.status == "suspended" and changed.unit_ids == (enabled.unit.id,)
    assert [(o.to, o.template, dict(o.params)) for o in changed.outgoing] == [
        (
            "owner@example.com",
            "account-suspended",
            {"status": "suspended", "reason": "Unpaid abuse reports"},
        )
    ]
    async with accounts.sessions() as session:
        assert (await unit_db.get_unit_by_sitekey(session, enabled.unit.sitekey)).disabled  # type: ignore[union-attr]
    assert await accounts.run(authenticate, owner.session_token, now=T0) is None

    # A ban on top keeps the list of units to restore.
    banned = await accounts.run(
        suspend_account,
        owner.account.id,
        admin_id=admin.id,
        reason="Fraud",
        ban=True,
        client=BROWSER,
        now=T0,
    )
    assert banned.account.status == "banned" and banned.unit_ids == ()

    restored = await accounts.run(
        restore_account, owner.account.id, admin_id=admin.id, client=BROWSER, now=T0
    )
    assert restored.account.status == "active" and restored.account.status_reason is None
    assert restored.unit_ids == (enabled.unit.id,)
    async with accounts.sessions() as session:
        assert not (await unit_db.get_unit_by_sitekey(session, enabled.unit.sitekey)).disabled  # type: ignore[union-attr]
        assert (await unit_db.get_unit_by_sitekey(session, off.unit.sitekey)).disabled  # type: ignore[union-attr]
    me = Client(ip=BROWSER.ip, device_token=owner.device_token)
    assert isinstance(
        await accounts.run(log_in, "owner@example.com", PASSWORD, client=me, now=T0), LoggedIn
    )
    page = await accounts.db(list_entries, account_id=owner.account.id, action="account.")
    assert [(e.action, e.actor_kind, e.actor_id) for e in page.entries][:3] == [
        ("account.restored", "admin", admin.id),
        ("account.banned", "admin", admin.id),
        ("account.suspended", "admin", admin.id),
    ]


async def test_admin_actions_need_an_admin(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    other = await accounts.signed_up("other@example.com")
    admin = await accounts.run(create_admin, "admin@example.com", ADMIN_PASSWORD, now=T0)
    before = await accounts.snapshot()
    with pytest.raises(PermissionError, match="not an active administrator"):
        await accounts.run(
            suspend_account,
            other.account.id,
            admin_id=owner.account.id,
            reason="x",
            client=BROWSER,
            now=T0,
        )
    with pytest.raises(ValueError, match="reason is required"):
        await accounts.run(
            suspend_account,
            owner.account.id,
            admin_id=admin.id,
            reason="  ",
            client=BROWSER,
            now=T0,
        )
    with pytest.raises(ValueError, match="own account"):
        await accounts.run(
            suspend_account, admin.id, admin_id=admin.id, reason="test", client=BROWSER, now=T0
        )
    with pytest.raises(ValueError, match="nothing to restore"):
        await accounts.run(
            restore_account, owner.account.id, admin_id=admin.id, client=BROWSER, now=T0
        )
    with pytest.raises(ValueError, match="No account has id"):
        await accounts.run(
            suspend_account, 9999, admin_id=admin.id, reason="x", client=BROWSER, now=T0
        )
    assert await accounts.snapshot() == before


async def test_admin_cancels_an_account(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    admin = await accounts.run(create_admin, "admin@example.com", ADMIN_PASSWORD, now=T0)
    await _unit(accounts, owner.account.id)
    done = await accounts.run(
        cancel_account, owner.account.id, admin_id=admin.id, reason="Court order", now=T0
    )
    assert done.units_deleted == 1
    (entry,) = (await accounts.db(list_entries, account_id=owner.account.id)).entries
    assert (entry.actor_kind, entry.actor_id, entry.details["reason"]) == (
        "admin",
        admin.id,
        "Court order",
    )
