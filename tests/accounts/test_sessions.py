"""Console sessions: rotation at login, idle and absolute expiry, logout and revocation."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest

from humangate import accounts as svc
from humangate.accounts import (
    Client,
    LoggedIn,
    authenticate,
    list_entries,
    list_sessions,
    log_out,
    revoke_other_sessions,
    revoke_session,
)
from humangate.accounts._keys import sha256_hex
from humangate.accounts.sessions import clean_label, new_token
from tests.accounts.conftest import BROWSER, PASSWORD, SIGNED_UP, T0, Harness


def test_tokens_carry_256_bits() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100
    assert all(len(token) == 43 for token in tokens)  # 32 bytes, base64url without padding


def test_device_labels_are_cleaned() -> None:
    assert clean_label(None) == "Unknown device"
    assert clean_label("  Firefox\n on\x00 Linux ") == "Firefox on Linux"
    assert len(clean_label("x" * 500)) == 100


async def _log_in(accounts: Harness, owner: LoggedIn, session_token: str | None = None) -> LoggedIn:
    client = Client(ip=BROWSER.ip, device_token=owner.device_token, session_token=session_token)
    login = await accounts.run(svc.log_in, "owner@example.com", PASSWORD, client=client, now=T0)
    assert isinstance(login, LoggedIn), login
    return login


async def test_login_rotates_the_session(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    # The browser's old session ends; a new token replaces it.
    login = await _log_in(accounts, owner, session_token=owner.session_token)
    assert login.session_token != owner.session_token
    assert await accounts.run(authenticate, owner.session_token, now=T0) is None
    assert await accounts.run(authenticate, login.session_token, now=T0) is not None
    # A token planted before login (session fixation) is never promoted to a session.
    planted = secrets.token_urlsafe(32)
    fixed = await _log_in(accounts, owner, session_token=planted)
    assert fixed.session_token != planted
    assert await accounts.run(authenticate, planted, now=T0) is None


async def test_sessions_store_only_digests(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    cells = str(await accounts.snapshot())
    assert owner.session_token not in cells
    assert owner.device_token not in cells
    assert sha256_hex(owner.session_token) in cells


async def test_idle_expiry(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    token = owner.session_token
    almost = SIGNED_UP + timedelta(hours=11, minutes=59)
    assert await accounts.run(authenticate, token, now=almost) is not None
    # Being seen pushes the idle deadline on.
    assert await accounts.run(authenticate, token, now=almost + timedelta(hours=11)) is not None
    idle = almost + timedelta(hours=23)
    assert await accounts.run(authenticate, token, now=idle) is None
    # An ended session is gone for good, even if asked about at an earlier time.
    assert await accounts.run(authenticate, token, now=almost) is None


async def test_absolute_expiry(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    token = owner.session_token
    moment = SIGNED_UP
    while moment + timedelta(hours=11) < SIGNED_UP + timedelta(days=30):
        moment += timedelta(hours=11)
        info = await accounts.run(authenticate, token, now=moment)
        assert info is not None
        assert info.session.expires_at == SIGNED_UP + timedelta(days=30)
    assert await accounts.run(authenticate, token, now=SIGNED_UP + timedelta(days=30)) is None


async def test_garbage_tokens_find_nothing(accounts: Harness) -> None:
    await accounts.signed_up()
    for token in (None, "", "x", "a" * 5000, sha256_hex("nothing")):
        assert await accounts.run(authenticate, token, now=T0) is None


async def test_log_out(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    assert await accounts.run(log_out, owner.session_token, ip=BROWSER.ip, now=T0) is True
    assert await accounts.run(authenticate, owner.session_token, now=T0) is None
    assert await accounts.run(log_out, owner.session_token, ip=BROWSER.ip, now=T0) is False
    page = await accounts.db(list_entries, account_id=owner.account.id, action="session.logout")
    assert len(page.entries) == 1 and page.entries[0].ip_prefix == "203.0.113.0/24"


async def test_list_and_revoke_sessions(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    second = await _log_in(accounts, owner)
    third = await _log_in(accounts, owner)
    async with accounts.sessions() as session:
        listed = await list_sessions(
            session, owner.account.id, current_token=third.session_token, now=T0
        )
    assert len(listed) == 3
    assert [view.current for view in listed].count(True) == 1
    assert all(view.ip_prefix == "203.0.113.0/24" for view in listed)
    # Revoking one by id; another account cannot revoke it.
    target = next(view for view in listed if not view.current)
    assert (
        await accounts.run(revoke_session, owner.account.id + 1, target.id, ip=None, now=T0)
        is False
    )
    assert await accounts.run(revoke_session, owner.account.id, target.id, ip=None, now=T0)
    # Revoking all others keeps only the caller's.
    ended = await accounts.run(
        revoke_other_sessions, owner.account.id, third.session_token, ip=BROWSER.ip, now=T0
    )
    assert ended == 1
    alive = [
        token
        for token in (owner.session_token, second.session_token, third.session_token)
        if await accounts.run(authenticate, token, now=T0) is not None
    ]
    assert alive == [third.session_token]
    page = await accounts.db(list_entries, account_id=owner.account.id, action="session.")
    assert {e.action for e in page.entries} == {"session.revoked", "session.revoked_others"}


async def test_revoke_others_needs_the_callers_own_session(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    before = await accounts.snapshot()
    with pytest.raises(ValueError, match="does not belong"):
        await accounts.run(
            revoke_other_sessions, owner.account.id + 1, owner.session_token, ip=None, now=T0
        )
    assert await accounts.snapshot() == before
