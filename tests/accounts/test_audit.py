"""The audit log: every action is recorded somewhere, no entry holds a secret, and the admin
query filters and pages."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from humangate import accounts as svc
from humangate.accounts import (
    AccountBlocked,
    BlockedAccess,
    Client,
    CodeSent,
    LoggedIn,
    StepUpRequired,
    authenticate,
    change_password,
    confirm_cancellation,
    confirm_contact_change,
    create_admin,
    export_account,
    list_entries,
    list_sessions,
    log_out,
    open_blocked_access,
    passkeys,
    request_blocked_code,
    request_cancellation,
    request_contact_change,
    restore_account,
    revoke_other_sessions,
    revoke_session,
    run_housekeeping,
    suspend_account,
    update_profile,
)
from humangate.accounts.audit import ACTIONS, CONSOLE_ACTIONS, SYSTEM, AuditRecord, record
from humangate.accounts.profile import accept_terms
from humangate.accounts.recovery import request_password_reset, reset_password
from tests.accounts._authenticator import SoftAuthenticator
from tests.accounts.conftest import BROWSER, PASSWORD, SIGNED_UP, T0, Harness, code_in

NEW_PASSWORD = "another long passphrase"


async def _tour(accounts: Harness) -> list[str]:
    """Take one account through every audited action; return every secret seen on the way."""
    seen: list[str] = [PASSWORD, NEW_PASSWORD]
    owner = await accounts.signed_up()
    seen += [owner.session_token, owner.device_token]
    me = Client(ip=BROWSER.ip, device_token=owner.device_token, session_token=owner.session_token)
    account_id = owner.account.id
    admin = await accounts.run(create_admin, "admin@example.com", "operator passphrase", now=T0)
    await accounts.run(svc.log_in, "owner@example.com", "wrong password!", client=me, now=T0)
    for _ in range(6):  # five failures lock the path; the sixth attempt meets the lock
        await accounts.run(svc.log_in, "nobody@example.com", "wrong password!", client=me, now=T0)
    step = await accounts.run(svc.log_in, "owner@example.com", PASSWORD, client=BROWSER, now=T0)
    assert isinstance(step, StepUpRequired)
    seen += [step.step_up_token, code_in(step.outgoing)]
    device = Client(ip=BROWSER.ip, device_token=step.device_token)
    await accounts.run(svc.complete_step_up, step.step_up_token, "000000", client=device, now=T0)
    done = await accounts.run(
        svc.complete_step_up, step.step_up_token, code_in(step.outgoing), client=device, now=T0
    )
    assert isinstance(done, LoggedIn)
    t1 = T0 + timedelta(minutes=1)
    sent = await accounts.run(svc.request_login_code, "owner@example.com", client=me, now=t1)
    assert isinstance(sent, CodeSent)
    seen.append(code_in(sent.outgoing))
    await accounts.run(update_profile, account_id, display_name="Ada", client=me, now=t1)
    await accounts.run(accept_terms, account_id, "2026-11", client=me, now=t1)
    changed = await accounts.run(
        change_password, account_id, PASSWORD, NEW_PASSWORD, client=me, now=t1
    )
    asked = await accounts.run(
        request_contact_change, account_id, "ada@example.org", NEW_PASSWORD, client=me, now=t1
    )
    assert isinstance(asked, CodeSent) and changed
    sent = asked
    seen.append(code_in(sent.outgoing))
    await accounts.run(
        confirm_contact_change, account_id, code_in(sent.outgoing), client=me, now=t1
    )
    second = Client(ip=BROWSER.ip, device_token=owner.device_token)
    again = await accounts.run(svc.log_in, "ada@example.org", NEW_PASSWORD, client=second, now=t1)
    third = await accounts.run(svc.log_in, "ada@example.org", NEW_PASSWORD, client=second, now=t1)
    assert isinstance(again, LoggedIn) and isinstance(third, LoggedIn)
    seen += [again.session_token, third.session_token]
    sessions = await accounts.db(svc_list_sessions, account_id, third.session_token)
    await accounts.run(revoke_session, account_id, sessions[0], ip=BROWSER.ip, now=t1)
    await accounts.run(revoke_other_sessions, account_id, third.session_token, ip=None, now=t1)
    await accounts.run(log_out, third.session_token, ip=BROWSER.ip, now=t1)
    await _add_and_remove_a_passkey(accounts, account_id, me, t1)
    await accounts.run(export_account, account_id, client=me, now=t1)
    for ban in (False, True):
        await accounts.run(
            suspend_account,
            account_id,
            admin_id=admin.id,
            reason="Check",
            ban=ban,
            client=me,
            now=t1,
        )
    blocked = await accounts.run(svc.log_in, "ada@example.org", NEW_PASSWORD, client=me, now=t1)
    assert isinstance(blocked, AccountBlocked)
    await _open_blocked_access(accounts, "ada@example.org", me, t1 + timedelta(minutes=1), seen)
    await accounts.run(restore_account, account_id, admin_id=admin.id, client=me, now=t1)
    await accounts.run(svc.log_in, "ada@example.org", NEW_PASSWORD, client=me, now=t1)
    t_reset = t1 + timedelta(minutes=2)
    reset = await accounts.run(request_password_reset, "ada@example.org", client=me, now=t_reset)
    assert isinstance(reset, CodeSent)
    seen.append(code_in(reset.outgoing))
    await accounts.run(
        reset_password,
        "ada@example.org",
        code_in(reset.outgoing),
        NEW_PASSWORD,
        client=me,
        now=t_reset,
    )
    year = SIGNED_UP + timedelta(days=366)
    await accounts.run(run_housekeeping, now=year)  # warns the owner
    t2 = year + timedelta(minutes=2)
    sent = await accounts.run(request_cancellation, account_id, client=me, now=t2)
    assert isinstance(sent, CodeSent)
    seen.append(code_in(sent.outgoing))
    await accounts.run(confirm_cancellation, account_id, code_in(sent.outgoing), client=me, now=t2)
    return seen


async def _open_blocked_access(
    accounts: Harness, identifier: str, me: Client, now: datetime, seen: list[str]
) -> None:
    """The blocked owner's way to their data: a code, then the limited access."""
    asked = await accounts.run(request_blocked_code, identifier, client=me, now=now)
    assert isinstance(asked, CodeSent)
    seen.append(code_in(asked.outgoing))
    opened = await accounts.run(
        open_blocked_access, identifier, code_in(asked.outgoing), client=me, now=now
    )
    assert isinstance(opened, BlockedAccess)
    seen.append(opened.token)


async def _add_and_remove_a_passkey(
    accounts: Harness, account_id: int, me: Client, now: datetime
) -> None:
    rp = passkeys.RelyingParty.from_origin("https://console.example.com")
    options = await accounts.run(
        passkeys.begin_registration, account_id, rp, session_started=now, now=now
    )
    answer = SoftAuthenticator(rp.origin).create(options)  # type: ignore[arg-type]
    added = await accounts.run(
        passkeys.finish_registration, account_id, answer, name="", rp=rp, client=me, now=now
    )
    assert isinstance(added, passkeys.PasskeyAdded)
    await accounts.db(passkeys.remove_passkey, account_id, added.passkey.id, client=me, now=now)


async def svc_list_sessions(session: AsyncSession, account_id: int, current: str) -> list[int]:
    """The ids of the account's sessions other than `current`."""
    views = await list_sessions(session, account_id, current_token=current, now=T0)
    return [view.id for view in views if not view.current]


async def test_every_action_is_recorded_without_secrets(accounts: Harness) -> None:
    seen = await _tour(accounts)
    entries: list[AuditRecord] = []
    before = None
    while True:
        page = await accounts.db(list_entries, before_id=before, limit=7)
        entries += page.entries
        if page.next_before_id is None:
            break
        before = page.next_before_id
    recorded = {entry.action for entry in entries}
    # The cancellation removed the account's own trail; the admin's and anonymous ones remain,
    # and the tour's checks above saw the rest before it went.
    assert "account.cancelled" in recorded
    assert {e.account_id for e in entries if e.action == "account.cancelled"} == {1}
    text = json.dumps([entry.as_dict() for entry in entries])
    for secret in seen:
        assert secret not in text
    assert [e.id for e in entries] == sorted((e.id for e in entries), reverse=True)


async def test_every_action_code_is_used(accounts: Harness) -> None:
    """Record the whole tour in a log that nothing erases, and compare with the fixed list."""
    recorded: set[str] = set()
    from humangate.accounts import audit as audit_module

    original = audit_module.record

    async def spy(session, action, **kwargs):  # type: ignore[no-untyped-def]
        recorded.add(action)
        await original(session, action, **kwargs)

    audit_module.record = spy  # type: ignore[assignment]
    try:
        await _tour(accounts)
    finally:
        audit_module.record = original  # type: ignore[assignment]
    # The console's page modules record the rest (tests/console/test_audit_http.py).
    assert recorded == ACTIONS - CONSOLE_ACTIONS


async def test_secrets_and_unknown_actions_are_refused(accounts: Harness) -> None:
    async with accounts.sessions() as session:
        with pytest.raises(ValueError, match="not an audit action"):
            await record(session, "login.guessed", actor=SYSTEM, account_id=None, now=T0)  # type: ignore[arg-type]
        for key in ("password", "session_token", "code", "password_hash"):
            with pytest.raises(ValueError, match="no secrets"):
                await record(
                    session,
                    "login.failed",
                    actor=SYSTEM,
                    account_id=None,
                    now=T0,
                    details={key: "x"},
                )


async def test_query_filters_and_pages(accounts: Harness) -> None:
    first = await accounts.signed_up("one@example.com")
    second = await accounts.signed_up("two@example.com")
    later = T0 + timedelta(hours=1)
    for _ in range(3):
        await accounts.run(
            svc.log_in, "one@example.com", "wrong password!", client=BROWSER, now=later
        )
    by_account = await accounts.db(list_entries, account_id=second.account.id)
    assert {e.account_id for e in by_account.entries} == {second.account.id}
    failed = await accounts.db(list_entries, action="login.failed")
    assert [e.account_id for e in failed.entries] == [first.account.id] * 3
    logins = await accounts.db(list_entries, action="login.", account_id=first.account.id)
    assert {e.action for e in logins.entries} == {"login.failed", "login.succeeded"}
    recent = await accounts.db(list_entries, since=later)
    assert len(recent.entries) == 3
    old = await accounts.db(list_entries, until=later)
    assert all(e.created_at < later for e in old.entries) and len(old.entries) > 3
    page = await accounts.db(list_entries, limit=2)
    assert len(page.entries) == 2 and page.next_before_id == page.entries[-1].id
    rest = await accounts.db(list_entries, before_id=page.next_before_id, limit=200)
    assert rest.next_before_id is None
    everything = await accounts.db(list_entries, limit=200)
    assert [e.id for e in page.entries + rest.entries] == [e.id for e in everything.entries]
    assert page.entries[0].ip_prefix == "203.0.113.0/24"
    for bad in ({"limit": 0}, {"limit": 201}, {"action": "nope"}, {"action": "nope."}):
        with pytest.raises(ValueError):
            await accounts.db(list_entries, **bad)
    assert await accounts.run(authenticate, first.session_token, now=T0) is not None
