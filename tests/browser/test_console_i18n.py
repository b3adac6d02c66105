"""The console in Simplified Chinese, in Chromium: a zh-CN browser signs up and reads Chinese.

The browser's language (Playwright's `locale`, sent as Accept-Language) picks the pages'
language before login, and becomes the new account's language at sign-up, so the home page
after the code is Chinese too. axe-core checks that page as tests/browser/test_console_auth.py
checks the English ones.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import person_user_agent
from tests.browser.test_console_auth import (  # noqa: F401 - console_server's own fixture
    PASSWORD,
    _axe,
    code_for,
    console_redis_url,
    console_server,
    new_address,
    wait_for_widget,
)

pytestmark = pytest.mark.browser


def test_a_chinese_browser_signs_up_and_reads_chinese(browser, console_server):  # noqa: F811
    hg_server = console_server
    # axe is injected as an inline script, which the console's CSP rightly blocks.
    context = browser.new_context(
        locale="zh-CN",
        bypass_csp=True,
        color_scheme="light",
        user_agent=person_user_agent(browser),
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_default_timeout(15_000)
    try:
        address = new_address()
        page.goto(hg_server.url + "/console/signup")
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(page.locator("h1")).to_have_text("创建账户")
        wait_for_widget(page)
        page.fill("#identifier", address)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator("h1")).to_have_text("输入验证码")
        page.fill("#code", code_for(hg_server, address))
        page.click("button[type=submit]")
        page.wait_for_url(hg_server.url + "/console")
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(page.locator("h1")).to_have_text("欢迎")
        expect(page.locator("main")).to_contain_text(f"您已以 {address} 身份登录。")
        expect(page.locator("nav[aria-label='控制台']")).to_contain_text("验证单元")
        page.wait_for_load_state()
        violations = _axe(page)
        # The account keeps the language: the profile shows it chosen.
        page.goto(hg_server.url + "/console/profile")
        expect(page.locator("#language")).to_have_value("zh-CN")
    finally:
        context.close()
    assert violations == []
    assert not errors, f"uncaught errors in the page: {errors}"
