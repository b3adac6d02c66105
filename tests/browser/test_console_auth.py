"""The console's sign-up and account pages in Chromium, through the real server and widget.

The console's forms carry its own HumanGate widget (an invisible proof-of-work unit), solved
here by the real widget script under the console's strict Content-Security-Policy. Codes are
read from the development outbox, as a developer would with `humangate outbox`.

These tests run their own server on a separate Redis database: the widget challenges they
issue from 127.0.0.1 would otherwise count towards the busy-network risk rule of the shared
`hg_server`, and make the widget tests that follow it stricter.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from humangate.messaging import read_outbox
from tests.browser.conftest import Server, redis_database, store_of
from tests.live import humangate_env, running_server

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "console" / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "correct horse battery"
TOKEN = "form input[type=hidden][name=humangate-response]"


@pytest.fixture(scope="module")
def console_redis_url(redis_url: str) -> str:
    return redis_database(redis_url, "console")


@pytest.fixture(scope="module")
def console_server(
    console_redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    env = humangate_env(tmp_path_factory.mktemp("console-data"), redis_url=console_redis_url)
    with running_server(env) as live:
        yield Server(url=live.url, redis_url=console_redis_url, env=live.env)


@pytest.fixture(scope="module")
def console_redis(console_server: Server):
    with store_of(console_server) as client:
        yield client
        client.flushdb()


def new_address() -> str:
    return f"owner-{uuid.uuid4().hex[:10]}@example.com"


def code_for(hg_server, address: str) -> str:
    data_dir = Path(hg_server.env["HUMANGATE_DATA_DIR"])
    entries = [e for e in read_outbox(data_dir, 500) if e.to == address]
    assert entries, f"no message to {address} in the outbox"
    found = re.search(r"\b(\d{6})\b", entries[-1].text)
    assert found, entries[-1].text
    return found.group(1)


def wait_for_widget(page) -> None:
    """The invisible widget solves its proof of work and fills the hidden token field."""
    page.wait_for_function(
        "s => { const f = document.querySelector(s); return !!(f && f.value); }", arg=TOKEN
    )


def test_sign_up_confirm_and_land_on_home(page, console_server):
    hg_server = console_server
    address = new_address()
    page.goto(hg_server.url + "/console/signup")
    wait_for_widget(page)
    page.fill("#identifier", address)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Enter your code")
    page.fill("#code", code_for(hg_server, address))
    page.click("button[type=submit]")
    page.wait_for_url(hg_server.url + "/console")
    expect(page.locator("h1")).to_contain_text("Welcome")
    expect(page.locator("main")).to_contain_text(f"logged in as {address}")


def _tab_to(page, selector: str, limit: int = 15) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_sign_up_with_the_keyboard_alone(page, console_server):
    hg_server = console_server
    address = new_address()
    page.goto(hg_server.url + "/console/signup")
    _tab_to(page, "#identifier")
    page.keyboard.type(address)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    wait_for_widget(page)
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Enter your code")
    assert page.evaluate("document.activeElement.id") == "code"  # autofocus
    page.keyboard.type(code_for(hg_server, address))
    page.keyboard.press("Enter")
    page.wait_for_url(hg_server.url + "/console")
    expect(page.locator("main")).to_contain_text(f"logged in as {address}")
    # Log out with the keyboard too.
    _tab_to(page, "button.link")
    page.keyboard.press("Enter")
    page.wait_for_url(hg_server.url + "/console/login")


def _axe(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target)}))"""
    )


def _forget_resend_limits(redis_db) -> None:
    """Let the next code go out now: one code a minute per address is the policy."""
    for key in redis_db.scan_iter("hg:*:acct-count:send-m:*"):
        redis_db.delete(key)


def assert_accessible(found: dict[str, list[dict]], *, at_least: int) -> None:
    """No page state axe checked has a serious or critical violation, and the tour reached at
    least `at_least` of them (a tour cut short would pass with too few)."""
    bad = {name: violations for name, violations in found.items() if violations}
    assert not bad, bad
    assert len(found) >= at_least


def test_axe_on_every_auth_and_account_page(browser, console_server, console_redis):
    hg_server, redis_db = console_server, console_redis
    # axe is injected as an inline script, which the console's CSP rightly blocks.
    context = browser.new_context(bypass_csp=True, color_scheme="light")
    page = context.new_page()
    found: dict[str, list[dict]] = {}

    def check(name: str) -> None:
        page.wait_for_load_state()
        found[name] = _axe(page)

    try:
        url = hg_server.url
        for path in (
            "/console/login",
            "/console/login/code",
            "/console/login/reset",
            "/console/blocked",
            "/console/signup",
        ):
            page.goto(url + path)
            check(path)
        for path, heading in (
            ("/console/login/code", "Enter your login code"),
            ("/console/login/reset", "Choose a new password"),
        ):
            page.goto(url + path)
            wait_for_widget(page)
            page.fill("#identifier", new_address())
            page.click("button[type=submit]")
            expect(page.locator("h1")).to_have_text(heading)
            check(path + " (code sent)")
        page.goto(url + "/console/signup")
        address = new_address()
        wait_for_widget(page)
        page.fill("#identifier", address)
        page.fill("#password", "short")
        page.click("button[type=submit]")
        check("signup with an error")
        wait_for_widget(page)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        check("confirm")
        page.fill("#code", code_for(hg_server, address))
        page.click("button[type=submit]")
        page.wait_for_url(url + "/console")
        check("home")
        for path in (
            "/console/profile",
            "/console/inbox",
            "/console/sessions",
            "/console/export",
            "/console/passkeys",
            "/console/terms",
        ):
            page.goto(url + path)
            check(path)
        page.goto(url + "/console/no-such-page")
        check("error page")
        page.goto(url + "/console/profile")
        page.fill("#contact_identifier", new_address())
        page.fill("#contact_password", PASSWORD)
        page.click("form[action='/console/profile/contact'] button")
        expect(page.locator("h1")).to_have_text("Confirm your new contact")
        check("contact confirm")
        page.goto(url + "/console/cancel")
        check("/console/cancel")
        _forget_resend_limits(redis_db)
        page.click("button.danger")
        expect(page.locator("h1")).to_have_text("Confirm cancellation")
        check("cancel confirm")
        page.fill("#code", code_for(hg_server, address))
        page.click("button.danger")
        expect(page.locator("h1")).to_have_text("Your account is cancelled")
        check("cancelled")
        _step_up_page(browser, hg_server, found, redis_db)
    finally:
        context.close()
    assert_accessible(found, at_least=22)


def _step_up_page(browser, hg_server, found, redis_db) -> None:
    """A password login from a second browser is asked for a code: check that page too."""
    address = new_address()
    first = browser.new_context(bypass_csp=True)
    second = browser.new_context(bypass_csp=True)
    try:
        page = first.new_page()
        page.goto(hg_server.url + "/console/signup")
        wait_for_widget(page)
        page.fill("#identifier", address)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.fill("#code", code_for(hg_server, address))
        page.click("button[type=submit]")
        page.wait_for_url(hg_server.url + "/console")
        _forget_resend_limits(redis_db)
        other = second.new_page()
        other.goto(hg_server.url + "/console/login")
        wait_for_widget(other)
        other.fill("#identifier", address)
        other.fill("#password", PASSWORD)
        other.click("button[type=submit]")
        expect(other.locator("h1")).to_have_text("Confirm it is you")
        found["step-up"] = _axe(other)
        other.fill("#code", code_for(hg_server, address))
        other.click("button[type=submit]")
        other.wait_for_url(hg_server.url + "/console")
    finally:
        first.close()
        second.close()


def _virtual_authenticator(page) -> tuple[object, str]:
    """Chromium's virtual platform authenticator: resident keys, user verification, and a
    user who always says yes."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    options = {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }
    made = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
    return cdp, made["authenticatorId"]


def test_add_a_passkey_then_log_in_with_it_on_another_device(browser, console_server):
    # WebAuthn refuses IP addresses as relying parties: browse by host name.
    url = console_server.url.replace("127.0.0.1", "localhost")
    address = new_address()
    first = browser.new_context()
    second = browser.new_context()
    try:
        page = first.new_page()
        cdp, authenticator = _virtual_authenticator(page)
        page.goto(url + "/console/signup")
        wait_for_widget(page)
        page.fill("#identifier", address)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.fill("#code", code_for(console_server, address))
        page.click("button[type=submit]")
        page.wait_for_url(url + "/console")

        page.goto(url + "/console/passkeys")
        page.fill("#passkey-name", "Test laptop")
        page.click("#passkey-add button[type=submit]")
        page.wait_for_url(url + "/console/passkeys?done=added")
        expect(page.locator("table")).to_contain_text("Test laptop")
        (credential,) = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})[
            "credentials"
        ]
        assert credential["isResidentCredential"]

        # The passkey moves to a second browser (as a synced passkey would), which has never
        # logged in: no password, no step-up code.
        other = second.new_page()
        other_cdp, other_authenticator = _virtual_authenticator(other)
        other_cdp.send(
            "WebAuthn.addCredential",
            {"authenticatorId": other_authenticator, "credential": credential},
        )
        other.goto(url + "/console/login?next=/console/passkeys")
        login = other.locator("#passkey-login button")
        expect(login).to_be_visible()
        login.click()
        other.wait_for_url(url + "/console/passkeys")
        expect(other.locator("main")).to_contain_text("Test laptop")
        expect(other.locator("table")).not_to_contain_text("never")  # last used: just now
    finally:
        first.close()
        second.close()


def test_a_failed_passkey_prompt_says_so_and_stays(browser, console_server):
    url = console_server.url.replace("127.0.0.1", "localhost")
    context = browser.new_context()
    try:
        page = context.new_page()
        _virtual_authenticator(page)  # holding no passkey for this site: the prompt fails
        page.goto(url + "/console/login")
        page.click("#passkey-login button")
        expect(page.locator("#passkey-status")).to_contain_text("Try again")
        assert page.url.startswith(url + "/console/login")
    finally:
        context.close()
