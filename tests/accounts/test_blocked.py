"""A suspended or banned owner keeps export and erasure (accounts/blocked.py), and the operator's
cancellations: by an admin, and at the command line."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from humangate.accounts import (
    BlockedAccess,
    Cancelled,
    CodeRejected,
    CodeSent,
    Throttled,
    authenticate,
    blocked_account,
    cancel_account,
    cancel_account_as_operator,
    cancel_blocked_account,
    create_admin,
    end_blocked_access,
    export_blocked_account,
    find_account_by,
    list_entries,
    open_blocked_access,
    request_blocked_code,
    restore_account,
    sign_up,
    suspend_account,
)
from humangate.accounts.blocked import ACCESS_TTL, BAN_HOLD
from humangate.accounts.identifiers import parse_identifier
from humangate.db import accounts as account_db
from tests.accounts.conftest import BROWSER, T0, Harness, code_in

ADMIN_PASSWORD = "operator passphrase"
OWNER = "owner@example.com"


async def _blocked_owner(accounts: Harness, *, ban: bool) -> tuple[int, int]:
    """An owner suspended (or banned) by an admin; returns (owner id, admin id)."""
    owner = await accounts.signed_up(OWNER)
    admin = await accounts.run(create_admin, "admin@example.com", ADMIN_PASSWORD, now=T0)
    await accounts.run(
        suspend_account,
        owner.account.id,
        admin_id=admin.id,
        reason="Spam from your forms.",
        ban=ban,
        client=BROWSER,
        now=T0,
    )
    return owner.account.id, admin.id


async def _open(accounts: Harness, now: datetime = T0) -> BlockedAccess:
    sent = await accounts.run(request_blocked_code, OWNER, client=BROWSER, now=now)
    assert isinstance(sent, CodeSent)
    opened = await accounts.run(
        open_blocked_access, OWNER, code_in(sent.outgoing), client=BROWSER, now=now
    )
    assert isinstance(opened, BlockedAccess), opened
    return opened


async def _held_until(accounts: Harness, identifier: str, now: datetime) -> datetime | None:
    ident = parse_identifier(identifier, default_region="US")
    digest = accounts.ctx.keys.identifier_digest(ident)
    return await accounts.db(account_db.find_hold, digest, now)


async def test_a_suspended_owner_exports_then_cancels(accounts: Harness) -> None:
    owner_id, _ = await _blocked_owner(accounts, ban=False)
    access = await _open(accounts)
    assert access.account.id == owner_id and access.expires_in == ACCESS_TTL.total_seconds()
    assert access.token not in repr(access)
    # The access is no session: nothing else in the console accepts it.
    assert await accounts.run(authenticate, access.token, now=T0) is None

    data = await accounts.run(export_blocked_account, access.token, client=BROWSER, now=T0)
    assert data is not None and data["account"]["email"] == OWNER  # type: ignore[index]
    actions = [e.action for e in (await accounts.db(list_entries, account_id=owner_id)).entries]
    assert actions[:2] == ["account.exported", "login.limited"]

    done = await accounts.run(cancel_blocked_account, access.token, client=BROWSER, now=T0)
    assert isinstance(done, Cancelled) and done.account_id == owner_id
    assert done.held_until == T0 + accounts.ctx.policy.hold_period
    assert [m.template for m in done.outgoing] == ["account-cancelled"]
    assert await accounts.db(account_db.get_account, owner_id) is None
    (entry,) = (await accounts.db(list_entries, account_id=owner_id)).entries
    assert (entry.action, entry.actor_kind, entry.actor_id) == (
        "account.cancelled",
        "account",
        owner_id,
    )
    # The access ended with the account.
    assert await accounts.run(blocked_account, access.token) is None
    again = await accounts.run(cancel_blocked_account, access.token, client=BROWSER, now=T0)
    assert again is None


async def test_a_ban_does_not_lapse_by_cancellation(accounts: Harness) -> None:
    await _blocked_owner(accounts, ban=True)
    access = await _open(accounts)
    done = await accounts.run(cancel_blocked_account, access.token, client=BROWSER, now=T0)
    assert done is not None and done.held_until == T0 + BAN_HOLD
    later = T0 + timedelta(days=200)
    assert await _held_until(accounts, OWNER, later) == T0 + BAN_HOLD
    retry = await accounts.run(sign_up, OWNER, "a new long passphrase", client=BROWSER, now=later)
    assert isinstance(retry, CodeSent)
    assert [m.template for m in retry.outgoing] == ["identifier-held"]


async def test_the_code_request_says_nothing_about_the_identifier(accounts: Harness) -> None:
    await _blocked_owner(accounts, ban=False)
    await accounts.signed_up("active@example.com")
    earlier = T0 - timedelta(minutes=3)
    await accounts.run(
        sign_up, "pending@example.com", "a long passphrase", client=BROWSER, now=earlier
    )
    answers = {}
    for who in (OWNER, "active@example.com", "pending@example.com", "nobody@example.com"):
        answers[who] = await accounts.run(request_blocked_code, who, client=BROWSER, now=T0)
    shapes = {
        (type(a), getattr(a, "expires_in", 0), getattr(a, "message", "")) for a in answers.values()
    }
    assert len(shapes) == 1
    assert [len(a.outgoing) for a in answers.values()] == [1, 0, 0, 0]  # type: ignore[union-attr]
    # Every identifier is throttled the same way, known or not.
    for who in (OWNER, "nobody@example.com"):
        again = await accounts.run(request_blocked_code, who, client=BROWSER, now=T0)
        assert isinstance(again, Throttled)
    with pytest.raises(ValueError):
        await accounts.run(request_blocked_code, "not an address", client=BROWSER, now=T0)


async def test_wrong_codes_and_other_accounts_open_nothing(accounts: Harness) -> None:
    owner_id, admin_id = await _blocked_owner(accounts, ban=False)
    active = await accounts.signed_up("active@example.com")
    sent = await accounts.run(request_blocked_code, OWNER, client=BROWSER, now=T0)
    assert isinstance(sent, CodeSent)
    code = code_in(sent.outgoing)
    wrong = "000000" if code != "000000" else "111111"
    for who, typed in ((OWNER, wrong), ("active@example.com", code), ("no@example.com", code)):
        refused = await accounts.run(open_blocked_access, who, typed, client=BROWSER, now=T0)
        assert refused == CodeRejected("wrong-or-expired"), who
    with pytest.raises(ValueError):
        await accounts.run(open_blocked_access, OWNER, "12", client=BROWSER, now=T0)
    access = await accounts.run(open_blocked_access, OWNER, code, client=BROWSER, now=T0)
    assert isinstance(access, BlockedAccess) and access.account.id == owner_id
    assert access.account.id != active.account.id
    # Restoring the account closes the limited access: its owner logs in again instead.
    await accounts.run(restore_account, owner_id, admin_id=admin_id, client=BROWSER, now=T0)
    assert await accounts.run(blocked_account, access.token) is None
    assert await accounts.run(export_blocked_account, access.token, client=BROWSER, now=T0) is None
    assert await accounts.db(account_db.get_account, owner_id) is not None


async def test_ending_the_access(accounts: Harness) -> None:
    await _blocked_owner(accounts, ban=False)
    access = await _open(accounts)
    assert await accounts.run(blocked_account, access.token) is not None
    await end_blocked_access(accounts.ctx, access.token)
    assert await accounts.run(blocked_account, access.token) is None
    assert await accounts.run(blocked_account, None) is None


async def test_an_admin_cancelling_a_banned_account_keeps_the_ban_hold(accounts: Harness) -> None:
    owner_id, admin_id = await _blocked_owner(accounts, ban=True)
    done = await accounts.run(
        cancel_account, owner_id, admin_id=admin_id, reason="Court order 12/2026", now=T0
    )
    assert done.held_until == T0 + BAN_HOLD
    assert done.outgoing[0].params == {"reason": "Court order 12/2026"}


async def test_the_operator_cancels_at_the_command_line(accounts: Harness) -> None:
    owner = await accounts.signed_up(OWNER)
    found = await accounts.run(find_account_by, OWNER.upper())
    assert found.id == owner.account.id
    for text in (str(owner.account.id), f"#{owner.account.id}"):
        assert (await accounts.run(find_account_by, text)).id == owner.account.id
    for missing in ("nobody@example.com", "#999999", "#1234567890123"):
        with pytest.raises(ValueError):
            await accounts.run(find_account_by, missing)
    with pytest.raises(ValueError):
        await accounts.run(cancel_account_as_operator, owner.account.id, reason="  ", now=T0)
    assert await accounts.db(account_db.get_account, owner.account.id) is not None

    done = await accounts.run(
        cancel_account_as_operator, owner.account.id, reason="Court order", now=T0
    )
    assert done.held_until == T0 + accounts.ctx.policy.hold_period
    (entry,) = (await accounts.db(list_entries, account_id=owner.account.id)).entries
    assert (entry.action, entry.actor_kind, entry.actor_id) == (
        "account.cancelled",
        "operator",
        None,
    )
    assert entry.details["reason"] == "Court order"
