"""The texts of the security notices the core writes to the inbox itself, in English and
Simplified Chinese; the console renders the same texts for e-mail and SMS, so they agree."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

NoticeTexts = Mapping[str, tuple[str, str]]

# Title and body per locale; the body's fields are the `new-device-login` template's parameters.
NEW_DEVICE_LOGIN: NoticeTexts = {
    "en": (
        "New sign-in to your HumanGate account",
        "New sign-in to your HumanGate account: {device}, network {network}, {time}. If this "
        "was not you, change your password and end other sessions.",
    ),
    "zh-CN": (
        "您的 HumanGate 账户有新的登录",
        "您的 HumanGate 账户有新的登录：{device}，网络 {network}，{time}。如果不是您本人，"
        "请修改密码并退出其他会话。",
    ),
}

PASSKEY_ADDED: NoticeTexts = {
    "en": (
        "A passkey was added to your HumanGate account",
        'The passkey "{name}" can now log in to your HumanGate account. If you did not add '
        "it, remove it on the Passkeys page, change your password and end other sessions.",
    ),
    "zh-CN": (
        "您的 HumanGate 账户添加了通行密钥",
        "通行密钥“{name}”现在可以登录您的 HumanGate 账户。如果不是您本人添加的，请在“通行密钥”页面"
        "删除它，修改密码并退出其他会话。",
    ),
}


VERIFY_PREFIX_BLOCKED: NoticeTexts = {
    "en": (
        "Codes to {prefix} paused for your app {app}",
        "Your app {app} sent {sent} codes to numbers starting {prefix} in the last hour and "
        "{approved} of them were used: the pattern of SMS pumping (toll fraud). Codes to that "
        "range are paused until {until}. If these were real people, unblock the range on the "
        "app's page in the console.",
    ),
    "zh-CN": (
        "您的应用 {app} 已暂停向 {prefix} 发送验证码",
        "您的应用 {app} 在过去一小时内向以 {prefix} 开头的号码发送了 {sent} 条验证码，其中只有 "
        "{approved} 条被使用，这符合短信轰炸（话费欺诈）的特征。在 {until} 之前，将暂停向该号段发送"
        "验证码。如果这些是真实用户，请在控制台的应用页面解除该号段的封锁。",
    ),
}

BALANCE_LOW: NoticeTexts = {
    "en": (
        "Your HumanGate balance is below {threshold} {currency}",
        "Your HumanGate balance is {balance} {currency}, below {threshold} {currency}. When it "
        "runs out, new challenges for your units are refused until you top up: top up on the "
        "Billing page of the console.",
    ),
    "zh-CN": (
        "您的 HumanGate 余额已低于 {threshold} {currency}",
        "您的 HumanGate 余额为 {balance} {currency}，已低于 {threshold} {currency}。余额用尽后，"
        "您的验证单元将无法发起新的验证，直到您充值。请在控制台的“计费”页面充值。",
    ),
}

BALANCE_EMPTY: NoticeTexts = {
    "en": (
        "Your HumanGate balance has run out",
        "Your HumanGate balance is {balance} {currency}. New challenges for your units are "
        'refused (visitors see "Verification unavailable") once any credit of your plan is '
        "used; tokens already issued still verify. Top up on the Billing page of the console.",
    ),
    "zh-CN": (
        "您的 HumanGate 余额已用尽",
        "您的 HumanGate 余额为 {balance} {currency}。在套餐的信用额度（如有）用完后，您的验证单元将"
        "无法发起新的验证（访客会看到“验证暂不可用”）；已签发的令牌仍可校验。请在控制台的“计费”页面充值。",
    ),
}


def notice_locale(language: str | None) -> str:
    """`zh-CN` for Simplified Chinese tags (as the messaging catalog reads them), else `en`."""
    tag = (language or "").replace("_", "-").lower()
    if tag == "zh" or tag.startswith(("zh-cn", "zh-hans", "zh-sg")):
        return "zh-CN"
    return "en"


def notice_time(now: datetime) -> str:
    """A moment as notices show it: `2026-03-02 09:00 UTC`."""
    return now.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
