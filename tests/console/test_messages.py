"""Every message the account core asks for renders, in English and in Simplified Chinese."""

from __future__ import annotations

import pytest

from humangate.accounts import TEMPLATES, Outgoing
from humangate.console._messages import render_outgoing
from humangate.messaging import MessageTemplates

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
