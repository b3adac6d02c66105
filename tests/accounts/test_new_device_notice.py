"""A login from a device or network the account had not used: a notice in the inbox, and the
same as a message in `LoggedIn.outgoing`; nothing for known devices or at sign-up."""

from __future__ import annotations

from datetime import datetime, timedelta

from humangate import accounts as svc
from humangate.accounts import (
    Client,
    CodeSent,
    LoggedIn,
    NotificationView,
    StepUpRequired,
    list_entries,
    list_inbox,
    update_profile,
)
from tests.accounts.conftest import BROWSER, PASSWORD, SIGNED_UP, T0, Harness, code_in

PHONE = Client(ip="198.51.100.4", device_label="Chrome on Android")


async def _security_notes(accounts: Harness, account_id: int) -> list[NotificationView]:
    inbox = await accounts.db(list_inbox, account_id)
    return [note for note in inbox if note.kind == "security"]


async def _code_login(accounts: Harness, client: Client, now: datetime) -> LoggedIn:
    sent = await accounts.run(svc.request_login_code, "owner@example.com", client=client, now=now)
    assert isinstance(sent, CodeSent), sent
    code = code_in(sent.outgoing)
    done = await accounts.run(
        svc.log_in_with_code, "owner@example.com", code, client=client, now=now
    )
    assert isinstance(done, LoggedIn), done
    return done


async def test_sign_up_sends_no_new_device_notice(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    assert owner.outgoing == ()
    assert await _security_notes(accounts, owner.account.id) == []
    # The confirming browser is known all the same.
    actions = [e.action for e in (await accounts.db(list_entries)).entries]
    assert "device.added" in actions


async def test_a_code_login_from_a_new_device_notifies_the_owner(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    later = T0 + timedelta(minutes=1)
    done = await _code_login(accounts, PHONE, later)

    (message,) = done.outgoing
    assert (message.kind, message.to, message.template) == (
        "email",
        "owner@example.com",
        "new-device-login",
    )
    assert dict(message.params) == {
        "device": "Chrome on Android",
        "network": "198.51.100.0/24",
        "time": "2026-03-02 09:01 UTC",
    }
    assert message.language == "en"
    (note,) = await _security_notes(accounts, owner.account.id)
    assert note.subject == "New sign-in to your HumanGate account"
    assert note.body == (
        "New sign-in to your HumanGate account: Chrome on Android, network 198.51.100.0/24, "
        "2026-03-02 09:01 UTC. If this was not you, change your password and end other sessions."
    )
    assert note.created_at == later and note.read_at is None
    # The session and device tokens never reach the inbox.
    assert done.session_token not in note.body and done.device_token not in note.body


async def test_a_known_device_gets_no_notice(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    later = T0 + timedelta(minutes=1)
    first = await _code_login(accounts, PHONE, later)
    assert len(first.outgoing) == 1
    known = Client(ip="198.51.100.77", device_token=first.device_token, device_label="Chrome")
    for when in (later, later + timedelta(days=3)):
        login = await accounts.run(
            svc.log_in, "owner@example.com", PASSWORD, client=known, now=when
        )
        assert isinstance(login, LoggedIn) and login.outgoing == ()
    # The browser that signed up is known too.
    back = Client(ip=BROWSER.ip, device_token=owner.device_token)
    login = await accounts.run(svc.log_in, "owner@example.com", PASSWORD, client=back, now=later)
    assert isinstance(login, LoggedIn) and login.outgoing == ()
    assert len(await _security_notes(accounts, owner.account.id)) == 1


async def test_a_step_up_login_and_a_new_network_notify(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    stranger = Client(ip=BROWSER.ip, device_label="Safari on iPhone")
    step = await accounts.run(svc.log_in, "owner@example.com", PASSWORD, client=stranger, now=T0)
    assert isinstance(step, StepUpRequired)
    device = Client(ip=BROWSER.ip, device_token=step.device_token, device_label="Safari on iPhone")
    code = code_in(step.outgoing)
    done = await accounts.run(svc.complete_step_up, step.step_up_token, code, client=device, now=T0)
    assert isinstance(done, LoggedIn)
    assert [m.params["device"] for m in done.outgoing] == ["Safari on iPhone"]

    # The same browser from another network is a new pair as well.
    travelling = Client(ip="2001:db8:1:2::5", device_token=owner.device_token, device_label="Fx")
    later = T0 + timedelta(minutes=5)
    away = await _code_login(accounts, travelling, later)
    assert [m.params["network"] for m in away.outgoing] == ["2001:db8:1:2::/64"]
    notes = await _security_notes(accounts, owner.account.id)
    assert [("2001:db8:1:2::/64" in n.body, "Safari on iPhone" in n.body) for n in notes] == [
        (True, False),
        (False, True),
    ]


async def test_the_notice_speaks_the_account_language(accounts: Harness) -> None:
    owner = await accounts.signed_up("owner@example.com", now=SIGNED_UP)
    await accounts.run(
        update_profile, owner.account.id, language="zh-CN", client=BROWSER, now=SIGNED_UP
    )
    done = await _code_login(accounts, PHONE, T0)
    (message,) = done.outgoing
    assert message.language == "zh-CN"
    (note,) = await _security_notes(accounts, owner.account.id)
    assert note.subject == "您的 HumanGate 账户有新的登录"
    assert "Chrome on Android" in note.body and "198.51.100.0/24" in note.body
    assert "请修改密码并退出其他会话" in note.body


async def test_a_phone_account_is_told_by_sms(accounts: Harness) -> None:
    sent = await accounts.run(svc.sign_up, "+1 415 555 0100", PASSWORD, client=BROWSER, now=T0)
    assert isinstance(sent, CodeSent)
    code = code_in(sent.outgoing)
    await accounts.run(svc.confirm_sign_up, "+1 415 555 0100", code, client=BROWSER, now=T0)
    later = T0 + timedelta(minutes=1)
    ask = await accounts.run(svc.request_login_code, "+14155550100", client=PHONE, now=later)
    assert isinstance(ask, CodeSent)
    done = await accounts.run(
        svc.log_in_with_code, "+14155550100", code_in(ask.outgoing), client=PHONE, now=later
    )
    assert isinstance(done, LoggedIn)
    assert [(m.kind, m.to, m.template) for m in done.outgoing] == [
        ("sms", "+14155550100", "new-device-login")
    ]
