"""Message channels: e-mail over SMTP, SMS through an HTTP gateway, and a development outbox.

Callers (the console, the one-time-code API) build `Channels` once with
`channels_from_settings(settings)`, render texts with `MessageTemplates`, and call
`channels.mailer.send(...)` / `channels.sms.send(...)`, catching `DeliveryError`.
"""

from __future__ import annotations

from humangate.messaging.base import (
    DeliveryError,
    EmailMessage,
    Mailer,
    SmsGateway,
    SmsMessage,
)
from humangate.messaging.channels import Channels, channels_from_settings, sms_config_from_settings
from humangate.messaging.mail import SmtpConfig, SmtpMailer, build_mime, parse_smtp_url
from humangate.messaging.outbox import (
    OutboxEntry,
    OutboxMailer,
    OutboxSmsGateway,
    add_outbox_arguments,
    outbox_cli,
    read_outbox,
)
from humangate.messaging.sms import BodyTemplate, HttpSmsConfig, HttpSmsGateway
from humangate.messaging.templates import (
    CODE_PURPOSES,
    LOCALES,
    MessageTemplates,
    RenderedMessage,
    normalize_locale,
)

__all__ = [
    "CODE_PURPOSES",
    "LOCALES",
    "BodyTemplate",
    "Channels",
    "DeliveryError",
    "EmailMessage",
    "HttpSmsConfig",
    "HttpSmsGateway",
    "Mailer",
    "MessageTemplates",
    "OutboxEntry",
    "OutboxMailer",
    "OutboxSmsGateway",
    "RenderedMessage",
    "SmsGateway",
    "SmsMessage",
    "SmtpConfig",
    "SmtpMailer",
    "add_outbox_arguments",
    "build_mime",
    "channels_from_settings",
    "normalize_locale",
    "outbox_cli",
    "parse_smtp_url",
    "read_outbox",
    "sms_config_from_settings",
]
