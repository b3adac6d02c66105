"""What an owner does with their own account: profile, password, contact details, export, inbox."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from humangate import accounts as svc
from humangate.accounts import (
    Client,
    CodeRejected,
    CodeSent,
    ContactChanged,
    LoggedIn,
    LoginFailed,
    PasswordChanged,
    authenticate,
    change_password,
    confirm_contact_change,
    export_account,
    list_entries,
    list_inbox,
    mark_read,
    request_contact_change,
    update_profile,
)
from humangate.accounts._keys import sha256_hex
from humangate.accounts.profile import set_code_login
from humangate.db import accounts as account_db
from humangate.db import units as unit_db
from humangate.db.models import Account, AccountCode, KnownDevice, UnitSecret
from tests.accounts.conftest import BROWSER, PASSWORD, T0, Harness, code_in


async def test_update_profile(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    view = await accounts.run(
        update_profile,
        owner.account.id,
        display_name="  Ada   Lovelace ",
        language="zh-CN",
        client=BROWSER,
        now=T0,
    )
    assert (view.display_name, view.language) == ("Ada Lovelace", "zh-CN")
    kept = await accounts.run(
        update_profile, owner.account.id, language="en", client=BROWSER, now=T0
    )
    assert (kept.display_name, kept.language) == ("Ada Lovelace", "en")
    page = await accounts.db(list_entries, account_id=owner.account.id, action="profile.updated")
    assert [dict(e.details) for e in page.entries] == [
        {"fields": ["language"]},
        {"fields": ["display_name", "language"]},
    ]


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"display_name": "x" * 101}, "at most 100"),
        ({"display_name": "bell\x07"}, "control characters"),
        ({"display_name": "Fine", "language": "english!"}, "not a language tag"),
        ({"language": "e"}, "not a language tag"),
    ],
)
async def test_bad_profile_input_changes_nothing(
    accounts: Harness, changes: dict[str, str], message: str
) -> None:
    owner = await accounts.signed_up()
    before = await accounts.snapshot()
    with pytest.raises(ValueError, match=message):
        await accounts.run(update_profile, owner.account.id, client=BROWSER, now=T0, **changes)
    assert await accounts.snapshot() == before


async def test_change_password_ends_other_sessions(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    me = Client(ip=BROWSER.ip, device_token=owner.device_token)
    other = await accounts.run(svc.log_in, "owner@example.com", PASSWORD, client=me, now=T0)
    assert isinstance(other, LoggedIn)
    current = Client(ip=BROWSER.ip, session_token=owner.session_token)
    wrong = await accounts.run(
        change_password,
        owner.account.id,
        "not my password",
        "brand new passphrase",
        client=current,
        now=T0,
    )
    assert wrong == LoginFailed("The password is wrong.")
    with pytest.raises(ValueError, match="at least 10"):
        await accounts.run(
            change_password, owner.account.id, PASSWORD, "short", client=current, now=T0
        )
    changed = await accounts.run(
        change_password, owner.account.id, PASSWORD, "brand new passphrase", client=current, now=T0
    )
    assert isinstance(changed, PasswordChanged) and changed.sessions_revoked == 1
    assert [(o.to, o.template) for o in changed.outgoing] == [
        ("owner@example.com", "password-changed")
    ]
    assert await accounts.run(authenticate, owner.session_token, now=T0) is not None
    assert await accounts.run(authenticate, other.session_token, now=T0) is None
    old = await accounts.run(svc.log_in, "owner@example.com", PASSWORD, client=me, now=T0)
    assert old == LoginFailed()
    new = await accounts.run(
        svc.log_in, "owner@example.com", "brand new passphrase", client=me, now=T0
    )
    assert isinstance(new, LoggedIn)


async def test_change_email_with_reconfirmation(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    account_id = owner.account.id
    sent = await accounts.run(
        request_contact_change, account_id, "New@Example.org", PASSWORD, client=BROWSER, now=T0
    )
    assert isinstance(sent, CodeSent)
    (message,) = sent.outgoing
    assert (message.to, message.template) == ("New@example.org", "contact-change-code")
    # Nothing changes until the code comes back.
    view = (await accounts.run(authenticate, owner.session_token, now=T0)).account  # type: ignore[union-attr]
    assert view.email == "owner@example.com"
    wrong = f"{(int(message.params['code']) + 1) % 1_000_000:06d}"
    assert await accounts.run(
        confirm_contact_change, account_id, wrong, client=BROWSER, now=T0
    ) == (CodeRejected("invalid"))
    changed = await accounts.run(
        confirm_contact_change, account_id, message.params["code"], client=BROWSER, now=T0
    )
    assert isinstance(changed, ContactChanged)
    assert changed.account.email == "New@example.org"
    assert [(o.to, o.template, dict(o.params)) for o in changed.outgoing] == [
        ("owner@example.com", "contact-changed", {"new": "N•••@example.org"})
    ]
    # The new address logs in; the old one is unknown now.
    me = Client(ip=BROWSER.ip, device_token=owner.device_token)
    assert isinstance(
        await accounts.run(svc.log_in, "new@example.org", PASSWORD, client=me, now=T0), LoggedIn
    )
    assert await accounts.run(svc.log_in, "owner@example.com", PASSWORD, client=me, now=T0) == (
        LoginFailed()
    )
    inbox = await accounts.db(list_inbox, account_id)
    assert inbox[0].subject == "Your e-mail address changed"
    logged = {e.action for e in (await accounts.db(list_entries, account_id=account_id)).entries}
    assert {"contact.change_requested", "contact.changed", "code.rejected"} <= logged


async def test_add_a_phone_number(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    sent = await accounts.run(
        request_contact_change,
        owner.account.id,
        "+86 138 0013 8000",
        PASSWORD,
        client=BROWSER,
        now=T0,
    )
    assert isinstance(sent, CodeSent) and sent.outgoing[0].kind == "sms"
    changed = await accounts.run(
        confirm_contact_change, owner.account.id, code_in(sent.outgoing), client=BROWSER, now=T0
    )
    assert isinstance(changed, ContactChanged)
    assert (changed.account.email, changed.account.phone) == ("owner@example.com", "+8613800138000")
    assert changed.outgoing == ()  # there was no phone number to tell


async def test_contact_change_to_a_taken_identifier(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    await accounts.signed_up("other@example.com")
    before = await accounts.snapshot()
    sent = await accounts.run(
        request_contact_change,
        owner.account.id,
        "other@example.com",
        PASSWORD,
        client=BROWSER,
        now=T0,
    )
    # The same outcome as for a free address; the message tells the holder, and no code exists.
    assert isinstance(sent, CodeSent)
    assert [(o.to, o.template) for o in sent.outgoing] == [
        ("other@example.com", "already-registered")
    ]
    assert await accounts.snapshot() == before


async def test_contact_change_needs_the_password(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    refused = await accounts.run(
        request_contact_change,
        owner.account.id,
        "new@example.org",
        "not my password",
        client=BROWSER,
        now=T0,
    )
    assert refused == LoginFailed("The password is wrong.")
    with pytest.raises(ValueError, match="already this account's e-mail"):
        await accounts.run(
            request_contact_change,
            owner.account.id,
            "OWNER@example.com",
            PASSWORD,
            client=BROWSER,
            now=T0,
        )


async def _owned_unit(
    accounts: Harness, account_id: int, name: str = "Shop"
) -> unit_db.CreatedUnit:
    async with accounts.sessions() as session:
        created = await unit_db.create_unit(
            session, name=name, domains=["example.com"], mode="managed", pow_difficulty=1000
        )
        assert await account_db.set_unit_owner(session, created.unit.id, account_id)
        await session.commit()
    return created


async def test_export_holds_everything_and_no_secret(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    created = await _owned_unit(accounts, owner.account.id)
    await accounts.run(update_profile, owner.account.id, display_name="Ada", client=BROWSER, now=T0)
    exported: Any = await accounts.run(export_account, owner.account.id, client=BROWSER, now=T0)
    text = json.dumps(exported)  # JSON-serialisable as it is
    assert exported["account"]["email"] == "owner@example.com"
    assert exported["account"]["display_name"] == "Ada"
    (unit,) = exported["units"]
    assert unit["sitekey"] == created.unit.sitekey and unit["risk_events_held"] == 0
    assert len(unit["secret_keys"]) == 1
    (session_row,) = exported["sessions"]
    assert session_row["ip_prefix"] == "203.0.113.0/24"
    assert exported["known_devices"] == [
        {
            "network": "203.0.113.0/24",
            "first_seen_at": owner.account.created_at.isoformat(),
            "last_seen_at": owner.account.created_at.isoformat(),
        }
    ]
    audit_actions = {entry["action"] for entry in exported["audit"]}
    assert {
        "account.signup",
        "account.confirmed",
        "login.succeeded",
        "account.exported",
    } <= audit_actions
    # No secret, no digest of one.
    async with accounts.sessions() as session:
        account = await session.get(Account, owner.account.id)
        digests = [account.password_hash]  # type: ignore[union-attr]
        for column in (UnitSecret.digest, AccountCode.digest, KnownDevice.device_digest):
            digests += list((await session.scalars(select(column))).all())
    digests += [
        sha256_hex(owner.session_token),
        created.secret,
        owner.session_token,
        owner.device_token,
    ]
    assert len(digests) >= 6
    for secret in digests:
        assert secret not in text
    assert "device_salt" not in text and "password" not in text.replace("Passwords", "")


async def test_inbox(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    async with accounts.sessions() as session:
        for n in range(3):
            await account_db.add_notification(
                session, owner.account.id, kind="billing", subject=f"Bill {n}", body="…", now=T0
            )
        await session.commit()
    inbox = await accounts.db(list_inbox, owner.account.id)
    assert [n.subject for n in inbox] == ["Bill 2", "Bill 1", "Bill 0"]
    page = await accounts.db(list_inbox, owner.account.id, limit=2)
    rest = await accounts.db(list_inbox, owner.account.id, before_id=page[-1].id)
    assert [n.subject for n in page + rest] == ["Bill 2", "Bill 1", "Bill 0"]
    later = T0 + timedelta(minutes=3)
    assert await accounts.db(mark_read, owner.account.id, [inbox[0].id], now=later) == 1
    unread = await accounts.db(list_inbox, owner.account.id, unread_only=True)
    assert [n.subject for n in unread] == ["Bill 1", "Bill 0"]
    assert await accounts.db(mark_read, owner.account.id + 1, None, now=later) == 0
    assert await accounts.db(mark_read, owner.account.id, None, now=later) == 2
    assert all(n.read_at == later for n in await accounts.db(list_inbox, owner.account.id))


async def test_an_owner_can_turn_login_by_code_off(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    view = await accounts.run(set_code_login, owner.account.id, False, client=BROWSER, now=T0)
    assert view.code_login is False
    later = T0 + timedelta(minutes=2)
    sent = await accounts.run(
        svc.request_login_code, "owner@example.com", client=BROWSER, now=later
    )
    assert isinstance(sent, CodeSent) and sent.outgoing == ()  # looks like an unknown address
    refused = await accounts.run(
        svc.log_in_with_code, "owner@example.com", "123456", client=BROWSER, now=later
    )
    assert isinstance(refused, CodeRejected)
    # The password still works, and turning it back on restores codes.
    again = await accounts.run(svc.log_in, "owner@example.com", PASSWORD, client=BROWSER, now=later)
    assert not isinstance(again, LoginFailed)
    await accounts.run(set_code_login, owner.account.id, True, client=BROWSER, now=later)
    sent = await accounts.run(
        svc.request_login_code,
        "owner@example.com",
        client=BROWSER,
        now=later + timedelta(minutes=2),
    )
    assert isinstance(sent, CodeSent) and len(sent.outgoing) == 1
    entries = await accounts.db(list_entries, account_id=owner.account.id, action="profile.updated")
    assert [e.details["enabled"] for e in entries.entries] == [True, False]
