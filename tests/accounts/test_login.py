"""Sign-up, confirmation and login: by password, with step-up, and by code."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from humangate import accounts as svc
from humangate.accounts import (
    AccountBlocked,
    Client,
    CodeRejected,
    CodeSent,
    Locked,
    LoggedIn,
    LoginFailed,
    StepUpRequired,
    Throttled,
    authenticate,
    create_admin,
    list_entries,
    suspend_account,
)
from tests.accounts.conftest import BROWSER, PASSWORD, T0, Harness, code_in


def again(logged: LoggedIn, **changes: object) -> Client:
    """The same browser, now holding its device cookie (and session, unless changed)."""
    values: dict[str, object] = {
        "ip": BROWSER.ip,
        "device_label": BROWSER.device_label,
        "device_token": logged.device_token,
        "session_token": logged.session_token,
    }
    values.update(changes)
    return Client(**values)  # type: ignore[arg-type]


async def test_sign_up_confirm_then_log_in(accounts: Harness) -> None:
    sent = await accounts.run(svc.sign_up, "Owner@Example.COM", PASSWORD, client=BROWSER, now=T0)
    assert isinstance(sent, CodeSent)
    (message,) = sent.outgoing
    assert (message.kind, message.to, message.template) == (
        "email",
        "Owner@example.com",
        "signup-code",
    )
    assert message.params["minutes"] == "10" and len(message.params["code"]) == 6
    assert sent.expires_in == 600

    # Pending: a password login looks exactly like an unknown identifier.
    pending = await accounts.run(svc.log_in, "owner@example.com", PASSWORD, client=BROWSER, now=T0)
    assert pending == LoginFailed()

    done = await accounts.run(
        svc.confirm_sign_up, "owner@example.com", message.params["code"], client=BROWSER, now=T0
    )
    assert isinstance(done, LoggedIn)
    assert done.account.status == "active" and done.account.role == "owner"
    assert done.account.email == "Owner@example.com"
    assert len(done.session_token) >= 43 and len(done.device_token) >= 43

    later = T0 + timedelta(minutes=5)
    login = await accounts.run(
        svc.log_in, "OWNER@example.com", PASSWORD, client=again(done), now=later
    )
    assert isinstance(login, LoggedIn)
    assert login.account.id == done.account.id
    info = await accounts.run(authenticate, login.session_token, now=later)
    assert info is not None and info.account.id == done.account.id
    assert info.session.ip_prefix == "203.0.113.0/24"
    assert info.session.device_label == "Firefox on Linux"


async def actions(accounts: Harness, account_id: int | None = None) -> list[str]:
    """Audit actions about an account (or every one), oldest first."""
    page = await accounts.db(list_entries, account_id=account_id, limit=200)
    return [entry.action for entry in reversed(page.entries)]


# --- sign-up ------------------------------------------------------------------------------------


async def test_sign_up_for_a_taken_identifier_looks_the_same(accounts: Harness) -> None:
    owner = await accounts.signed_up("owner@example.com")
    before = await accounts.snapshot()
    later = T0 + timedelta(minutes=1)
    sent = await accounts.run(
        svc.sign_up, "owner@example.com", "another fine password", client=BROWSER, now=later
    )
    assert isinstance(sent, CodeSent) and sent.expires_in == 600
    (notice,) = sent.outgoing
    assert (notice.to, notice.template, dict(notice.params)) == (
        "owner@example.com",
        "already-registered",
        {},
    )
    assert await accounts.snapshot() == before
    login = await accounts.run(
        svc.log_in, "owner@example.com", PASSWORD, client=again(owner), now=T0
    )
    assert isinstance(login, LoggedIn)


async def test_a_new_sign_up_replaces_an_unconfirmed_one(accounts: Harness) -> None:
    first = await accounts.run(svc.sign_up, "new@example.com", PASSWORD, client=BROWSER, now=T0)
    later = T0 + timedelta(minutes=2)
    second = await accounts.run(
        svc.sign_up, "new@example.com", "a different passphrase", client=BROWSER, now=later
    )
    assert isinstance(first, CodeSent) and isinstance(second, CodeSent)
    stale = await accounts.run(
        svc.confirm_sign_up, "new@example.com", code_in(first.outgoing), client=BROWSER, now=later
    )
    assert stale == CodeRejected("wrong-or-expired")
    done = await accounts.run(
        svc.confirm_sign_up, "new@example.com", code_in(second.outgoing), client=BROWSER, now=later
    )
    assert isinstance(done, LoggedIn)
    old = await accounts.run(svc.log_in, "new@example.com", PASSWORD, client=again(done), now=later)
    assert old == LoginFailed()


async def test_phone_sign_up_uses_e164_and_sms(accounts: Harness) -> None:
    sent = await accounts.run(svc.sign_up, "(202) 555-0143", PASSWORD, client=BROWSER, now=T0)
    assert isinstance(sent, CodeSent)
    (message,) = sent.outgoing
    assert (message.kind, message.to) == ("sms", "+12025550143")
    done = await accounts.run(
        svc.confirm_sign_up, "+1 202 555 0143", code_in(sent.outgoing), client=BROWSER, now=T0
    )
    assert isinstance(done, LoggedIn) and done.account.phone == "+12025550143"
    assert done.account.email is None


async def test_confirmation_after_the_pending_period_fails(accounts: Harness) -> None:
    sent = await accounts.run(svc.sign_up, "slow@example.com", PASSWORD, client=BROWSER, now=T0)
    assert isinstance(sent, CodeSent)
    late = T0 + timedelta(hours=24)
    rejected = await accounts.run(
        svc.confirm_sign_up, "slow@example.com", code_in(sent.outgoing), client=BROWSER, now=late
    )
    assert rejected == CodeRejected("wrong-or-expired")


# --- password login: failures, lockout, no enumeration ------------------------------------------


async def test_wrong_password_locks_the_path(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    client = again(owner)
    outcomes = [
        await accounts.run(
            svc.log_in, "owner@example.com", "not the password", client=client, now=T0
        )
        for _ in range(5)
    ]
    assert outcomes[:4] == [LoginFailed()] * 4
    assert isinstance(outcomes[4], Locked) and 0 < outcomes[4].retry_after <= 15 * 60
    # While locked even the right password is refused, without being checked.
    verified = len(accounts.hasher.verified)
    still = await accounts.run(svc.log_in, "owner@example.com", PASSWORD, client=client, now=T0)
    assert isinstance(still, Locked)
    assert len(accounts.hasher.verified) == verified
    # The lock ends after the period.
    later = T0 + timedelta(minutes=15, seconds=1)
    login = await accounts.run(svc.log_in, "owner@example.com", PASSWORD, client=client, now=later)
    assert isinstance(login, LoggedIn)
    logged = await actions(accounts, owner.account.id)
    assert logged.count("login.failed") == 5 and "login.locked" in logged


async def test_unknown_identifier_is_indistinguishable(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    client = again(owner)
    hasher = accounts.hasher
    known = await accounts.run(
        svc.log_in, "owner@example.com", "wrong password!", client=client, now=T0
    )
    assert hasher.verified[-1] != hasher.dummy_hash
    unknown = await accounts.run(
        svc.log_in, "nobody@example.com", "wrong password!", client=client, now=T0
    )
    # Same value, same shape; and one argon2 verification, against the dummy hash.
    assert known == unknown == LoginFailed()
    assert hasher.verified[-1] == hasher.dummy_hash
    # An unknown identifier locks exactly like a known one.
    for _ in range(4):
        known = await accounts.run(svc.log_in, "owner@example.com", "x" * 12, client=client, now=T0)
        unknown = await accounts.run(
            svc.log_in, "nobody@example.com", "x" * 12, client=client, now=T0
        )
    assert isinstance(known, Locked) and isinstance(unknown, Locked)
    assert known == unknown
    # A login code request answers alike too, with nothing to send for the unknown one.
    later = T0 + timedelta(minutes=1)
    sent_known = await accounts.run(
        svc.request_login_code, "owner@example.com", client=client, now=later
    )
    sent_unknown = await accounts.run(
        svc.request_login_code, "nobody@example.com", client=client, now=later
    )
    assert isinstance(sent_known, CodeSent) and isinstance(sent_unknown, CodeSent)
    assert len(sent_known.outgoing) == 1 and sent_unknown.outgoing == ()
    assert (sent_known.expires_in, sent_known.message) == (
        sent_unknown.expires_in,
        sent_unknown.message,
    )


async def test_account_lock_spans_networks_but_a_code_still_logs_in(accounts: Harness) -> None:
    strict = accounts.with_policy(lockout_failures=10, account_lockout_failures=3)
    owner = await strict.signed_up()
    for last in ("1", "2", "3"):
        client = again(owner, ip=f"198.51.{last}.9")
        await strict.run(svc.log_in, "owner@example.com", "wrong password!", client=client, now=T0)
    locked = await strict.run(
        svc.log_in, "owner@example.com", PASSWORD, client=again(owner), now=T0
    )
    assert isinstance(locked, Locked)
    # The owner is not locked out by an attacker: a code to the mailbox still works.
    code_client = again(owner, ip="192.0.2.1")
    later = T0 + timedelta(minutes=1)
    sent = await strict.run(
        svc.request_login_code, "owner@example.com", client=code_client, now=later
    )
    assert isinstance(sent, CodeSent)
    done = await strict.run(
        svc.log_in_with_code,
        "owner@example.com",
        code_in(sent.outgoing),
        client=code_client,
        now=later,
    )
    assert isinstance(done, LoggedIn)


async def test_a_long_password_is_bad_input(accounts: Harness) -> None:
    await accounts.signed_up()
    with pytest.raises(ValueError, match="at most 256"):
        await accounts.run(svc.log_in, "owner@example.com", "p" * 257, client=BROWSER, now=T0)


# --- step-up on a new device or network ---------------------------------------------------------


async def test_new_device_needs_a_code(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    stranger = Client(ip=BROWSER.ip, device_label="Safari on iPhone")  # no device cookie
    step = await accounts.run(svc.log_in, "owner@example.com", PASSWORD, client=stranger, now=T0)
    assert isinstance(step, StepUpRequired)
    (message,) = step.outgoing
    assert (message.to, message.template) == ("owner@example.com", "new-device-code")
    assert message.params["device"] == "Safari on iPhone"
    assert message.params["network"] == "203.0.113.0/24"
    device = Client(ip=BROWSER.ip, device_token=step.device_token, device_label="Safari on iPhone")

    wrong = "000000" if message.params["code"] != "000000" else "111111"
    rejected = await accounts.run(
        svc.complete_step_up, step.step_up_token, wrong, client=device, now=T0
    )
    assert rejected == CodeRejected("invalid")
    # Another browser cannot finish this login, even with the right code.
    other = Client(ip=BROWSER.ip, device_token=owner.device_token)
    code = message.params["code"]
    stolen = await accounts.run(
        svc.complete_step_up, step.step_up_token, code, client=other, now=T0
    )
    assert stolen == CodeRejected("unavailable")

    done = await accounts.run(svc.complete_step_up, step.step_up_token, code, client=device, now=T0)
    assert isinstance(done, LoggedIn) and done.device_token == step.device_token
    replay = await accounts.run(
        svc.complete_step_up, step.step_up_token, code, client=device, now=T0
    )
    assert replay == CodeRejected("expired")
    # The device is known now: no second step-up.
    again_ = await accounts.run(svc.log_in, "owner@example.com", PASSWORD, client=device, now=T0)
    assert isinstance(again_, LoggedIn)
    logged = await actions(accounts, owner.account.id)
    assert {"login.step_up", "code.rejected", "device.added"} <= set(logged)


async def test_new_network_needs_a_code(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    travelling = again(owner, ip="2001:db8:1:2::5")
    step = await accounts.run(svc.log_in, "owner@example.com", PASSWORD, client=travelling, now=T0)
    assert isinstance(step, StepUpRequired)
    assert step.outgoing[0].params["network"] == "2001:db8:1:2::/64"
    # The same /24 is the same network.
    neighbour = again(owner, ip="203.0.113.200")
    same = await accounts.run(svc.log_in, "owner@example.com", PASSWORD, client=neighbour, now=T0)
    assert isinstance(same, LoggedIn)


async def test_step_up_expires(accounts: Harness) -> None:
    await accounts.signed_up()
    step = await accounts.run(svc.log_in, "owner@example.com", PASSWORD, client=BROWSER, now=T0)
    assert isinstance(step, StepUpRequired)
    device = Client(ip=BROWSER.ip, device_token=step.device_token)
    late = T0 + timedelta(minutes=10, seconds=1)
    code = code_in(step.outgoing)
    expired = await accounts.run(
        svc.complete_step_up, step.step_up_token, code, client=device, now=late
    )
    assert expired == CodeRejected("expired")


async def test_step_up_codes_are_throttled(accounts: Harness) -> None:
    await accounts.signed_up()
    first = await accounts.run(svc.log_in, "owner@example.com", PASSWORD, client=BROWSER, now=T0)
    second = await accounts.run(svc.log_in, "owner@example.com", PASSWORD, client=BROWSER, now=T0)
    assert isinstance(first, StepUpRequired) and isinstance(second, StepUpRequired)
    assert len(first.outgoing) == 1 and second.outgoing == ()
    assert second.resend_after is not None and 0 < second.resend_after <= 60
    # The code already sent still finishes the second attempt.
    device = Client(ip=BROWSER.ip, device_token=second.device_token)
    done = await accounts.run(
        svc.complete_step_up, second.step_up_token, code_in(first.outgoing), client=device, now=T0
    )
    assert isinstance(done, LoggedIn)


# --- login by code ------------------------------------------------------------------------------


async def _login_code(accounts: Harness, now: datetime, client: Client = BROWSER) -> str:
    sent = await accounts.run(svc.request_login_code, "owner@example.com", client=client, now=now)
    assert isinstance(sent, CodeSent), sent
    (message,) = sent.outgoing
    assert message.template == "login-code"
    return message.params["code"]


async def test_login_code_is_single_use_and_needs_no_step_up(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    later = T0 + timedelta(minutes=1)
    phone_browser = Client(ip="198.51.100.4", device_label="Chrome on Android")
    code = await _login_code(accounts, later, phone_browser)
    done = await accounts.run(
        svc.log_in_with_code, "owner@example.com", code, client=phone_browser, now=later
    )
    assert isinstance(done, LoggedIn) and done.account.id == owner.account.id
    replay = await accounts.run(
        svc.log_in_with_code, "owner@example.com", code, client=phone_browser, now=later
    )
    assert replay == CodeRejected("wrong-or-expired")
    # The device and network of a code login are known from then on.
    device = Client(ip="198.51.100.4", device_token=done.device_token)
    login = await accounts.run(svc.log_in, "owner@example.com", PASSWORD, client=device, now=later)
    assert isinstance(login, LoggedIn)


async def test_login_code_expires(accounts: Harness) -> None:
    await accounts.signed_up()
    later = T0 + timedelta(minutes=1)
    code = await _login_code(accounts, later)
    late = later + timedelta(minutes=10)
    expired = await accounts.run(
        svc.log_in_with_code, "owner@example.com", code, client=BROWSER, now=late
    )
    assert expired == CodeRejected("wrong-or-expired")
    almost = later + timedelta(minutes=9, seconds=59)
    code = await _login_code(accounts, almost)
    done = await accounts.run(
        svc.log_in_with_code, "owner@example.com", code, client=BROWSER, now=almost
    )
    assert isinstance(done, LoggedIn)


@pytest.mark.parametrize("wrong_entries, works", [(4, True), (5, False)])
async def test_login_code_dies_after_five_wrong_entries(
    accounts: Harness, wrong_entries: int, works: bool
) -> None:
    lenient = accounts.with_policy(lockout_failures=100)
    await lenient.signed_up()
    later = T0 + timedelta(minutes=1)
    code = await _login_code(lenient, later)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(wrong_entries):
        rejected = await lenient.run(
            svc.log_in_with_code, "owner@example.com", wrong, client=BROWSER, now=later
        )
        assert rejected == CodeRejected("wrong-or-expired")
    final = await lenient.run(
        svc.log_in_with_code, "owner@example.com", code, client=BROWSER, now=later
    )
    assert isinstance(final, LoggedIn) is works


async def test_wrong_codes_lock_the_code_path(accounts: Harness) -> None:
    await accounts.signed_up()
    later = T0 + timedelta(minutes=1)
    code = await _login_code(accounts, later)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    outcomes = [
        await accounts.run(
            svc.log_in_with_code, "owner@example.com", wrong, client=BROWSER, now=later
        )
        for _ in range(5)
    ]
    assert outcomes[:4] == [CodeRejected("wrong-or-expired")] * 4
    assert isinstance(outcomes[4], Locked)
    unknown = [
        await accounts.run(
            svc.log_in_with_code, "nobody@example.com", wrong, client=BROWSER, now=later
        )
        for _ in range(5)
    ]
    assert unknown == outcomes


async def test_resend_throttling(accounts: Harness) -> None:
    await accounts.signed_up()
    start = T0 + timedelta(minutes=1)
    for identifier in ("owner@example.com", "nobody@example.com"):
        first = await accounts.run(svc.request_login_code, identifier, client=BROWSER, now=start)
        second = await accounts.run(svc.request_login_code, identifier, client=BROWSER, now=start)
        assert isinstance(first, CodeSent)
        assert isinstance(second, Throttled) and second.retry_after == 30
    # One a minute, five an hour.
    outcomes = []
    for minute in range(2, 8):
        moment = T0 + timedelta(minutes=minute)
        sent = await accounts.run(
            svc.request_login_code, "owner@example.com", client=BROWSER, now=moment
        )
        outcomes.append(type(sent))
    assert outcomes == [CodeSent] * 4 + [Throttled] * 2
    next_hour = T0 + timedelta(hours=1)
    assert isinstance(
        await accounts.run(
            svc.request_login_code, "owner@example.com", client=BROWSER, now=next_hour
        ),
        CodeSent,
    )


async def test_blocked_account_learns_why_only_with_the_right_password(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    admin = await accounts.run(create_admin, "admin@example.com", "operator passphrase", now=T0)
    await accounts.run(
        suspend_account,
        owner.account.id,
        admin_id=admin.id,
        reason="Phishing pages",
        client=BROWSER,
        now=T0,
    )
    client = again(owner)
    wrong = await accounts.run(
        svc.log_in, "owner@example.com", "wrong password!", client=client, now=T0
    )
    assert wrong == LoginFailed()
    blocked = await accounts.run(svc.log_in, "owner@example.com", PASSWORD, client=client, now=T0)
    assert blocked == AccountBlocked("suspended", "Phishing pages")
    later = T0 + timedelta(minutes=1)
    code = await _login_code(accounts, later)
    by_code = await accounts.run(
        svc.log_in_with_code, "owner@example.com", code, client=client, now=later
    )
    assert by_code == AccountBlocked("suspended", "Phishing pages")
    assert await accounts.run(authenticate, owner.session_token, now=later) is None
    assert "login.blocked" in await actions(accounts, owner.account.id)
