"""Choose the mailer and the SMS gateway from the settings, once, at startup.

| setting set?            | HUMANGATE_ENVIRONMENT=local | production                  |
|-------------------------|-----------------------------|-----------------------------|
| HUMANGATE_SMTP_URL      | SmtpMailer                  | SmtpMailer                  |
| (empty)                 | development outbox          | Unconfigured: DeliveryError |
| HUMANGATE_SMS_URL       | HttpSmsGateway              | HttpSmsGateway              |
| (empty)                 | development outbox          | Unconfigured: DeliveryError |

Production never falls back to the outbox: a one-time code written to a file on a server is a
code nobody receives and anybody with the disk can read. The service still starts, so an operator
who offers no SMS need not configure any; `Channels.sms_configured` lets the console hide it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from humangate.messaging.base import (
    Channel,
    DeliveryError,
    EmailMessage,
    Mailer,
    SmsGateway,
    SmsMessage,
)
from humangate.messaging.mail import SmtpMailer, check_from_address, parse_smtp_url
from humangate.messaging.outbox import OutboxMailer, OutboxSmsGateway
from humangate.messaging.sms import BodyTemplate, HttpSmsConfig, HttpSmsGateway

if TYPE_CHECKING:
    from humangate.config import Settings


@dataclass(frozen=True, slots=True)
class Channels:
    """The mailer and SMS gateway in use, and which of them really deliver."""

    mailer: Mailer
    sms: SmsGateway
    mail_configured: bool
    sms_configured: bool


class _Unconfigured:
    """Stands in for a channel production has not configured; every send fails, clearly."""

    def __init__(self, channel: Channel, setting: str) -> None:
        self._channel: Channel = channel
        self._setting = setting

    async def send(self, message: EmailMessage | SmsMessage) -> str:
        raise DeliveryError(
            f"No {self._channel} channel is configured: set {self._setting}.",
            channel=self._channel,
            temporary=False,
        )


def sms_config_from_settings(settings: Settings) -> HttpSmsConfig:
    """The HTTP gateway's configuration from the HUMANGATE_SMS_* settings.

    Raises:
        ConfigError: a setting is missing or malformed.
    """
    return HttpSmsConfig(
        url=settings.sms_url.get_secret_value().strip(),
        body=BodyTemplate(settings.sms_body_template, settings.sms_body_format),
        method=settings.sms_method,
        auth=settings.sms_auth,
        username=settings.sms_username,
        password=settings.sms_password.get_secret_value(),
        token=settings.sms_token.get_secret_value(),
        auth_header=settings.sms_auth_header.strip(),
        sender=settings.sms_from,
        message_id_path=settings.sms_message_id_path.strip(),
        timeout=settings.sms_timeout,
    )


def _mailer(settings: Settings) -> tuple[Mailer, bool]:
    url = settings.smtp_url.get_secret_value().strip()
    if url:
        config = parse_smtp_url(
            url,
            from_address=settings.mail_from,
            timeout=settings.smtp_timeout,
            ca_file=settings.smtp_ca_file,
        )
        return SmtpMailer(config), True
    if settings.environment == "production":
        return _Unconfigured("mail", "HUMANGATE_SMTP_URL"), False
    sender = check_from_address(settings.mail_from) if settings.mail_from else ""
    return OutboxMailer(settings.data_dir, from_address=sender), False


def _sms(settings: Settings) -> tuple[SmsGateway, bool]:
    if settings.sms_url.get_secret_value().strip():
        return HttpSmsGateway(sms_config_from_settings(settings)), True
    if settings.environment == "production":
        return _Unconfigured("sms", "HUMANGATE_SMS_URL"), False
    return OutboxSmsGateway(settings.data_dir, sender=settings.sms_from), False


def channels_from_settings(settings: Settings) -> Channels:
    """Build the channels the settings ask for; call it at startup so mistakes stop the start.

    Raises:
        ConfigError: the SMTP URL, sender address, CA file or an SMS setting is invalid.
    """
    mailer, mail_configured = _mailer(settings)
    sms, sms_configured = _sms(settings)
    return Channels(mailer, sms, mail_configured=mail_configured, sms_configured=sms_configured)
