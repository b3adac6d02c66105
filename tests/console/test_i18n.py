"""The console in English and Simplified Chinese: the language chosen, the catalogue, the pages.

The catalogue (humangate/console/locales/zh-CN.json) must hold every msgid the templates use
and every Python sentence marked with `N_` or `Phrase`, and nothing else. Pages are checked
over HTTP: their `<html lang>`, their headings and, for a Chinese account, that no English
word is left in what the page shows.
"""

from __future__ import annotations

import dataclasses
import json
import re
import typing
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from markupsafe import Markup
from sqlalchemy import select

from humangate.accounts.outcomes import CodeSent, Locked, LoginFailed
from humangate.accounts.passkeys import PasskeyRejected, RejectReason
from humangate.config import Settings
from humangate.console import web
from humangate.console._i18n import (
    LANGUAGES,
    LOCALES,
    Phrase,
    browser_language,
    gettext_callables,
    load_catalog,
    pick_language,
    python_messages,
    translate,
)
from humangate.console.units import CRAWLER_LABELS, VISUAL_KINDS
from humangate.db import inbox as inbox_db
from humangate.db.models import Account
from tests.console.test_units_http import create as create_unit
from tests.console.test_units_http import run
from tests.console.test_web_http import csrf_of, get_csrf, sign_up

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
TAG = re.compile(r"<[^>]+>")
# Words a Chinese page may show in Latin letters: names, codes and what the owner typed.
LATIN_OK = {
    "HumanGate",
    "English",  # the language's own name on the profile page
    "UTC",
    "JSON",
    "CSV",
    "siteverify",
    "DNS",
    "owner",
    "example",
    "com",
    "Shop",
    "sign",
    "up",
    # The unit form's crawler names and challenge kinds' codes, shown as they are.
    *CRAWLER_LABELS.values(),
    *VISUAL_KINDS,
}


def template_messages() -> set[str]:
    """Every msgid the console templates pass to gettext (the singular of a plural)."""
    found: set[str] = set()
    for path in sorted(web.TEMPLATES.glob("*.html")):
        source = path.read_text(encoding="utf-8")
        for _, _, message in web.environment.extract_translations(source):
            if isinstance(message, tuple):
                message = message[0]
            if message:
                found.add(message)
    return found


def core_messages() -> set[str]:
    """The account core's fixed sentences that console pages show as they are."""
    outcomes = {
        field.default
        for kind in (LoginFailed, Locked, CodeSent)
        for field in dataclasses.fields(kind)
        if field.name == "message" and isinstance(field.default, str)
    }
    passkeys = {PasskeyRejected(reason).message for reason in typing.get_args(RejectReason)}
    return outcomes | passkeys


def used_messages() -> set[str]:
    console = Path(web.__file__).parent
    return template_messages() | python_messages(console.glob("*.py")) | core_messages()


class _Text(HTMLParser):
    """The text a page shows: body text, titles, and the aria-labels and placeholders."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "code", "pre"):
            self._skip += 1
        for name, value in attrs:
            if name in ("aria-label", "placeholder", "title", "data-copied", "data-failed"):
                self.parts.append(value or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "code", "pre"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def english_left(html: str) -> set[str]:
    """Latin words of three letters or more a page shows, except names and codes."""
    parser = _Text()
    parser.feed(html)
    words = set(re.findall(r"[A-Za-z]{3,}", " ".join(parser.parts)))
    return {word for word in words if word not in LATIN_OK}


def set_language(client: TestClient, language: str) -> None:
    csrf = get_csrf(client, "/console/profile")
    reply = client.post(
        "/console/profile",
        data={"csrf": csrf, "display_name": "", "language": language},
        follow_redirects=False,
    )
    assert reply.status_code == 303, reply.text


# --- the catalogue -------------------------------------------------------------------------------


def test_every_language_but_english_has_a_catalogue() -> None:
    files = {path.stem for path in LOCALES.glob("*.json")}
    assert files == set(LANGUAGES) - {"en"}


@pytest.mark.parametrize("language", [tag for tag in LANGUAGES if tag != "en"])
def test_the_catalogue_translates_every_message_and_only_those(language: str) -> None:
    catalog = load_catalog(language)
    used = used_messages()
    assert sorted(used - set(catalog)) == []
    assert sorted(set(catalog) - used) == []


@pytest.mark.parametrize("language", [tag for tag in LANGUAGES if tag != "en"])
def test_translations_keep_placeholders_and_markup(language: str) -> None:
    for msgid, text in load_catalog(language).items():
        assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(msgid)), msgid
        assert sorted(TAG.findall(text)) == sorted(TAG.findall(msgid)), msgid
        # Text written into attributes must not end them early.
        assert text.count('"') == msgid.count('"'), msgid


def test_the_chinese_catalogue_is_chinese() -> None:
    catalog = load_catalog("zh-CN")
    assert [msgid for msgid, text in catalog.items() if not CJK.search(text)] == []
    assert "通行密钥" in catalog.values() and "站点密钥" in catalog.values()


def test_the_catalogue_file_is_sorted_json() -> None:
    path = LOCALES / "zh-CN.json"
    entries = json.loads(path.read_text(encoding="utf-8"))
    assert list(entries) == sorted(entries)


# --- choosing the language -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("zh-CN,zh;q=0.9", "zh-CN"),
        ("zh", "zh-CN"),
        ("zh-Hans-CN", "zh-CN"),
        ("ZH-sg", "zh-CN"),
        ("zh_CN", "zh-CN"),
        ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
        ("fr-FR,zh-CN;q=0.5,en;q=0.4", "zh-CN"),
        ("de;q=0.9,en-GB;q=0.95", "en"),
        ("zh-TW", None),
        ("zh-HK,zh-Hant;q=0.9", None),
        ("zh-TW,zh;q=0.8", "zh-CN"),
        ("zh-CN;q=0,en", "en"),
        ("zh-CN;q=oops", None),
        ("*", None),
        ("", None),
        (None, None),
    ],
)
def test_browser_language(header: str | None, expected: str | None) -> None:
    assert browser_language(header) == expected


def test_the_account_language_comes_before_the_browser() -> None:
    assert pick_language("en", "zh-CN") == "en"
    assert pick_language("zh-CN", "en-US") == "zh-CN"
    assert pick_language(None, "zh-CN,zh;q=0.9") == "zh-CN"
    assert pick_language("pt-BR", "zh") == "zh-CN"  # a language the console lacks
    assert pick_language(None, "zh-TW") == "en"
    assert pick_language(None, None) == "en"


# --- translating ---------------------------------------------------------------------------------


def test_a_phrase_reads_as_english_and_translates_with_its_values() -> None:
    message = "The field %(name)s is too long (at most %(limit)s characters)."
    phrase = Phrase(message, name="'name'", limit=200)
    assert phrase == "The field 'name' is too long (at most 200 characters)."
    assert translate(phrase, "en") == phrase
    assert translate(phrase, "zh-CN") == "字段 'name' 过长（最多 200 个字符）。"
    # A sentence the catalogue lacks stays English.
    assert translate("Not in the catalogue.", "zh-CN") == "Not in the catalogue."


def test_translated_text_escapes_what_fills_it() -> None:
    template = web.environment.from_string(
        "{{ error | translate }}|{% trans who=who %}You are logged in as {{ who }}.{% endtrans %}"
    )
    values = {"lang": "zh-CN", "who": "<b>x</b>", **gettext_callables("zh-CN")}
    error = Phrase("Delete %(name)s", name="<script>")
    html = template.render(error=error, **values)
    assert html == "删除 &lt;script&gt;|您已以 &lt;b&gt;x&lt;/b&gt; 身份登录。"
    # Plain sentences from Python are escaped too, and markup passes as it is.
    assert template.render(error="<i>", **values).startswith("&lt;i&gt;|")
    assert template.render(error=Markup("<i>ok</i>"), **values).startswith("<i>ok</i>|")


# --- pages ---------------------------------------------------------------------------------------


def test_the_login_page_follows_the_browser(client: TestClient) -> None:
    chinese = client.get("/console/login", headers=ZH)
    assert '<html lang="zh-CN">' in chinese.text
    assert chinese.headers["content-language"] == "zh-CN"
    assert "<h1>登录</h1>" in chinese.text and "邮箱地址或手机号" in chinese.text
    assert english_left(chinese.text) == set()

    english = client.get("/console/login")
    assert '<html lang="en">' in english.text
    assert english.headers["content-language"] == "en"
    assert "<h1>Log in</h1>" in english.text and not CJK.search(english.text)
    # Traditional Chinese has no catalogue: English.
    assert (
        '<html lang="en">'
        in client.get("/console/login", headers={"Accept-Language": "zh-TW"}).text
    )


def test_error_pages_follow_the_browser(client: TestClient) -> None:
    missing = client.get("/console/nowhere", headers=ZH)
    assert missing.status_code == 404
    assert "<h1>未找到</h1>" in missing.text and "控制台中没有这个页面。" in missing.text
    refused = client.post("/console/login", data={"identifier": "x"}, headers=ZH)
    assert refused.status_code == 403 and "表单已过期" in refused.text


CHINESE_PAGES = {
    "/console": "欢迎",
    "/console/units": "验证单元",
    "/console/stats": "所有验证单元的统计",
    "/console/profile": "个人资料",
    "/console/sessions": "登录设备",
    "/console/export": "下载您的数据",
    "/console/cancel": "注销账户",
    "/console/units/new": "创建验证单元",
    "/console/passkeys": "通行密钥",
    "/console/inbox": "收件箱",
}


def test_a_chinese_account_sees_its_pages_in_chinese(
    client: TestClient, settings: Settings
) -> None:
    sign_up(client, settings)
    set_language(client, "zh-CN")
    for path, heading in CHINESE_PAGES.items():
        page = client.get(path)  # no Accept-Language: the account decides
        assert page.status_code == 200, path
        assert '<html lang="zh-CN">' in page.text, path
        assert heading in page.text, path
        assert english_left(page.text) == set(), path
    assert ">统计</a>" in client.get("/console").text  # the navigation too


def test_an_english_account_sees_english_in_a_chinese_browser(
    client: TestClient, settings: Settings
) -> None:
    sign_up(client, settings)
    set_language(client, "en")
    for path in CHINESE_PAGES:
        page = client.get(path, headers=ZH)
        assert '<html lang="en">' in page.text, path
        assert not CJK.search(page.text.replace("简体中文", "")), path  # the language's own name
    assert "Welcome" in client.get("/console", headers=ZH).text


def test_placeholders_survive_translation(client: TestClient, settings: Settings) -> None:
    sign_up(client, settings)
    set_language(client, "zh-CN")
    sitekey, _ = create_unit(client)
    csrf = csrf_of(client.get("/console/units").text)
    rotated = client.post(f"/console/units/{sitekey}/rotate", data={"csrf": csrf})
    assert rotated.status_code == 200
    assert "旧密钥在 24.0 小时内仍然有效" in rotated.text
    unit = client.get(f"/console/units/{sitekey}").text
    assert "托管：工作量证明" in unit.replace(": ", "：") and "滑动拼图到位、点击指定的图标" in unit
    assert english_left(unit) <= {"org", "shop"}  # the unit's domains
    deleting = client.get(f"/console/units/{sitekey}/delete").text
    assert f"输入站点密钥 <code>{sitekey}</code> 以确认" in deleting
    too_long = client.post("/console/profile", data={"csrf": csrf, "display_name": "x" * 300})
    assert too_long.status_code == 400
    assert "字段 &#39;display_name&#39; 过长（最多 200 个字符）。" in too_long.text


def test_a_chinese_browser_signs_up_into_a_chinese_account(
    client: TestClient, settings: Settings
) -> None:
    client.headers.update(ZH)
    sign_up(client, settings)
    client.headers.pop("Accept-Language")
    home = client.get("/console")  # the account's language now, not the browser's
    assert '<html lang="zh-CN">' in home.text and "欢迎" in home.text
    assert english_left(home.text) == set()
    profile = client.get("/console/profile").text
    assert '<option value="zh-CN" selected lang="zh-CN">' in profile


def test_python_sentences_are_translated_on_the_page(
    client: TestClient, settings: Settings
) -> None:
    wrong = client.post(
        "/console/login",
        data={"csrf": get_csrf(client), "identifier": "nobody@example.com", "password": "x" * 12},
        headers=ZH,
    )
    assert wrong.status_code == 401
    assert "邮箱地址、手机号或密码错误。" in wrong.text
    sign_up(client, settings)
    set_language(client, "zh-CN")
    csrf = get_csrf(client, "/console/sessions")
    ended = client.post("/console/sessions/revoke-others", data={"csrf": csrf})
    assert "已退出 0 个其他会话。" in ended.text
    bad = client.post(
        "/console/units",
        data={"csrf": csrf, "name": "Shop", "domains": "shop.example", "difficulty": "x"},
    )
    assert bad.status_code == 400 and "难度必须是 0 到 " in bad.text


def test_chinese_texts_address_the_reader_one_way() -> None:
    """The console, the messages and the notices all say 您, never the familiar 你."""
    package = Path(__file__).resolve().parents[2] / "humangate"
    texts = {
        "console": json.dumps(load_catalog("zh-CN"), ensure_ascii=False),
        "messages": (package / "messaging" / "templates" / "zh-CN.toml").read_text("utf-8"),
        "notices": (package / "accounts" / "_notices.py").read_text("utf-8"),
        "delivery": (package / "accounts" / "delivery.py").read_text("utf-8"),
    }
    assert {name for name, text in texts.items() if "你" in text} == set()
    assert all("您" in text for text in texts.values())


def test_inbox_tags_speak_the_account_language(client: TestClient, settings: Settings) -> None:
    sign_up(client, settings)
    set_language(client, "zh-CN")

    async def notify(session: typing.Any) -> None:
        account_id = await session.scalar(select(Account.id))  # the only account
        for kind in ("account", "security", "notice"):
            await inbox_db.add_notification(
                session, account_id, kind=kind, subject="主题", body="正文", now=datetime.now(UTC)
            )
        await session.commit()

    run(client, notify)
    page = client.get("/console/inbox").text
    assert "账户" in page and "安全" in page and "通知" in page
    assert english_left(page) == set()
