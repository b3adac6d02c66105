"""A forgotten password: a reset code, then a new password that ends every other session."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from humangate import accounts as svc
from humangate.accounts import (
    CodeRejected,
    CodeSent,
    Locked,
    LoggedIn,
    LoginFailed,
    authenticate,
    create_admin,
    list_entries,
    suspend_account,
)
from humangate.accounts.recovery import request_password_reset, reset_password
from tests.accounts.conftest import BROWSER, PASSWORD, T0, Harness, code_in

NEW_PASSWORD = "a brand new passphrase"


async def ask(
    accounts: Harness, identifier: str = "owner@example.com", now: datetime = T0
) -> CodeSent:
    sent = await accounts.run(request_password_reset, identifier, client=BROWSER, now=now)
    assert isinstance(sent, CodeSent), sent
    return sent


async def test_reset_sets_the_password_ends_sessions_and_logs_in(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    sent = await ask(accounts)
    (message,) = sent.outgoing
    assert (message.to, message.template) == ("owner@example.com", "password-reset-code")
    done = await accounts.run(
        reset_password,
        "owner@example.com",
        code_in(sent.outgoing),
        NEW_PASSWORD,
        client=BROWSER,
        now=T0,
    )
    assert isinstance(done, LoggedIn)
    assert [m.template for m in done.outgoing][:1] == ["password-changed"]
    # The session from before the reset is over; the new one works.
    assert await accounts.run(authenticate, owner.session_token, now=T0) is None
    assert await accounts.run(authenticate, done.session_token, now=T0) is not None
    old = await accounts.run(svc.log_in, "owner@example.com", PASSWORD, client=BROWSER, now=T0)
    assert old == LoginFailed()
    new = await accounts.run(svc.log_in, "owner@example.com", NEW_PASSWORD, client=BROWSER, now=T0)
    assert not isinstance(new, LoginFailed)
    entries = await accounts.db(list_entries, account_id=owner.account.id, action="password.reset")
    assert entries.entries[0].details == {"sessions_ended": 1}


async def test_a_reset_code_works_once(accounts: Harness) -> None:
    await accounts.signed_up()
    code = code_in((await ask(accounts)).outgoing)

    async def reset() -> object:
        return await accounts.run(
            reset_password, "owner@example.com", code, NEW_PASSWORD, client=BROWSER, now=T0
        )

    assert isinstance(await reset(), LoggedIn)
    assert await reset() == CodeRejected("wrong-or-expired")


async def test_unknown_pending_and_blocked_identifiers_look_the_same(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    await accounts.run(svc.sign_up, "pending@example.com", PASSWORD, client=BROWSER, now=T0)
    admin = await accounts.run(create_admin, "ops@example.com", "operator passphrase", now=T0)
    await accounts.run(
        suspend_account, owner.account.id, admin_id=admin.id, reason="x", client=BROWSER, now=T0
    )
    later = T0 + timedelta(minutes=2)
    for identifier in ("nobody@example.com", "pending@example.com", "owner@example.com"):
        sent = await ask(accounts, identifier, now=later)
        assert sent.outgoing == () and sent.expires_in == 600
        refused = await accounts.run(
            reset_password, identifier, "123456", NEW_PASSWORD, client=BROWSER, now=later
        )
        assert refused == CodeRejected("wrong-or-expired")


async def test_codes_of_other_purposes_do_not_reset(accounts: Harness) -> None:
    await accounts.signed_up()
    login = await accounts.run(svc.request_login_code, "owner@example.com", client=BROWSER, now=T0)
    refused = await accounts.run(
        reset_password,
        "owner@example.com",
        code_in(login.outgoing),  # type: ignore[union-attr]
        NEW_PASSWORD,
        client=BROWSER,
        now=T0,
    )
    assert refused == CodeRejected("wrong-or-expired")


async def test_wrong_codes_lock_the_identifier_on_this_network(accounts: Harness) -> None:
    await accounts.signed_up()
    code = code_in((await ask(accounts)).outgoing)
    wrong = "000000" if code != "000000" else "111111"
    outcomes = [
        await accounts.run(
            reset_password, "owner@example.com", wrong, NEW_PASSWORD, client=BROWSER, now=T0
        )
        for _ in range(accounts.ctx.policy.lockout_failures)
    ]
    assert isinstance(outcomes[-1], Locked)
    locked = await accounts.run(
        reset_password, "owner@example.com", code, NEW_PASSWORD, client=BROWSER, now=T0
    )
    assert isinstance(locked, Locked)


@pytest.mark.parametrize(
    ("code", "password"),
    [("12", NEW_PASSWORD), ("abcdef", NEW_PASSWORD), ("123456", "short"), ("123456", "x" * 2000)],
)
async def test_bad_input_raises_and_changes_nothing(
    accounts: Harness, code: str, password: str
) -> None:
    await accounts.signed_up()
    await ask(accounts)
    before = await accounts.snapshot()
    with pytest.raises(ValueError):
        await accounts.run(
            reset_password, "owner@example.com", code, password, client=BROWSER, now=T0
        )
    with pytest.raises(ValueError):
        await accounts.run(request_password_reset, "not an address", client=BROWSER, now=T0)
    assert await accounts.snapshot() == before


async def test_requests_count_against_the_resend_limit(accounts: Harness) -> None:
    await accounts.signed_up()
    later = T0 + timedelta(minutes=3)
    await ask(accounts, now=later)
    throttled = await accounts.run(
        request_password_reset, "owner@example.com", client=BROWSER, now=later
    )
    assert not isinstance(throttled, CodeSent)
