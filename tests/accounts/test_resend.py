"""Sending a code again: the new code works and the earlier one dies, the send limits hold,
and an identifier without a waiting flow gets the same answer as one with."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from humangate import accounts as svc
from humangate.accounts import (
    Client,
    CodeRejected,
    CodeSent,
    LoggedIn,
    StepUpRequired,
    Throttled,
    confirm_contact_change,
    list_entries,
    request_contact_change,
    resend_contact_code,
    resend_sign_up_code,
    resend_step_up_code,
)
from tests.accounts.conftest import BROWSER, PASSWORD, T0, Harness, code_in

EMAIL = "owner@example.com"
LATER = T0 + timedelta(minutes=1)  # the next minute: the per-minute limit allows one more


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


# --- sign-up -------------------------------------------------------------------------------------


async def test_a_resent_sign_up_code_replaces_the_first(accounts: Harness) -> None:
    sent = await accounts.run(svc.sign_up, EMAIL, PASSWORD, client=BROWSER, now=T0)
    assert isinstance(sent, CodeSent)
    first = code_in(sent.outgoing)

    resent = await accounts.run(resend_sign_up_code, "Owner@Example.com", client=BROWSER, now=LATER)
    assert isinstance(resent, CodeSent) and resent.expires_in == 600
    (message,) = resent.outgoing
    assert (message.kind, message.to, message.template) == (
        "email",
        "Owner@example.com",
        "signup-code",
    )
    second = message.params["code"]

    if first != second:  # one chance in a million that both are the same six digits
        old = await accounts.run(svc.confirm_sign_up, EMAIL, first, client=BROWSER, now=LATER)
        assert old == CodeRejected("wrong-or-expired")
    done = await accounts.run(svc.confirm_sign_up, EMAIL, second, client=BROWSER, now=LATER)
    assert isinstance(done, LoggedIn)
    entries = (await accounts.db(list_entries, account_id=done.account.id)).entries
    resends = [e for e in entries if e.action == "code.sent"]
    assert [dict(e.details) for e in resends] == [{"purpose": "signup", "resend": True}]


async def test_sign_up_resends_are_throttled(accounts: Harness) -> None:
    await accounts.run(svc.sign_up, EMAIL, PASSWORD, client=BROWSER, now=T0)
    # The sign-up's own message used this minute's allowance; T0 is half a minute in.
    throttled = await accounts.run(resend_sign_up_code, EMAIL, client=BROWSER, now=T0)
    assert throttled == Throttled(30)
    for minute in range(1, 5):
        moment = T0 + timedelta(minutes=minute)
        sent = await accounts.run(resend_sign_up_code, EMAIL, client=BROWSER, now=moment)
        assert isinstance(sent, CodeSent) and len(sent.outgoing) == 1, minute
    # Five messages this hour: the sixth waits for the next hour (09:00 to 10:00 UTC).
    moment = T0 + timedelta(minutes=5)
    hourly = await accounts.run(resend_sign_up_code, EMAIL, client=BROWSER, now=moment)
    assert hourly == Throttled(3600 - 5 * 60 - 30)


async def test_a_resend_says_nothing_about_the_account(accounts: Harness) -> None:
    await accounts.signed_up("active@example.com")
    await accounts.run(svc.sign_up, "stale@example.com", PASSWORD, client=BROWSER, now=T0)
    day_later = T0 + timedelta(hours=25)
    before = await accounts.snapshot()
    for identifier, moment in [
        ("nobody@example.com", LATER),
        ("active@example.com", LATER),
        ("stale@example.com", day_later),  # the sign-up was never confirmed in time
    ]:
        outcome = await accounts.run(resend_sign_up_code, identifier, client=BROWSER, now=moment)
        assert outcome == CodeSent((), 600), identifier
    assert await accounts.snapshot() == before
    # An unknown identifier is throttled like a known one.
    unknown = await accounts.run(
        resend_sign_up_code, "nobody@example.com", client=BROWSER, now=LATER
    )
    assert isinstance(unknown, Throttled)


async def test_a_malformed_identifier_is_refused(accounts: Harness) -> None:
    before = await accounts.snapshot()
    with pytest.raises(ValueError, match="write an e-mail address"):
        await accounts.run(resend_sign_up_code, "not an address", client=BROWSER, now=T0)
    assert await accounts.snapshot() == before


# --- step-up -------------------------------------------------------------------------------------


async def _step_up(
    accounts: Harness, identifier: str = EMAIL, now: datetime = T0
) -> tuple[StepUpRequired, Client]:
    stranger = Client(ip=BROWSER.ip, device_label="Safari on iPhone")  # no device cookie
    step = await accounts.run(svc.log_in, identifier, PASSWORD, client=stranger, now=now)
    assert isinstance(step, StepUpRequired)
    device = Client(ip=BROWSER.ip, device_token=step.device_token, device_label="Safari on iPhone")
    return step, device


async def test_a_resent_step_up_code_replaces_the_first(accounts: Harness) -> None:
    await accounts.signed_up()
    step, device = await _step_up(accounts)
    first = code_in(step.outgoing)
    throttled = await accounts.run(resend_step_up_code, step.step_up_token, client=device, now=T0)
    assert throttled == Throttled(30)

    resent = await accounts.run(resend_step_up_code, step.step_up_token, client=device, now=LATER)
    assert isinstance(resent, CodeSent)
    (message,) = resent.outgoing
    assert (message.to, message.template) == (EMAIL, "new-device-code")
    assert message.params["device"] == "Safari on iPhone"
    assert message.params["network"] == "203.0.113.0/24"
    second = message.params["code"]
    if first != second:
        old = await accounts.run(
            svc.complete_step_up, step.step_up_token, first, client=device, now=LATER
        )
        assert old == CodeRejected("invalid")
    done = await accounts.run(
        svc.complete_step_up, step.step_up_token, second, client=device, now=LATER
    )
    assert isinstance(done, LoggedIn)
    # The login is finished: its token cannot ask for more codes.
    over = await accounts.run(resend_step_up_code, step.step_up_token, client=device, now=LATER)
    assert over == CodeRejected("expired")


async def test_a_step_up_resend_needs_the_same_browser_and_a_live_login(
    accounts: Harness,
) -> None:
    owner = await accounts.signed_up()
    step, device = await _step_up(accounts)
    before = await accounts.snapshot()
    other = Client(ip=BROWSER.ip, device_token=owner.device_token)
    outcomes = [
        await accounts.run(resend_step_up_code, step.step_up_token, client=other, now=LATER),
        await accounts.run(resend_step_up_code, "made-up-token", client=device, now=LATER),
        await accounts.run(resend_step_up_code, "x" * 5000, client=device, now=LATER),
        await accounts.run(resend_step_up_code, "", client=device, now=LATER),
    ]
    assert outcomes == [CodeRejected("unavailable")] + [CodeRejected("expired")] * 3
    # The login's deadline stays ten minutes after the password; a resend does not move it.
    late = T0 + timedelta(minutes=10, seconds=1)
    expired = await accounts.run(resend_step_up_code, step.step_up_token, client=device, now=late)
    assert expired == CodeRejected("expired")
    assert await accounts.snapshot() == before


async def test_a_step_up_code_goes_again_to_the_identifier_used_to_log_in(
    accounts: Harness,
) -> None:
    owner = await accounts.signed_up()
    phone = "+1 202 555 0143"
    sent = await accounts.run(
        request_contact_change, owner.account.id, phone, PASSWORD, client=BROWSER, now=T0
    )
    assert isinstance(sent, CodeSent)
    changed = await accounts.run(
        confirm_contact_change, owner.account.id, code_in(sent.outgoing), client=BROWSER, now=T0
    )
    assert changed.account.phone == "+12025550143"  # type: ignore[union-attr]
    # The change's code used this minute's allowance for the phone: log in a minute later.
    step, device = await _step_up(accounts, phone, LATER)
    assert step.outgoing[0].kind == "sms"
    moment = LATER + timedelta(minutes=1)
    resent = await accounts.run(resend_step_up_code, step.step_up_token, client=device, now=moment)
    assert isinstance(resent, CodeSent)
    (message,) = resent.outgoing
    assert (message.kind, message.to) == ("sms", "+12025550143")


# --- contact change ------------------------------------------------------------------------------


async def test_a_resent_contact_code_replaces_the_first(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    account_id = owner.account.id
    sent = await accounts.run(
        request_contact_change, account_id, "new@example.org", PASSWORD, client=BROWSER, now=T0
    )
    assert isinstance(sent, CodeSent)
    first = code_in(sent.outgoing)
    throttled = await accounts.run(
        resend_contact_code, account_id, "new@example.org", client=BROWSER, now=T0
    )
    assert throttled == Throttled(30)
    resent = await accounts.run(
        resend_contact_code, account_id, "New@Example.org", client=BROWSER, now=LATER
    )
    assert isinstance(resent, CodeSent)
    (message,) = resent.outgoing
    assert (message.to, message.template) == ("new@example.org", "contact-change-code")
    second = message.params["code"]
    if first != second:
        old = await accounts.run(
            confirm_contact_change, account_id, first, client=BROWSER, now=LATER
        )
        assert old == CodeRejected("invalid")
    done = await accounts.run(confirm_contact_change, account_id, second, client=BROWSER, now=LATER)
    assert done.account.email == "new@example.org"  # type: ignore[union-attr]


async def test_a_contact_resend_sends_only_for_an_open_change(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    await accounts.signed_up("taken@example.org", client=Client(ip="198.51.100.9"))
    account_id = owner.account.id
    # A taken address: its holder was told, no code exists, and a resend sends nothing.
    taken = await accounts.run(
        request_contact_change, account_id, "taken@example.org", PASSWORD, client=BROWSER, now=T0
    )
    assert isinstance(taken, CodeSent) and taken.outgoing[0].template == "already-registered"
    before = await accounts.snapshot()
    quiet = await accounts.run(
        resend_contact_code, account_id, "taken@example.org", client=BROWSER, now=LATER
    )
    assert quiet == CodeSent((), 600)
    # An address no change was asked for: nothing either, and the same answer.
    unasked = await accounts.run(
        resend_contact_code, account_id, "free@example.org", client=BROWSER, now=LATER
    )
    assert unasked == CodeSent((), 600)
    assert await accounts.snapshot() == before

    # Once the change's code has expired, the change starts again with the password.
    sent = await accounts.run(
        request_contact_change, account_id, "new@example.org", PASSWORD, client=BROWSER, now=LATER
    )
    assert isinstance(sent, CodeSent) and len(sent.outgoing) == 1
    late = LATER + timedelta(minutes=11)
    expired = await accounts.run(
        resend_contact_code, account_id, "new@example.org", client=BROWSER, now=late
    )
    assert expired == CodeSent((), 600)
