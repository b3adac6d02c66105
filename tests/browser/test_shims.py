"""The reCAPTCHA, hCaptcha and Turnstile shims: pages written from each vendor's documented
snippets (tests/browser/pages/shims/), served from another origin and changed only in the
script's host (and the placeholder site key, which is the owner's to fill in), run in chromium;
the token their form posts is verified on the vendor's siteverify path with the unit's secret.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from humangate.testkeys import FAIL_SITEKEY, INTERACTIVE_SITEKEY, PASS_SITEKEY
from tests.browser._host import RECORDER
from tests.browser._widget import (
    ROOT,
    SLIDER,
    drag_handle,
    handle_centre,
    human_drag,
    is_answer,
    is_new_challenge,
    private_x,
)
from tests.browser.conftest import MONITORED, own_server, person_user_agent, store_of
from tests.live import create_unit_cli

pytestmark = pytest.mark.browser

PAGES = Path(__file__).parent / "pages" / "shims"
VENDOR_HOSTS = (
    "https://www.google.com",
    "https://js.hcaptcha.com",
    "https://challenges.cloudflare.com",
)
PLACEHOLDER_KEYS = ("reCAPTCHA_site_key", "your_site_key", "KEY_ID", "<YOUR_SITE_KEY>")
# A small proof of work: these tests check the shims, not the work.
UNIT = ("--domain", "127.0.0.1", "--pow-difficulty", "2000")
RECAPTCHA_VERIFY = "/recaptcha/api/siteverify"
HCAPTCHA_VERIFY = "/siteverify"
TURNSTILE_VERIFY = "/turnstile/v0/siteverify"


@pytest.fixture(scope="module")
def invisible(hg_server) -> dict:
    return create_unit_cli(hg_server.env, *UNIT, "--mode", "invisible")


@pytest.fixture(scope="module")
def scored(hg_server) -> dict:
    return create_unit_cli(hg_server.env, *UNIT, "--mode", "score")


@pytest.fixture(scope="module")
def managed_server(redis_url, tmp_path_factory):
    """Whether the gesture is offered is the risk engine's first judgement, which the other
    modules' challenges from 127.0.0.1 would lower on a shared server."""
    settings = {"monitoring_networks": MONITORED}
    with own_server(redis_url, tmp_path_factory, "shims-managed", **settings) as live:
        yield live


@pytest.fixture(scope="module")
def managed_redis(managed_server):
    with store_of(managed_server) as client:
        yield client


@pytest.fixture(scope="module")
def managed(managed_server) -> dict:
    return create_unit_cli(managed_server.env, *UNIT, "--mode", "managed")


@pytest.fixture(scope="module")
def context(browser):
    context = browser.new_context(
        color_scheme="light",
        viewport={"width": 520, "height": 800},
        user_agent=person_user_agent(browser),
    )
    yield context
    context.close()


@pytest.fixture
def tab(context) -> Iterator:
    """A page of the module's one browser context; it fails the test on any uncaught error."""
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_default_timeout(15_000)
    yield page
    # Leave the page first, so that its worker (the widget's integrity check) is gone before the
    # page is closed: closing a page while the driver attaches to a starting worker can hang.
    for _ in range(3):  # the page's own script may still be submitting its form
        try:
            page.goto("about:blank")
            break
        except PlaywrightError:
            page.wait_for_timeout(200)
    page.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def vendor_page(host_site, hg_server, name: str, sitekey: str) -> str:
    """The vendor example `name` with HumanGate as its script host, published on `host_site`."""
    html = (PAGES / name).read_text()
    assert any(host in html for host in VENDOR_HOSTS), f"{name} loads no vendor script"
    for host in VENDOR_HOSTS:
        html = html.replace(host, hg_server.url)
    for placeholder in PLACEHOLDER_KEYS:
        html = html.replace(placeholder, sitekey)
    path = f"/shims/{name}"
    host_site.pages[path] = html.encode()
    return host_site.url + path


def posted_form(page, submit: Callable[[], object]) -> dict[str, str]:
    """The fields of the form that `submit` makes the page post to its own origin."""
    origin = page.url.split("/shims/")[0]
    posted = lambda r: r.method == "POST" and r.url.startswith(origin)  # noqa: E731
    with page.expect_request(posted) as request:
        submit()
    # The form's navigation finishes before the test goes on (and before its page is closed).
    request.value.response()
    page.wait_for_load_state()
    fields = parse_qs(request.value.post_data or "", keep_blank_values=True)
    return {name: values[-1] for name, values in fields.items()}


def own_page(host_site, hg_server, script: str, body: str) -> str:
    """A page of our own (not a vendor's example) with the event recorder and the shim `script`."""
    path = f"/shims/own-{len(host_site.pages)}.html"
    host_site.pages[path] = (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>own</title><body>{RECORDER}"
        f"{body}<script src='{hg_server.url}{script}' async defer></script></body></html>"
    ).encode()
    return host_site.url + path


def events(page) -> list:
    return list(page.evaluate("() => events"))


def siteverify(hg_server, path: str, secret: str, token: str) -> dict:
    answer = httpx.post(hg_server.url + path, data={"secret": secret, "response": token})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def field_filled(page, name: str) -> str:
    page.wait_for_function(f"() => (document.querySelector('[name={name}]') || {{}}).value")
    return str(page.locator(f"[name={name}]").first.input_value())


# ---- reCAPTCHA ------------------------------------------------------------------------------


def test_recaptcha_v2_checkbox(tab, host_site, hg_server, invisible):
    tab.goto(vendor_page(host_site, hg_server, "recaptcha-v2-checkbox.html", invisible["sitekey"]))
    expect(tab.locator(ROOT)).to_have_attribute("data-state", "success")
    token = field_filled(tab, "g-recaptcha-response")
    assert tab.evaluate("() => grecaptcha.getResponse()") == token
    assert tab.evaluate("() => grecaptcha.getResponse(0)") == token
    assert tab.locator("#g-recaptcha-response").input_value() == token

    form = posted_form(tab, lambda: tab.click("input[type=submit]"))
    assert form["g-recaptcha-response"] == token
    verdict = siteverify(hg_server, RECAPTCHA_VERIFY, invisible["secret"], token)
    assert verdict["success"] is True and verdict["hostname"] == "127.0.0.1"
    replay = siteverify(hg_server, RECAPTCHA_VERIFY, invisible["secret"], token)
    assert replay["success"] is False and replay["error-codes"] == ["timeout-or-duplicate"]


def test_recaptcha_v2_invisible_button_starts_on_click(tab, host_site, hg_server, invisible):
    challenges = []
    tab.on("response", lambda r: challenges.append(r) if is_new_challenge(r) else None)
    url = vendor_page(host_site, hg_server, "recaptcha-v2-invisible.html", invisible["sitekey"])
    tab.goto(url)
    tab.wait_for_function("() => window.grecaptcha && grecaptcha.getResponse() === ''")
    assert not challenges, "an invisible widget waits for execute"
    assert tab.locator(".humangate-widget").is_hidden()

    form = posted_form(tab, lambda: tab.click("button.g-recaptcha"))
    assert len(challenges) == 1
    verdict = siteverify(
        hg_server, RECAPTCHA_VERIFY, invisible["secret"], form["g-recaptcha-response"]
    )
    assert verdict["success"] is True


@pytest.mark.parametrize(
    ("name", "action"), [("recaptcha-v3.html", "submit"), ("recaptcha-enterprise.html", "LOGIN")]
)
def test_recaptcha_v3_execute_with_action(tab, host_site, hg_server, scored, name, action):
    tab.goto(vendor_page(host_site, hg_server, name, scored["sitekey"]))
    form = posted_form(tab, lambda: tab.click("button"))
    verdict = siteverify(hg_server, RECAPTCHA_VERIFY, scored["secret"], form["token"])
    assert verdict["success"] is True and verdict["action"] == action
    assert 0.0 <= verdict["score"] <= 1.0


# ---- hCaptcha -------------------------------------------------------------------------------


def test_hcaptcha_checkbox_fills_both_fields(tab, host_site, hg_server, invisible):
    tab.goto(vendor_page(host_site, hg_server, "hcaptcha-checkbox.html", invisible["sitekey"]))
    token = field_filled(tab, "h-captcha-response")
    assert tab.evaluate("() => hcaptcha.getResponse()") == token
    assert tab.evaluate("() => hcaptcha.getRespKey()")

    tab.fill("[name=email]", "ada@example.org")
    form = posted_form(tab, lambda: tab.click("input[type=submit]"))
    assert form["h-captcha-response"] == form["g-recaptcha-response"] == token
    assert form["email"] == "ada@example.org"
    verdict = siteverify(hg_server, HCAPTCHA_VERIFY, invisible["secret"], token)
    assert verdict["success"] is True and verdict["hostname"] == "127.0.0.1"


def test_hcaptcha_invisible_execute_async(tab, host_site, hg_server, invisible):
    tab.goto(vendor_page(host_site, hg_server, "hcaptcha-invisible.html", invisible["sitekey"]))
    tab.wait_for_function("() => window.hcaptcha && hcaptcha.getResponse() === ''")
    assert tab.locator(".humangate-widget").count() == 0, "nothing starts before execute"

    form = posted_form(tab, lambda: tab.click("button"))
    assert form["resp-key"] and form["h-captcha-response"] == form["g-recaptcha-response"]
    verdict = siteverify(
        hg_server, HCAPTCHA_VERIFY, invisible["secret"], form["h-captcha-response"]
    )
    assert verdict["success"] is True


# ---- Turnstile ------------------------------------------------------------------------------


def test_turnstile_implicit_with_action_cdata_and_theme(tab, host_site, hg_server, invisible):
    tab.goto(vendor_page(host_site, hg_server, "turnstile-implicit.html", invisible["sitekey"]))
    expect(tab.locator(ROOT)).to_have_class("hg dark")
    token = field_filled(tab, "cf-turnstile-response")
    assert tab.evaluate("() => turnstile.getResponse()") == token

    form = posted_form(tab, lambda: tab.click("button[type=submit]"))
    verdict = siteverify(
        hg_server, TURNSTILE_VERIFY, invisible["secret"], form["cf-turnstile-response"]
    )
    assert verdict["success"] is True
    assert verdict["action"] == "login" and verdict["cdata"] == "sessionid-123456789"


def test_turnstile_explicit_render_reset_remove(tab, host_site, hg_server, invisible):
    tab.goto(vendor_page(host_site, hg_server, "turnstile-explicit.html", invisible["sitekey"]))
    expect(tab.locator("#signup")).to_be_enabled()
    first = tab.evaluate("() => turnstile.getResponse('#example-container')")
    assert first and tab.evaluate("() => turnstile.isExpired('#example-container')") is False

    tab.evaluate("() => turnstile.reset()")
    tab.wait_for_function(f"() => (turnstile.getResponse() || '{first}') != '{first}'")
    second = tab.evaluate("() => turnstile.getResponse()")
    form = posted_form(tab, lambda: tab.click("#signup"))
    assert form["cf-turnstile-response"] == second
    verdict = siteverify(hg_server, TURNSTILE_VERIFY, invisible["secret"], second)
    assert verdict["success"] is True and verdict["action"] == "signup"


def test_turnstile_remove_takes_the_widget_and_its_field(tab, host_site, hg_server, invisible):
    tab.goto(vendor_page(host_site, hg_server, "turnstile-explicit.html", invisible["sitekey"]))
    expect(tab.locator("#signup")).to_be_enabled()
    tab.evaluate("() => turnstile.remove('#example-container')")
    assert tab.locator("#example-container").inner_html() == ""
    assert tab.evaluate("() => turnstile.getResponse('#example-container')") is None


# ---- a person asked to slide, callbacks and options -------------------------------------------


def test_invisible_recaptcha_on_a_managed_unit_shows_the_slide_on_click(
    tab, host_site, managed_server, managed, managed_redis
):
    page = vendor_page(host_site, managed_server, "recaptcha-v2-invisible.html", managed["sitekey"])
    tab.goto(page)
    tab.wait_for_function("() => window.grecaptcha && grecaptcha.render")
    with tab.expect_response(is_new_challenge) as issued:
        tab.click("button.g-recaptcha")
    assert issued.value.json()["gesture"] is True
    expect(tab.locator(SLIDER)).to_be_visible()
    box = tab.locator(".humangate-widget").bounding_box()
    assert box and box["y"] + box["height"] > 700, "shown at the bottom of the viewport"

    origin = tab.url.split("/shims/")[0]
    with tab.expect_request(lambda r: r.method == "POST" and r.url.startswith(origin)) as sent:
        track = tab.locator(".humangate-widget .tr").bounding_box()
        handle = tab.locator(SLIDER).bounding_box()
        assert track and handle
        with tab.expect_response(is_answer) as answered:
            human_drag(tab, handle_centre(tab), track["width"] - handle["width"] + 6)
        try:
            reply = answered.value.json()
        except PlaywrightError:  # passed: the page went on to post its form at once
            reply = {"success": True}
        if not reply["success"]:  # the model doubts ~3% of its people: they get the slide
            assert reply["next"]["kind"] == "slide", reply
            x = private_x(managed_redis, reply["next"]["id"])
            drag_handle(tab, reply["next"]["slide"], x)
    token = parse_qs(sent.value.post_data or "")["g-recaptcha-response"][0]
    verdict = siteverify(managed_server, RECAPTCHA_VERIFY, managed["secret"], token)
    assert verdict["success"] is True


def test_hcaptcha_callbacks_language_without_recaptcha_compat(tab, host_site, hg_server):
    body = (
        "<form><div id=fails></div><div id=passes></div>"
        "<div id=asks data-size=invisible data-open-callback=onOpen></div></form><script>"
        "function onOpen() { events.push(['open']); }"
        "function go() {"
        f"  hcaptcha.render('fails', {{sitekey: '{FAIL_SITEKEY}', 'error-callback': onError}});"
        f"  window.passes = hcaptcha.render('passes', {{sitekey: '{PASS_SITEKEY}',"
        "    callback: onToken});"
        f"  window.asks = hcaptcha.render(document.getElementById('asks'), {{"
        f"    sitekey: '{INTERACTIVE_SITEKEY}'}});"
        "}</script>"
    )
    script = "/1/api.js?render=explicit&onload=go&recaptchacompat=off&hl=zh-CN"
    tab.goto(own_page(host_site, hg_server, script, body))
    tab.wait_for_function("() => events.length == 2")
    assert sorted(e[0] for e in events(tab)) == ["error", "ok"]
    assert ["error", "wrong-answer"] in events(tab)
    token = tab.evaluate("() => hcaptcha.getResponse(passes)")
    assert ["ok", token] in events(tab)
    expect(tab.locator("#passes .hg")).to_have_attribute("lang", "zh-CN")
    assert tab.evaluate("() => typeof grecaptcha") == "undefined"
    assert tab.locator("[name=g-recaptcha-response]").count() == 0

    asks = tab.locator("#asks .humangate-widget")
    expect(asks).to_be_hidden()
    tab.evaluate("() => hcaptcha.execute(asks)")
    expect(asks).to_be_visible()
    expect(tab.locator("#asks .humangate-widget img.bg")).to_be_visible()
    assert events(tab)[-1] == ["open"]

    tab.evaluate("() => hcaptcha.remove(passes)")
    assert tab.locator("#passes").inner_html() == ""
    assert tab.evaluate("() => hcaptcha.getResponse(passes)") == ""


def test_turnstile_interaction_only_without_field_and_expiry(tab, host_site, hg_server):
    """Last of the module's browser tests: it installs the context's fake clock."""
    tab.clock.install()
    body = (
        f"<form><div class=cf-turnstile data-sitekey={PASS_SITEKEY} data-callback=onToken "
        "data-expired-callback=onGone data-appearance=interaction-only data-response-field=false>"
        "</div></form><script>"
        "function onGone(t) { events.push(['expired', t, turnstile.isExpired()]); }</script>"
    )
    tab.goto(own_page(host_site, hg_server, "/turnstile/v0/api.js", body))
    tab.wait_for_function("() => events.length == 1")
    token = events(tab)[0][1]
    assert token and tab.evaluate("() => turnstile.getResponse()") == token
    assert tab.evaluate("() => turnstile.isExpired()") is False
    expect(tab.locator(".humangate-widget")).to_be_hidden()
    assert tab.locator("input[type=hidden]").count() == 0, "response-field=false: no field"

    tab.clock.fast_forward("05:01")
    tab.wait_for_function("() => events.length == 3")
    assert events(tab)[1] == ["expired", token, True]
    assert events(tab)[2] == ["ok", token]  # the test key's dummy token, fetched anew
    assert tab.evaluate("() => turnstile.isExpired()") is False


# ---- serving --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "api"),
    [
        ("/recaptcha/api.js", "grecaptcha"),
        ("/recaptcha/enterprise.js", "grecaptcha"),
        ("/1/api.js", "hcaptcha"),
        ("/turnstile/v0/api.js", "turnstile"),
    ],
)
def test_each_shim_is_served_compressed_with_a_validator(hg_server, path, api):
    url = hg_server.url + path + "?render=explicit&onload=ready"
    with httpx.Client() as client:
        answer = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("application/javascript")
        assert answer.headers["content-encoding"] == "gzip"
        assert answer.headers["cache-control"] == "public, max-age=300"
        assert f"window.{api}=" in answer.text.replace(" ", "")
        again = client.get(url, headers={"If-None-Match": answer.headers["etag"]})
        assert again.status_code == 304
