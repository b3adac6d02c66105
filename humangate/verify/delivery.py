"""The code's message, in the app's words or ours, and its delivery with one retry.

An app may set its own template per locale (`{code}` once, `{app}` and `{minutes}` at will);
otherwise these defaults speak. Chinese SMS begin with the sender's name in 【】, as carriers
there require a signature.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from humangate.messaging import Channels, DeliveryError, EmailMessage, SmsMessage

log = logging.getLogger(__name__)

Delivered = Literal["sent", "retried", "failed"]
RETRY_DELAY_SECONDS = 0.5

DEFAULT_TEMPLATES: Mapping[str, str] = {
    "en": "{app}: your verification code is {code}. It expires in {minutes} minutes. "
    "Do not share it with anyone.",
    "zh-CN": "【{app}】您的验证码是{code}，{minutes}分钟内有效。请勿泄露给他人。",
}
_SUBJECTS: Mapping[str, str] = {
    "en": "{app} verification code",
    "zh-CN": "{app} 验证码",
}


@dataclass(frozen=True, slots=True)
class CodeMessage:
    """What one code's message says, ready for either channel."""

    subject: str
    text: str


def compose(
    *, app_name: str, templates: Mapping[str, str], locale: str, code: str, ttl_seconds: int
) -> CodeMessage:
    """The message carrying `code` in `locale` ("en" or "zh-CN")."""
    template = templates.get(locale) or DEFAULT_TEMPLATES[locale]
    minutes = max(1, ttl_seconds // 60)
    text = template.format(app=app_name, code=code, minutes=minutes)
    return CodeMessage(subject=_SUBJECTS[locale].format(app=app_name), text=text)


async def deliver(
    channels: Channels, channel: str, to: str, message: CodeMessage
) -> tuple[Delivered, DeliveryError | None]:
    """Send the message once, and once more if the first failure may pass; never raises.

    Returns:
        "sent", "retried" (the second try went through) or "failed", with the last error.
    """
    error: DeliveryError | None = None
    for attempt in (1, 2):
        try:
            if channel == "email":
                await channels.mailer.send(
                    EmailMessage(to=to, subject=message.subject, text=message.text)
                )
            else:
                await channels.sms.send(SmsMessage(to=to, text=message.text))
        except DeliveryError as exc:
            error = exc
            log.warning("A verification code was not delivered (try %d): %s", attempt, exc)
            if not exc.temporary or attempt == 2:
                break
            await asyncio.sleep(RETRY_DELAY_SECONDS)
            continue
        return ("sent" if attempt == 1 else "retried"), None
    return "failed", error
