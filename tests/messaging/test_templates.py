"""Message texts: every kind in both languages, escaped HTML, no links but the console's own."""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape

from humangate.config import Settings
from humangate.errors import InvalidInput
from humangate.messaging import (
    CODE_PURPOSES,
    LOCALES,
    MessageTemplates,
    RenderedMessage,
    normalize_locale,
)
from humangate.messaging.templates import CodePurpose, Locale

CONSOLE = "https://console.example.org"
HOSTILE = '<script>alert("x")</script> & <img src=https://evil.example/p.gif>'
WHEN = datetime(2025, 3, 1, 14, 5, tzinfo=UTC)
TEMPLATES_DIR = Path(__file__).parents[2] / "humangate" / "messaging" / "templates"

Render = Callable[[MessageTemplates, Locale], RenderedMessage]


def _code(purpose: CodePurpose) -> Render:
    return lambda t, loc: t.one_time_code(loc, purpose=purpose, code="314159", minutes=10)


KINDS: dict[str, Render] = {
    **{f"code-{purpose}": _code(purpose) for purpose in CODE_PURPOSES},
    "new-device": lambda t, loc: t.new_device_login(
        loc, when=WHEN, device=HOSTILE, place="Shanghai, CN"
    ),
    "secret-rotated": lambda t, loc: t.secret_rotated(
        loc, unit=HOSTILE, sitekey="hg_site_1", old_valid_until=WHEN
    ),
    "secret-rotated-now": lambda t, loc: t.secret_rotated(
        loc, unit="Shop", sitekey="hg_site_1", old_valid_until=None
    ),
    "unit-disabled": lambda t, loc: t.unit_disabled(
        loc, unit="Shop", sitekey="hg_site_1", reason=HOSTILE
    ),
    "suspended": lambda t, loc: t.account_suspended(loc, reason=HOSTILE),
    "notice": lambda t, loc: t.operator_notice(
        loc, title="Maintenance\non Sunday", body=f"First {HOSTILE}\n\nSecond paragraph."
    ),
    "inactivity": lambda t, loc: t.inactivity_warning(
        loc, last_active=date(2024, 3, 1), cancel_on=datetime(2025, 4, 1, 23, 0)
    ),
}


@pytest.fixture
def templates() -> MessageTemplates:
    return MessageTemplates.from_settings(Settings(public_url=CONSOLE + "/"))


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_safely(templates: MessageTemplates, kind: str, locale: Locale) -> None:
    message = KINDS[kind](templates, locale)
    assert message.subject and "\n" not in message.subject
    assert message.text.strip() and message.sms.strip()
    assert f'<html lang="{locale}">' in message.html
    # Values are text: hostile markup arrives escaped in HTML and verbatim in the text part.
    assert "<script" not in message.html and "<img" not in message.html
    assert "<" not in message.text.replace(HOSTILE, "")
    if kind in {"new-device", "secret-rotated", "unit-disabled", "suspended", "notice"}:
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;img" in message.html
        assert HOSTILE in message.text
    # No tracking: no images or remote resources; the only link is the console's.
    html = message.html.replace(str(escape(HOSTILE)), "")
    assert not re.search(r"<(img|link|script|iframe|object)\b|\bsrc=|url\(", html)
    for href in re.findall(r'href="([^"]*)"', html):
        assert href.startswith(CONSOLE + "/")
    for text in (message.text.replace(HOSTILE, ""), message.sms.replace(HOSTILE, ""), html):
        assert "evil" not in text
        for url in re.findall(r"https?://[^\s\"<>]+", text):
            assert url.startswith(CONSOLE), url
    assert message.sms.startswith("HumanGate: " if locale == "en" else "【HumanGate】")
    message.email("ann@example.org")  # a valid EmailMessage (single-line subject, …)


@pytest.mark.parametrize("locale", LOCALES)
def test_codes_carry_no_link_and_bind_the_sms_to_the_console(
    templates: MessageTemplates, locale: Locale
) -> None:
    message = templates.one_time_code(locale, purpose="login", code="314159", minutes=5)
    assert "href" not in message.html and CONSOLE not in message.text
    assert "314159" in message.subject + message.text or "314159" in message.text
    assert "    314159\n" in message.text and ">314159</p>" in message.html
    assert message.sms.endswith("\n\n@console.example.org #314159")


def test_cancellation_warns_that_it_is_final(templates: MessageTemplates) -> None:
    en = templates.one_time_code("en", purpose="cancel", code="1", minutes=10, reuse_days=10)
    zh = templates.one_time_code("zh-CN", purpose="cancel", code="1", minutes=10, reuse_days=10)
    assert "cannot be undone" in en.text and "10 days" in en.text
    assert "无法恢复" in zh.text and "10 天" in zh.text


def test_chinese_texts_and_dates(templates: MessageTemplates) -> None:
    message = templates.new_device_login(
        "zh_CN",
        when=datetime(2025, 3, 1, 22, 5, tzinfo=timezone(timedelta(hours=8))),
        device="Firefox",
    )
    assert message.subject == "您的 HumanGate 账户在新设备上登录"
    assert "时间：2025年3月1日 14:05（UTC）" in message.text
    assert message.sms.startswith("【HumanGate】您的账户于 2025年3月1日 14:05（UTC）")
    english = templates.new_device_login("en-GB", when=WHEN, device="Firefox")
    assert "Time: 2025-03-01 14:05 UTC" in english.text
    assert "Approximate place" not in english.text


def test_text_layout(templates: MessageTemplates) -> None:
    message = templates.unit_disabled("en", unit="Shop", sitekey="hg_1", reason="")
    assert message.text == (
        "Your verification unit Shop (site key hg_1) was disabled: its widget shows no challenge "
        "and siteverify rejects its tokens.\n\n"
        "The console shows the details, and lets you enable the unit again where that is "
        "allowed.\n\n"
        f"Open the console: {CONSOLE}/\n\n"
        "-- \n"
        "HumanGate sent this message automatically; replies are not read.\n"
    )


def test_without_a_public_url_there_are_no_links() -> None:
    message = MessageTemplates().account_suspended("en", reason="unpaid")
    assert "href" not in message.html and "http" not in message.text
    code = MessageTemplates().one_time_code("en", purpose="signup", code="42", minutes=3)
    assert "@" not in code.sms


@pytest.mark.parametrize("path", ["https://evil.example/", "//evil.example/x", "javascript:x"])
def test_links_stay_in_the_console(templates: MessageTemplates, path: str) -> None:
    with pytest.raises(InvalidInput, match="only into the console"):
        templates.account_suspended("en", reason="x", link_path=path)
    ok = templates.account_suspended("en", reason="x", link_path="/account?tab=billing")
    assert f'href="{CONSOLE}/account?tab=billing"' in ok.html


@pytest.mark.parametrize("code", ["", "12 34", "12\n34", "１２３", "x" * 17])
def test_codes_are_short_ascii_alphanumerics(templates: MessageTemplates, code: str) -> None:
    with pytest.raises(InvalidInput):
        templates.one_time_code("en", purpose="login", code=code, minutes=5)


@pytest.mark.parametrize(
    ("tag", "locale"),
    [
        ("zh", "zh-CN"),
        ("zh_CN", "zh-CN"),
        ("zh-Hans-CN", "zh-CN"),
        ("ZH-SG", "zh-CN"),
        ("zh-TW", "en"),
        ("zh-Hant", "en"),
        ("en-US", "en"),
        ("fr", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_normalize_locale(tag: str | None, locale: str) -> None:
    assert normalize_locale(tag) == locale


def _shape(node: Any, prefix: str = "") -> dict[str, set[str]]:
    """Every key path, with the placeholders its text uses."""
    if isinstance(node, dict):
        return {
            k: v for key, value in node.items() for k, v in _shape(value, f"{prefix}.{key}").items()
        }
    names = {field for _, field, _, _ in string.Formatter().parse(node) if field}
    return {prefix: names}


def test_catalogs_have_the_same_keys_and_placeholders() -> None:
    en, zh = (
        _shape(tomllib.loads((TEMPLATES_DIR / f"{locale}.toml").read_text("utf-8")))
        for locale in LOCALES
    )
    assert en == zh
