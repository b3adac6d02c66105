"""The verify apps' console pages in Chromium, through the real server, in English and Chinese.

An owner signs up (the browser's language becomes the account's), makes a unit and an app
through the forms, and axe-core checks every app page on the way: the list, the form with and
without an error, the secret, the settings, the log, the conversion chart and the delete page.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_console_auth import _axe, assert_accessible
from tests.browser.test_console_units import sign_up

pytestmark = pytest.mark.browser


def _tour(browser, hg_server, locale: str, found: dict[str, list[dict]]) -> None:
    # axe is injected as an inline script, which the console's CSP rightly blocks.
    context = browser.new_context(locale=locale, bypass_csp=True, color_scheme="light")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def check(name: str) -> None:
        page.wait_for_load_state()
        expect(page.locator("html")).to_have_attribute("lang", locale)
        found[f"{locale} {name}"] = _axe(page)

    try:
        url = hg_server.url
        sign_up(page, hg_server)
        page.goto(url + "/console/units/new")
        page.fill("#name", "My shop")
        page.fill("#domains", "127.0.0.1\nlocalhost")
        page.click("main button[type=submit]")
        sitekey = page.inner_text("#sitekey")
        page.goto(url + "/console/apps")
        check("apps, empty")
        page.click("main a.button")
        check("new app")
        page.fill("#name", "Shop login")
        page.fill("#countries", "GB XX")
        page.select_option("#sitekey", sitekey)
        page.click("main button[type=submit]")
        expect(page.locator("#form-error")).to_contain_text("XX")
        check("new app with an error")
        page.fill("#countries", "GB CN")
        page.click("main button[type=submit]")
        expect(page.locator("#secret")).to_be_visible()
        check("secret")
        app_key = page.inner_text("#app-key")
        for path in ("", "/log", "/conversion", "/delete"):
            page.goto(f"{url}/console/apps/{app_key}{path}")
            check(f"app{path}")
        page.goto(url + "/console/apps")
        check("apps")
    finally:
        context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def test_axe_on_the_app_pages_in_english_and_chinese(browser, hg_server):
    found: dict[str, list[dict]] = {}
    _tour(browser, hg_server, "en", found)
    _tour(browser, hg_server, "zh-CN", found)
    assert_accessible(found, at_least=18)
