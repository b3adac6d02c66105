"""The widget's embedding API on a page of another origin, with the published test site keys.

The host pages come from a second little HTTP server on another port (`host_site`), so they are
cross-origin to HumanGate: the script must find its server from its own src and the API must
answer CORS preflights.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser._widget import LIVE, REFRESH, ROOT, SLIDER, drag_handle, is_answer, private_x

pytestmark = pytest.mark.browser

PASS_SITEKEY = "1x00000000000000000000AA"
FAIL_SITEKEY = "2x00000000000000000000AB"
INTERACTIVE_SITEKEY = "3x00000000000000000000FF"


def _host_page(host_site, hg_server, body: str, script_query: str = "", script_attrs="") -> str:
    return host_site.page(hg_server.url, body, script_query=script_query, script_attrs=script_attrs)


def _events(page) -> list:
    return page.evaluate("() => events")


def test_implicit_render_pow_pass_key(page, host_site, hg_server):
    body = (
        "<form><div class=humangate data-sitekey=" + PASS_SITEKEY + " data-action=login "
        "data-callback=onToken data-response-field-name=captcha></div></form>"
    )
    requests = []
    page.on("request", lambda r: requests.append(r) if r.url.endswith("/challenges") else None)
    page.goto(_host_page(host_site, hg_server, body))
    expect(page.locator(ROOT)).to_have_attribute("data-state", "success")
    expect(page.locator(ROOT)).to_contain_text("Success")
    expect(page.locator(LIVE)).to_have_text("Verification succeeded")
    token = page.locator("form input[type=hidden][name=captcha]").input_value()
    assert token and _events(page) == [["ok", token]]
    assert page.evaluate("() => humangate.getResponse()") == token
    sent = [r.post_data_json for r in requests if r.method == "POST"]
    assert [{k: v for k, v in s.items() if k != "signals"} for s in sent] == [
        {"sitekey": PASS_SITEKEY, "lang": "en", "action": "login"}
    ]
    signals = sent[0]["signals"]
    assert set(signals) == {"env", "fp"} and len(signals["fp"]) == 24
    assert signals["env"]["wd"] is False and signals["env"]["tz"]


def test_explicit_render_reset_remove(page, host_site, hg_server):
    body = (
        "<div id=box></div><script>function ready() {"
        f"  window.wid = humangate.render('#box', {{sitekey: '{PASS_SITEKEY}', callback: onToken,"
        "    'error-callback': onError});"
        "}</script>"
    )
    page.goto(_host_page(host_site, hg_server, body, "?render=explicit&onload=ready"))
    expect(page.locator(ROOT)).to_have_attribute("data-state", "success")
    first = page.evaluate("() => humangate.getResponse(wid)")
    assert first and page.locator("#box input[name=humangate-response]").input_value() == first
    assert page.evaluate("() => humangate.render('#box', {sitekey: 'x'})") == page.evaluate(
        "() => wid"
    ), "rendering into the same container twice returns the existing widget"

    cleared = page.evaluate("() => { humangate.reset(wid); return humangate.getResponse(wid); }")
    assert cleared == ""
    page.wait_for_function("() => events.length == 2")
    assert page.evaluate("() => humangate.getResponse(wid)")  # the test key's dummy token again
    assert [e[0] for e in _events(page)] == ["ok", "ok"]

    page.evaluate("() => humangate.remove(wid)")
    assert page.locator("#box").inner_html() == ""
    assert page.evaluate("() => humangate.getResponse(wid)") is None


def test_data_render_explicit_skips_implicit_render(page, host_site, hg_server):
    body = "<div class=humangate data-sitekey=" + PASS_SITEKEY + "></div>"
    page.goto(_host_page(host_site, hg_server, body, script_attrs="data-render=explicit"))
    page.wait_for_function("() => window.humangate")
    page.wait_for_timeout(300)
    assert page.locator(".humangate-widget").count() == 0


def test_fail_key_reports_error(page, host_site, hg_server):
    body = (
        "<div class=humangate data-sitekey=" + FAIL_SITEKEY + " data-callback=onToken "
        "data-error-callback=onError></div>"
    )
    page.goto(_host_page(host_site, hg_server, body))
    expect(page.locator(ROOT)).to_have_attribute("data-state", "error")
    expect(page.locator(LIVE)).to_have_text("Verification failed, try again")
    assert _events(page) == [["error", "wrong-answer"]]
    assert page.evaluate("() => humangate.getResponse()") == ""
    assert page.locator("input[name=humangate-response]").input_value() == ""


def test_invalid_sitekey_reports_error(page, host_site, hg_server):
    body = "<div class=humangate data-sitekey=nope data-error-callback=onError></div>"
    page.goto(_host_page(host_site, hg_server, body))
    expect(page.locator(ROOT)).to_have_attribute("data-state", "error")
    expect(page.locator(ROOT)).to_contain_text("This site key is not valid.")
    assert _events(page) == [["error", "invalid-sitekey"]]


def test_token_expiry_clears_field_and_calls_back(page, host_site, hg_server):
    page.clock.install()
    body = (
        "<form><div class=humangate data-sitekey=" + PASS_SITEKEY + " data-callback=onToken "
        "data-expired-callback=onExpired></div></form>"
    )
    page.goto(_host_page(host_site, hg_server, body))
    expect(page.locator(ROOT)).to_have_attribute("data-state", "success")
    field = page.locator("input[name=humangate-response]")
    assert field.input_value()

    page.clock.fast_forward("05:01")
    page.wait_for_function("() => events.some(e => e[0] == 'expired')")
    assert _events(page)[1] == ["expired"]
    # A fresh pow is then solved without the person doing anything.
    page.wait_for_function("() => events.length == 3")
    assert _events(page)[2][0] == "ok" and field.input_value() == _events(page)[2][1]


def test_slide_on_narrow_container_scales(page, host_site, hg_server, redis_db):
    """Scaled to a 240 px container, the widget still sends background pixels."""
    body = (
        "<div style='width:240px'><div class=humangate data-sitekey="
        + INTERACTIVE_SITEKEY
        + " data-callback=onToken></div></div>"
    )
    with page.expect_response(lambda r: r.url.endswith("/api/v1/challenges")) as issued:
        page.goto(_host_page(host_site, hg_server, body))
    challenge = issued.value.json()
    assert challenge["kind"] == "slide"
    image = page.locator(".humangate-widget .img")
    image.wait_for(state="visible")
    assert image.bounding_box()["width"] < challenge["slide"]["width"]
    x = private_x(redis_db, challenge["id"])
    with page.expect_response(is_answer) as answered:
        drag_handle(page, challenge["slide"], x)
    assert abs(answered.value.request.post_data_json["answer"]["x"] - x) <= 4
    assert answered.value.json()["success"] is True, answered.value.json()
    page.wait_for_function("() => events.length == 1")


def test_dark_scheme_and_refresh(browser, host_site, hg_server):
    context = browser.new_context(color_scheme="dark")
    page = context.new_page()
    try:
        body = "<div class=humangate data-sitekey=" + INTERACTIVE_SITEKEY + "></div>"
        page.goto(_host_page(host_site, hg_server, body))
        page.locator(SLIDER).wait_for(state="visible")
        background = page.locator(ROOT).evaluate("e => getComputedStyle(e).backgroundColor")
        assert background == "rgb(22, 27, 34)"
        old = page.locator(".humangate-widget img.bg").get_attribute("src")
        with page.expect_response(lambda r: r.url.endswith("/api/v1/challenges")):
            page.locator(REFRESH).click()
        expect(page.locator(".humangate-widget img.bg")).not_to_have_attribute("src", old)
    finally:
        context.close()
