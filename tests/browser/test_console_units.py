"""Units, statistics and administration in Chromium, through the real server.

An owner signs up, creates a unit, copies its embed snippet, and watches the unit's statistics
show a verification made with it; an operator made with `humangate create-admin` suspends the
account and finds the suspension in the audit log. axe-core checks every page on the way.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid

import httpx
import pytest
from playwright.sync_api import expect

from humangate.challenges.pow import solve_pow
from tests.browser.test_console_auth import (
    PASSWORD,
    _axe,
    _forget_resend_limits,
    assert_accessible,
    code_for,
    wait_for_widget,
)

pytestmark = pytest.mark.browser


def sign_up(page, hg_server) -> str:
    address = f"units-{uuid.uuid4().hex[:10]}@example.com"
    page.goto(hg_server.url + "/console/signup")
    wait_for_widget(page)
    page.fill("#identifier", address)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.fill("#code", code_for(hg_server, address))
    page.click("button[type=submit]")
    page.wait_for_url(hg_server.url + "/console")
    return address


def verify_once(hg_server, sitekey: str, secret: str) -> None:
    """What a visitor's widget and the site's server do: solve the proof of work, siteverify."""
    headers = {"Origin": hg_server.url}
    with httpx.Client(base_url=hg_server.url, headers=headers, timeout=30) as http:
        challenge = http.post("/api/v1/challenges", json={"sitekey": sitekey}).json()
        assert challenge["kind"] == "pow", challenge
        number = solve_pow(challenge["pow"])
        answer = http.post(
            f"/api/v1/challenges/{challenge['id']}/answer", json={"pow": {"number": number}}
        ).json()
        assert answer["success"] is True, answer
        result = http.post("/siteverify", data={"secret": secret, "response": answer["token"]})
        assert result.json()["success"] is True, result.text


def create_unit(page, hg_server) -> tuple[str, str]:
    page.goto(hg_server.url + "/console/units")
    page.click("text=Create a unit")
    page.fill("#name", "My shop")
    page.fill("#domains", "127.0.0.1\nlocalhost")
    page.check("#mode-invisible")
    page.click("main button[type=submit]")
    expect(page.locator("h1")).to_contain_text("created")
    return page.inner_text("#sitekey"), page.inner_text("#secret")


def test_create_copy_verify_and_see_the_statistics(browser, hg_server):
    context = browser.new_context(color_scheme="light")  # the console's CSP stays on
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=hg_server.url)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # Every asset loads (the browser's own favicon request aside), and the CSP blocks nothing.
    page.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text
            else None
        ),
    )
    try:
        sign_up(page, hg_server)
        sitekey, secret = create_unit(page, hg_server)
        page.click("text=Continue to the unit")
        expect(page.locator("#snippet")).to_contain_text(f'data-sitekey="{sitekey}"')
        # Copy with the keyboard: focus the button, press Enter, hear "Copied".
        page.focus("button[data-copy=snippet]")
        page.keyboard.press("Enter")
        expect(page.locator("#copy-status")).to_have_text("Copied")
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied.startswith(f'<div class="humangate" data-sitekey="{sitekey}"></div>')
        assert f'<script src="{hg_server.url}/humangate.js" async defer></script>' in copied

        verify_once(hg_server, sitekey, secret)
        page.click("text=Statistics")
        deadline = time.monotonic() + 20
        while page.inner_text("dd[data-metric=passed]") != "1":  # counters flush every 5 s
            assert time.monotonic() < deadline, "the pass never reached the statistics"
            time.sleep(1)
            page.reload()
        assert page.inner_text("dd[data-metric=verified]") == "1"
        expect(page.locator("#stats-chart")).to_have_attribute("data-drawn", "true")
        expect(page.locator("#stats-chart canvas")).to_have_count(1)
        page.click("text=Last 7 days")
        expect(page.locator("#stats-table tbody tr")).to_have_count(7)
        assert page.inner_text("dd[data-metric=passed]") == "1"
    finally:
        context.close()
    assert not errors, errors


def test_risk_settings_reach_the_verification_loop(page, hg_server):
    sign_up(page, hg_server)
    page.goto(hg_server.url + "/console/units/new")
    page.fill("#name", "Guarded shop")
    page.fill("#domains", "127.0.0.1\nlocalhost")
    page.check("#mode-invisible")
    page.fill("#pow_difficulty", "2000")
    page.fill("#deny_networks", "127.0.0.1  # this test's own address")
    page.check("#bot-googlebot")
    page.click("main button[type=submit]")
    expect(page.locator("h1")).to_contain_text("created")
    sitekey = page.inner_text("#sitekey")
    page.click("text=Continue to the unit")
    expect(page.locator("#deny-list")).to_have_text("127.0.0.1/32")
    expect(page.locator("#good-bots")).to_have_text("Googlebot")
    expect(page.locator("dl.facts")).to_contain_text("2000")

    headers = {"Origin": hg_server.url}
    with httpx.Client(base_url=hg_server.url, headers=headers, timeout=30) as http:
        refused = http.post("/api/v1/challenges", json={"sitekey": sitekey})
        assert refused.status_code == 403 and refused.json()["error"] == "access-denied"

    page.click("text=Edit the settings")
    expect(page.locator("#deny_networks")).to_have_value("127.0.0.1/32")
    expect(page.locator("#bot-googlebot")).to_be_checked()
    page.fill("#deny_networks", "")
    page.fill("#allow_networks", "127.0.0.0/8\nnot a network")
    page.click("main button[type=submit]")
    expect(page.locator("#form-error")).to_contain_text("The allow list: Line 2:")
    page.fill("#allow_networks", "127.0.0.0/8")
    page.click("main button[type=submit]")
    expect(page.locator("#allow-list")).to_have_text("127.0.0.0/8")
    expect(page.locator("dl.facts")).to_contain_text("Deny listnone")
    # The server caches units for a few seconds, so the edit's effect on challenges is left to
    # tests/console/test_units_http.py, which runs without that cache.


def create_admin_cli(hg_server) -> str:
    address = f"ops-{uuid.uuid4().hex[:8]}@example.com"
    done = subprocess.run(
        [sys.executable, "-m", "humangate", "create-admin", "--email", address],
        env=hg_server.env,
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return address


def log_in(page, hg_server, address: str, redis_db) -> None:
    _forget_resend_limits(redis_db)
    page.goto(hg_server.url + "/console/login")
    wait_for_widget(page)
    page.fill("#identifier", address)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Confirm it is you")  # a new device
    page.fill("#code", code_for(hg_server, address))
    page.click("button[type=submit]")
    page.wait_for_url(hg_server.url + "/console")


def test_axe_on_unit_stats_and_admin_pages(browser, hg_server, redis_db):
    # axe is injected as an inline script, which the console's CSP rightly blocks.
    context = browser.new_context(bypass_csp=True, color_scheme="light")
    page = context.new_page()
    found: dict[str, list[dict]] = {}

    def check(name: str) -> None:
        page.wait_for_load_state()
        found[name] = _axe(page)

    try:
        url = hg_server.url
        owner = sign_up(page, hg_server)
        page.goto(url + "/console/units")
        check("units, empty")
        page.click("text=Create a unit")
        check("new unit")
        page.fill("#name", "x" * 5)
        page.fill("#domains", "not a domain!")
        page.click("main button[type=submit]")
        expect(page.locator("#form-error")).to_contain_text("not a valid domain")
        check("new unit with an error")
        sitekey, _ = create_unit(page, hg_server)
        check("secret")
        for path in ("", "/edit", "/delete", "/stats", "/stats?range=30d&by=day"):
            page.goto(f"{url}/console/units/{sitekey}{path}")
            check(f"unit{path}")
        page.goto(url + "/console/units")
        check("units")
        page.goto(url + "/console/stats")
        check("account stats")
        page.goto(f"{url}/console/units/{sitekey}")
        page.click("text=Rotate the secret")
        expect(page.locator("h1")).to_contain_text("New secret")
        check("rotated")

        page.context.clear_cookies()
        log_in(page, hg_server, create_admin_cli(hg_server), redis_db)
        page.goto(url + "/console/admin/accounts?q=" + owner.split("@")[0])
        check("accounts")
        page.click(f"text={owner}")
        check("account")
        account_url = page.url
        page.goto(account_url + "/cancel")
        check("account cancel")
        page.goto(url + "/console/admin/notices")
        check("notices")
        page.goto(account_url)
        page.fill("#reason", "Spam sent through the sign-up form.")
        page.click("text=Apply")
        expect(page.locator("#account-status")).to_have_text("suspended")
        check("account suspended")
        page.goto(url + "/console/admin/audit?action=account.suspended")
        expect(page.locator("table.audit")).to_contain_text("Spam sent through the sign-up form.")
        check("audit")
        _blocked_owner_keeps_their_data(browser, hg_server, redis_db, owner, found)
    finally:
        context.close()
    assert_accessible(found, at_least=20)
    assert re.match(r"^hg", sitekey)


def test_unit_pages_fit_a_phone_and_pass_axe_in_the_dark(browser, hg_server):
    context = browser.new_context(
        bypass_csp=True, color_scheme="dark", viewport={"width": 360, "height": 740}
    )
    page = context.new_page()
    found: dict[str, list[dict]] = {}
    try:
        sign_up(page, hg_server)
        sitekey, _ = create_unit(page, hg_server)
        for path in ("", "/delete", "/stats"):
            page.goto(f"{hg_server.url}/console/units/{sitekey}{path}")
            page.wait_for_load_state()
            found[f"unit{path}"] = _axe(page)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, (path, width)
    finally:
        context.close()
    assert_accessible(found, at_least=3)


def _blocked_owner_keeps_their_data(browser, hg_server, redis_db, owner, found) -> None:
    """The suspended owner cannot log in, but reaches their export with a code."""
    context = browser.new_context(bypass_csp=True, color_scheme="light")
    try:
        page = context.new_page()
        page.goto(hg_server.url + "/console/login")
        wait_for_widget(page)
        page.fill("#identifier", owner)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator("h1")).to_have_text("You cannot log in")
        expect(page.locator("main")).to_contain_text("Spam sent through the sign-up form.")
        found["login blocked"] = _axe(page)
        _forget_resend_limits(redis_db)
        wait_for_widget(page)
        page.click("#blocked-code")
        expect(page.locator("h1")).to_have_text("Enter your code")
        found["blocked code"] = _axe(page)
        page.fill("#code", code_for(hg_server, owner))
        page.click("button[type=submit]")
        expect(page.locator("#blocked-status")).to_contain_text("This account is suspended.")
        found["blocked account"] = _axe(page)
        with page.expect_download() as download:
            page.click("text=Download JSON")
        assert owner in download.value.path().read_text()
    finally:
        context.close()
