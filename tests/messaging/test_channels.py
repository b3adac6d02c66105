"""Settings → channels: the outbox by default, real transports when configured, never a leak."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest
from pydantic import SecretStr

from humangate.config import Settings, load_settings
from humangate.errors import ConfigError
from humangate.messaging import (
    DeliveryError,
    EmailMessage,
    HttpSmsGateway,
    Mailer,
    OutboxMailer,
    OutboxSmsGateway,
    SmsGateway,
    SmsMessage,
    SmtpMailer,
    channels_from_settings,
    read_outbox,
)
from tests.messaging._gateway import Gateway
from tests.messaging._smtp import PASSWORD, USERNAME, SmtpServer


def test_local_default_is_the_outbox(tmp_path: Path) -> None:
    channels = channels_from_settings(Settings(data_dir=tmp_path))
    assert isinstance(channels.mailer, OutboxMailer) and isinstance(channels.sms, OutboxSmsGateway)
    assert isinstance(channels.mailer, Mailer) and isinstance(channels.sms, SmsGateway)
    assert not channels.mail_configured and not channels.sms_configured


async def test_production_never_falls_back_to_the_outbox(tmp_path: Path) -> None:
    channels = channels_from_settings(Settings(data_dir=tmp_path, environment="production"))
    with pytest.raises(DeliveryError, match="HUMANGATE_SMTP_URL") as mail:
        await channels.mailer.send(EmailMessage("ann@example.org", "s", "123456"))
    with pytest.raises(DeliveryError, match="HUMANGATE_SMS_URL") as sms:
        await channels.sms.send(SmsMessage("+15550100", "123456"))
    assert mail.value.temporary is False and sms.value.channel == "sms"
    assert not (tmp_path / "outbox").exists()


def test_smtp_needs_a_sender(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, smtp_url=SecretStr("smtps://u:p@mail.example.org"))
    with pytest.raises(ConfigError, match="HUMANGATE_MAIL_FROM"):
        channels_from_settings(settings)


def test_bad_sms_template_stops_the_start(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, sms_url=SecretStr("https://gw.example/send"), sms_body_template="{to}"
    )
    with pytest.raises(ConfigError, match="HUMANGATE_SMS_BODY_TEMPLATE"):
        channels_from_settings(settings)


def test_settings_from_the_environment_hide_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUMANGATE_SMTP_URL", "smtps://u:smtp-5ecret@mail.example.org")
    monkeypatch.setenv("HUMANGATE_MAIL_FROM", "HumanGate <no-reply@example.org>")
    monkeypatch.setenv("HUMANGATE_SMS_URL", "https://gw.example/send?key=url-5ecret")
    monkeypatch.setenv("HUMANGATE_SMS_METHOD", "post")
    monkeypatch.setenv("HUMANGATE_SMS_AUTH", "Bearer")
    monkeypatch.setenv("HUMANGATE_SMS_TOKEN", "token-5ecret")
    monkeypatch.setenv("HUMANGATE_SMS_BODY_FORMAT", "FORM")
    monkeypatch.setenv("HUMANGATE_SMS_BODY_TEMPLATE", "to={to}&msg={text}")
    settings = load_settings()
    assert (settings.sms_method, settings.sms_auth, settings.sms_body_format) == (
        "POST",
        "bearer",
        "form",
    )
    channels = channels_from_settings(settings)
    assert isinstance(channels.mailer, SmtpMailer) and isinstance(channels.sms, HttpSmsGateway)
    assert channels.mail_configured and channels.sms_configured
    shown = repr(settings) + str(settings) + repr(channels)
    assert not any(secret in shown for secret in ("smtp-5ecret", "url-5ecret", "token-5ecret"))


def test_bad_choice_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUMANGATE_SMS_AUTH", "digest")
    with pytest.raises(ConfigError, match="sms_auth"):
        load_settings()


async def test_configured_channels_deliver(
    tmp_path: Path, smtp_auth: SmtpServer, gateway: Gateway
) -> None:
    secret = quote(PASSWORD, safe="")
    settings = Settings(
        data_dir=tmp_path,
        smtp_url=SecretStr(
            f"smtp://{quote(USERNAME)}:{secret}@127.0.0.1:{smtp_auth.port}?starttls=0"
        ),
        mail_from="HumanGate <no-reply@humangate.test>",
        sms_url=SecretStr(f"{gateway.url}/send"),
        sms_auth="header",
        sms_auth_header="X-Api-Key",
        sms_token=SecretStr("k"),
        sms_from="HumanGate",
        sms_message_id_path="messages.0.id",
    )
    channels = channels_from_settings(settings)
    message_id = await channels.mailer.send(EmailMessage("ann@example.org", "配置", "经由设置"))
    assert smtp_auth.find(message_id).login == USERNAME
    assert await channels.sms.send(SmsMessage("+15550100", "via settings")) == "gw-1"
    assert json.loads(gateway.only().body) == {
        "to": "+15550100",
        "text": "via settings",
        "from": "HumanGate",
    }
    assert read_outbox(tmp_path) == []
