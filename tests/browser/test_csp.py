"""The widget on a page whose Content Security Policy allows no inline script or style.

The page's policy is the strict one a site sends (nonces, no 'unsafe-inline') plus the
`worker-src blob:` the guide asks for; without that directive the probe's worker is refused and
the visitor still passes. The Turnstile shim runs under the same policy. Every
`securitypolicyviolation` the page sees is collected from before its first script; a deliberate
inline style attribute on the page is the canary that shows the collector hears violations.
"""

from __future__ import annotations

import secrets

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser._widget import ROOT
from tests.live import create_unit_cli

pytestmark = pytest.mark.browser

COLLECT_VIOLATIONS = """
window.violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.violations.push([e.effectiveDirective, e.blockedURI, e.sample]);
}, true);
"""
# A browser without constructed stylesheets: the widget falls back to a <style> with the nonce.
NO_CONSTRUCTED_SHEETS = """
Object.defineProperty(ShadowRoot.prototype, "adoptedStyleSheets", {
  set() { throw new TypeError("no constructed stylesheets"); },
});
"""
CANARY = ["style-src-attr", "inline", ""]


@pytest.fixture(scope="module")
def invisible(hg_server) -> dict:
    return create_unit_cli(hg_server.env, "--domain", "127.0.0.1", "--mode", "invisible")


def _strict_page(
    host_site,
    hg_server,
    widget: str,
    *,
    script: str = "/humangate.js",
    nonce_attr: str = "nonce",
    workers: bool = True,
) -> str:
    nonce = secrets.token_urlsafe(16)
    path = f"/csp-{secrets.token_hex(4)}.html"
    policy = f"script-src 'self' {hg_server.url} 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'"
    if workers:
        policy += "; worker-src blob:"
    # With data-nonce the script is allowed by its host; the nonce then only serves the widget.
    script_nonce = f"{nonce_attr}='{nonce}'"
    host_site.pages[path] = (
        "<!doctype html><html lang=en><meta charset=utf-8><title>strict</title>"
        f"<style nonce='{nonce}'>body{{font-family:sans-serif}}</style><body>"
        f"<script nonce='{nonce}'>window.events = [];"
        "function onToken(t) { events.push(t); }</script>"
        f"<p style='color:red'>canary</p><form>{widget}</form>"
        f"<script src='{hg_server.url}{script}' {script_nonce} async></script>"
        "</body></html>"
    ).encode()
    host_site.headers[path] = {"Content-Security-Policy": policy}
    return host_site.url + path


def _widget(sitekey: str) -> str:
    return f"<div class=humangate data-sitekey={sitekey} data-callback=onToken></div>"


def _violations(page) -> list[list[str]]:
    page.wait_for_function("() => violations.length >= 1")
    page.wait_for_timeout(300)  # a late violation (the worker's) would land by now
    return list(page.evaluate("() => violations"))


def _verified(hg_server, path: str, secret: str, token: str) -> dict:
    answer = httpx.post(hg_server.url + path, data={"secret": secret, "response": token})
    return dict(answer.json())


@pytest.mark.parametrize(
    ("sheets", "nonce_attr"),
    [("constructed", "nonce"), ("style-element", "nonce"), ("style-element", "data-nonce")],
)
def test_widget_passes_under_a_strict_csp(
    page, host_site, hg_server, invisible, sheets, nonce_attr
):
    page.add_init_script(COLLECT_VIOLATIONS)
    if sheets == "style-element":
        page.add_init_script(NO_CONSTRUCTED_SHEETS)
    page.goto(
        _strict_page(host_site, hg_server, _widget(invisible["sitekey"]), nonce_attr=nonce_attr)
    )

    expect(page.locator(ROOT)).to_have_attribute("data-state", "success", timeout=30_000)
    # Styled: the sheet reached the shadow root (its rounded border is nowhere else).
    assert page.locator(ROOT).evaluate("e => getComputedStyle(e).borderTopLeftRadius") == "8px"
    styles = page.locator(".humangate-widget").evaluate(
        "h => h.shadowRoot.querySelectorAll('style').length"
    )
    assert styles == (0 if sheets == "constructed" else 1)
    assert _violations(page) == [CANARY]

    token = page.locator("form input[name=humangate-response]").input_value()
    assert token and page.evaluate("() => events") == [token]
    verdict = _verified(hg_server, "/siteverify", invisible["secret"], token)
    assert verdict["success"] is True and verdict["hostname"] == "127.0.0.1"


def test_without_worker_src_the_probe_is_skipped_and_the_visitor_passes(
    page, host_site, hg_server, invisible
):
    page.add_init_script(COLLECT_VIOLATIONS)
    page.goto(_strict_page(host_site, hg_server, _widget(invisible["sitekey"]), workers=False))
    expect(page.locator(ROOT)).to_have_attribute("data-state", "success", timeout=30_000)
    violations = _violations(page)
    assert violations[0] == CANARY
    assert [v[:2] for v in violations[1:]] == [["worker-src", "blob"]]
    token = page.locator("form input[name=humangate-response]").input_value()
    assert _verified(hg_server, "/siteverify", invisible["secret"], token)["success"] is True


def test_turnstile_shim_under_a_strict_csp(page, host_site, hg_server, invisible):
    page.add_init_script(COLLECT_VIOLATIONS)
    widget = (
        f"<div class=cf-turnstile data-sitekey={invisible['sitekey']} data-callback=onToken></div>"
    )
    page.goto(_strict_page(host_site, hg_server, widget, script="/turnstile/v0/api.js"))
    page.wait_for_function("() => events.length == 1", timeout=30_000)
    assert _violations(page) == [CANARY]
    token = page.locator("form input[name=cf-turnstile-response]").input_value()
    assert token == page.evaluate("() => events[0]")
    verdict = _verified(hg_server, "/turnstile/v0/siteverify", invisible["secret"], token)
    assert verdict["success"] is True
