"""An identifier held after a cancellation cannot be attached to another account during its
10 days (S0 §4.5.2 "register or bind"): neither by asking for the change nor by confirming a
code asked for before the hold began."""

from __future__ import annotations

from datetime import datetime, timedelta

from humangate.accounts import (
    CodeRejected,
    CodeSent,
    ContactChanged,
    confirm_cancellation,
    confirm_contact_change,
    list_entries,
    request_cancellation,
    request_contact_change,
)
from humangate.db import accounts as account_db
from tests.accounts.conftest import BROWSER, PASSWORD, T0, Harness, code_in


async def cancel(accounts: Harness, account_id: int, now: datetime) -> None:
    sent = await accounts.run(request_cancellation, account_id, client=BROWSER, now=now)
    assert isinstance(sent, CodeSent)
    code = code_in(sent.outgoing)
    await accounts.run(confirm_cancellation, account_id, code, client=BROWSER, now=now)


async def email_of(accounts: Harness, account_id: int) -> str | None:
    account = await accounts.db(account_db.get_account, account_id)
    assert account is not None
    return account.email


async def test_asking_for_a_held_identifier_sends_no_code(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    gone = await accounts.signed_up("gone@example.com")
    await cancel(accounts, gone.account.id, T0)
    before = await accounts.snapshot()
    day_nine = T0 + timedelta(days=9, hours=23)
    sent = await accounts.run(
        request_contact_change,
        owner.account.id,
        "Gone@Example.com",
        PASSWORD,
        client=BROWSER,
        now=day_nine,
    )
    # The outcome looks like any other (no account is revealed); the message tells the address
    # it is held, and no code to bind it exists.
    assert isinstance(sent, CodeSent)
    ((to, template, params),) = [(o.to, o.template, dict(o.params)) for o in sent.outgoing]
    # The hold matches the address in any case; the message goes to it as typed.
    assert (to, template) == ("Gone@example.com", "identifier-held")
    assert params == {"until": (T0 + timedelta(days=10)).isoformat()}
    assert await accounts.snapshot() == before
    assert await email_of(accounts, owner.account.id) == "owner@example.com"

    # When the hold ends, the address can be bound like any free one.
    day_ten = T0 + timedelta(days=10, minutes=1)
    freed = await accounts.run(
        request_contact_change,
        owner.account.id,
        "gone@example.com",
        PASSWORD,
        client=BROWSER,
        now=day_ten,
    )
    assert isinstance(freed, CodeSent)
    code = code_in(freed.outgoing)
    done = await accounts.run(
        confirm_contact_change, owner.account.id, code, client=BROWSER, now=day_ten
    )
    assert isinstance(done, ContactChanged) and done.account.email == "gone@example.com"


async def test_a_code_asked_for_before_the_hold_is_refused(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    sent = await accounts.run(
        request_contact_change,
        owner.account.id,
        "new@example.com",
        PASSWORD,
        client=BROWSER,
        now=T0,
    )
    assert isinstance(sent, CodeSent)
    code = code_in(sent.outgoing)
    # Meanwhile someone else registers the address and cancels, so a hold begins.
    other = await accounts.signed_up("new@example.com", now=T0 + timedelta(minutes=2))
    await cancel(accounts, other.account.id, T0 + timedelta(minutes=3))

    late = T0 + timedelta(minutes=5)
    refused = await accounts.run(
        confirm_contact_change, owner.account.id, code, client=BROWSER, now=late
    )
    assert refused == CodeRejected("unavailable")
    assert await email_of(accounts, owner.account.id) == "owner@example.com"
    page = await accounts.db(list_entries, account_id=owner.account.id, action="code.rejected")
    assert [dict(e.details) for e in page.entries] == [
        {"purpose": "contact-change", "reason": "unavailable"}
    ]
