"""The account core's `Outgoing` messages, rendered by the messaging templates and delivered.

Codes map to `MessageTemplates.one_time_code`; notices the messaging catalog has no kind for
(already registered, password changed, a new sign-in, …) are rendered as operator-style notices
with the sentences below, in English or Simplified Chinese.

`deliver` needs no request, so background jobs and commands send with it; the console's pages
use its form `humangate.console._messages.send`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping

from humangate.accounts import TEMPLATES, Outgoing
from humangate.accounts._notices import (
    BALANCE_EMPTY,
    BALANCE_LOW,
    NEW_DEVICE_LOGIN,
    PASSKEY_ADDED,
    VERIFY_PREFIX_BLOCKED,
)
from humangate.messaging import (
    Channels,
    DeliveryError,
    MessageTemplates,
    RenderedMessage,
    normalize_locale,
)
from humangate.messaging.templates import CodePurpose

log = logging.getLogger(__name__)

# Notices whose SMS is their whole text: the title alone would leave out what matters.
_SMS_SAYS_ALL = frozenset({"new-device-login"})

_CODE_PURPOSES: Mapping[str, CodePurpose] = {
    "signup-code": "signup",
    "login-code": "login",
    "new-device-code": "login",
    "contact-change-code": "contact_change",
    "cancel-code": "cancel",
    "password-reset-code": "password_reset",
}

_NOTICES: Mapping[str, Mapping[str, tuple[str, str]]] = {
    "en": {
        "already-registered": (
            "Someone tried to sign up with your address",
            "Someone tried to open a new account with this address or number, which already "
            "has an account. If it was you, log in instead (you can log in with a one-time "
            "code). If not, you need do nothing.",
        ),
        "identifier-held": (
            "This address cannot sign up yet",
            "Someone tried to open an account with this address or number. An account that "
            "used it was cancelled recently, so it can sign up again only after {until}.",
        ),
        "password-changed": (
            "Your password was changed",
            "The password of your account was changed and your other sessions were ended. If "
            "this was not you, log in with a one-time code and change it again now.",
        ),
        "contact-changed": (
            "Your contact details changed",
            "Your account now uses {new}. If this was not you, contact the operator now.",
        ),
        "account-cancelled": (
            "Your account was cancelled",
            "Your account and everything it held were erased. This cannot be undone.",
        ),
        "inactivity-warning": (
            "Your account will be cancelled for inactivity",
            "Your account has not been used for a long time. Log in before {cancel_after} to "
            "keep it.",
        ),
        "account-restored": (
            "Your account was restored",
            "Your account is active again, and its verification units work again.",
        ),
        "account-suspended": ("Your account is {status}", "Reason: {reason}"),
        "reason": ("", "Reason: {reason}"),
        "suspended": ("suspended", ""),
        "banned": ("banned", ""),
        "new-device-login": NEW_DEVICE_LOGIN["en"],
        "passkey-added": PASSKEY_ADDED["en"],
        "verify-prefix-blocked": VERIFY_PREFIX_BLOCKED["en"],
        "balance-low": BALANCE_LOW["en"],
        "balance-empty": BALANCE_EMPTY["en"],
    },
    "zh-CN": {
        "already-registered": (
            "有人尝试用您的地址注册",
            "有人尝试用此地址或号码注册新账户，但它已有账户。如果是您本人，请直接登录（可使用一次性验证码登录）；"
            "如果不是，您无需任何操作。",
        ),
        "identifier-held": (
            "此地址暂时不能注册",
            "有人尝试用此地址或号码注册。使用它的账户最近已注销，{until} 之后才能再次注册。",
        ),
        "password-changed": (
            "您的密码已更改",
            "您账户的密码已更改，其他会话均已退出。如果不是您本人操作，请立即用一次性验证码登录并再次修改密码。",
        ),
        "contact-changed": (
            "您的联系方式已更改",
            "您的账户现在使用 {new}。如果不是您本人操作，请立即联系运营方。",
        ),
        "account-cancelled": ("您的账户已注销", "您的账户及其全部数据已删除，此操作无法撤销。"),
        "inactivity-warning": (
            "您的账户因长期未使用将被注销",
            "您的账户已很久未使用。请在 {cancel_after} 之前登录以保留它。",
        ),
        "account-restored": ("您的账户已恢复", "您的账户已重新启用，其验证单元也已恢复工作。"),
        "account-suspended": ("您的账户已被{status}", "原因：{reason}"),
        "reason": ("", "原因：{reason}"),
        "suspended": ("暂停", ""),
        "banned": ("封禁", ""),
        "new-device-login": NEW_DEVICE_LOGIN["zh-CN"],
        "passkey-added": PASSKEY_ADDED["zh-CN"],
        "verify-prefix-blocked": VERIFY_PREFIX_BLOCKED["zh-CN"],
        "balance-low": BALANCE_LOW["zh-CN"],
        "balance-empty": BALANCE_EMPTY["zh-CN"],
    },
}


def render_outgoing(templates: MessageTemplates, message: Outgoing, locale: str) -> RenderedMessage:
    """Render one message in `locale` (anything but Simplified Chinese gives English).

    Raises:
        ValueError: a template the account core does not send.
    """
    params = dict(message.params)
    purpose = _CODE_PURPOSES.get(message.template)
    if purpose is not None:
        return templates.one_time_code(
            locale,
            purpose=purpose,
            code=params["code"],
            minutes=int(params.get("minutes", "10")),
        )
    resolved = normalize_locale(locale)
    catalog = _NOTICES[resolved]
    if message.template == "account-suspended" and params.get("status") == "suspended":
        return templates.account_suspended(
            resolved, reason=params.get("reason", ""), link_path="/console"
        )
    texts = catalog.get(message.template) if message.template in TEMPLATES else None
    if texts is None:
        raise ValueError(f"No message text for the template {message.template!r}.")
    title, body = texts
    fill = {"until": "", "new": "", "cancel_after": "", "reason": "", **params}
    fill["status"] = catalog.get(fill.get("status", ""), (fill.get("status", ""), ""))[0]
    reason = fill["reason"]
    if message.template == "account-cancelled" and reason and reason != "owner":
        body += "\n\n" + catalog["reason"][1]
    rendered = templates.operator_notice(
        resolved, title=title.format(**fill), body=body.format(**fill), link_path="/console"
    )
    if message.template in _SMS_SAYS_ALL:
        rendered = dataclasses.replace(rendered, sms=body.format(**fill))
    return rendered


async def deliver(
    templates: MessageTemplates,
    channels: Channels,
    outgoing: Iterable[Outgoing],
    locale: str | None = None,
) -> bool:
    """Render and deliver messages through `channels`; False if any failed.

    Each message goes in its own `language` if it has one, else in `locale`. Failures are
    logged (without the message, which may hold a code) and never raised, so that one
    address that bounces stops no other message.
    """
    ok = True
    for message in outgoing:
        rendered = render_outgoing(templates, message, message.language or locale or "")
        try:
            await send_rendered(channels, rendered, kind=message.kind, to=message.to)
        except (DeliveryError, ValueError) as exc:
            ok = False
            log.warning("The %s %r was not delivered: %s", message.kind, message.template, exc)
    return ok


async def send_rendered(
    channels: Channels, rendered: RenderedMessage, *, kind: str, to: str
) -> None:
    """Send one rendered message: by e-mail if `kind` is "email", else by SMS.

    Raises:
        DeliveryError: the mail relay or SMS gateway refused or failed.
        ValueError: `to` is no address or number the channel can send to.
    """
    if kind == "email":
        await channels.mailer.send(rendered.email(to))
    else:
        await channels.sms.send(rendered.sms_message(to))
