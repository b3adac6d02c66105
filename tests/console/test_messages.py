"""Every message the account core asks for renders, in English and in Simplified Chinese."""

from __future__ import annotations

import pytest

from humangate.accounts import TEMPLATES, Outgoing
from humangate.accounts.delivery import deliver, render_outgoing
from humangate.messaging import Channels, DeliveryError, EmailMessage, MessageTemplates, SmsMessage

SAMPLE = {
    "code": "123456",
    "minutes": "10",
    "network": "203.0.113.0/24",
    "device": "Firefox on Linux",
    "until": "2026-03-12T09:00:00+00:00",
    "new": "a•••@example.com",
    "reason": "Sending spam",
    "status": "suspended",
    "cancel_after": "2026-04-01",
    "time": "2026-03-02 09:00 UTC",
    "name": "Work laptop",
    "app": "Shop login",
    "prefix": "+998901",
    "sent": "12",
    "approved": "0",
    "balance": "-0.35",
    "threshold": "10.00",
    "currency": "CNY",
}


def name_of(template: str, value: str) -> str:
    return next(name for name in TEMPLATES[template] if SAMPLE[name] == value)


@pytest.mark.parametrize("template", sorted(TEMPLATES))
@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_every_core_template_renders(template: str, locale: str) -> None:
    params = {name: SAMPLE[name] for name in TEMPLATES[template]}
    message = Outgoing("email", "owner@example.com", template, params)
    rendered = render_outgoing(MessageTemplates(public_url="https://gate.example"), message, locale)
    assert rendered.subject and rendered.text and rendered.sms
    for value in params.values():
        if template.endswith("-code") and value != params.get("code"):
            continue  # code mails show the code and its lifetime, not the network
        if template in ("identifier-held", "inactivity-warning"):
            continue  # dates are shown as given
        if name_of(template, value) == "status":
            continue  # the status is translated
        assert value in rendered.text, (template, value)
    if locale == "zh-CN":
        assert any("\u4e00" <= ch <= "\u9fff" for ch in rendered.subject + rendered.text)


def test_a_template_the_core_never_sends_is_refused() -> None:
    message = Outgoing("email", "owner@example.com", "made-up", {})
    with pytest.raises(ValueError, match="made-up"):
        render_outgoing(MessageTemplates(), message, "en")


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_a_new_sign_in_sms_says_where_and_when(locale: str) -> None:
    params = {name: SAMPLE[name] for name in TEMPLATES["new-device-login"]}
    message = Outgoing("sms", "+14155550100", "new-device-login", params)
    rendered = render_outgoing(MessageTemplates(), message, locale)
    for value in params.values():
        assert value in rendered.sms and value in rendered.text
    assert "HumanGate" in rendered.subject


class Recorder:
    """A mailer and SMS gateway that keeps what it is given, and refuses one address."""

    def __init__(self, refuse: str = "") -> None:
        self.sent: list[EmailMessage | SmsMessage] = []
        self.refuse = refuse

    async def send(self, message: EmailMessage | SmsMessage) -> str:
        if message.to == self.refuse:
            raise DeliveryError("The server said no.", channel="mail", temporary=True)
        self.sent.append(message)
        return "id"


async def test_deliver_needs_no_request_and_reaches_every_address() -> None:
    params = {name: SAMPLE[name] for name in TEMPLATES["new-device-login"]}
    mail, sms = Recorder(refuse="bounces@example.com"), Recorder()
    channels = Channels(mailer=mail, sms=sms, mail_configured=True, sms_configured=True)
    outgoing = [
        Outgoing("email", "bounces@example.com", "new-device-login", params),
        Outgoing("email", "zh@example.com", "new-device-login", params, language="zh-CN"),
        Outgoing("sms", "+14155550100", "new-device-login", params),
    ]
    assert await deliver(MessageTemplates(), channels, outgoing, "en") is False
    (email,) = mail.sent
    assert isinstance(email, EmailMessage) and email.to == "zh@example.com"
    assert email.subject.startswith("您的")  # the message's own language beats the default
    (text,) = sms.sent
    assert text.to == "+14155550100" and "Firefox on Linux" in text.text
    assert await deliver(MessageTemplates(), channels, outgoing[1:]) is True
