"""Automation through the real widget in Debian's chromium: plain headless Playwright, launch
flags alone, the usual evasion init script, the stock `playwright-stealth` package, the one line
against the widget's DevTools probe and the three next steps of someone who read the widget (a
console quieted in every frame, then in every worker too, from a blob of its own or by lines put
in front of the widget's) each leave an automation reason the
server sees (siteverify's `score_reasons` of a score-mode unit), and a managed unit mints them
no token even for the right slide answer dragged like a person. They play bots, so they visit
`strict_server`, which knows no monitoring network.

The levels are bench/automation.py's (which measures them at a larger n).
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from bench.automation import managed_visit, open_level, score_visit
from humangate.risk.environment import AUTOMATION_REASONS
from tests.browser._widget import (
    CLICK_IMAGE,
    MARKERS,
    VERIFY,
    is_new_challenge,
    private_answer,
)
from tests.browser.conftest import store_of
from tests.live import create_unit_cli

pytestmark = pytest.mark.browser

DOMAINS = ("--domain", "127.0.0.1", "--domain", "localhost")

# What each level leaves that declares automation (each alone refuses a token), as measured in
# Debian's chromium 156 with the widget of this commit.
EXPECTED = {
    "plain": {"automation-flag", "headless-browser", "devtools-protocol"},
    "flags": {"devtools-protocol"},
    "evasions": {"devtools-protocol", "hidden-automation", "gpu-mismatch"},
    "stealth": {
        "devtools-protocol",
        "hidden-automation",
        "platform-mismatch",
        "gpu-mismatch",
        "permission-mismatch",
    },
    # The probe's line makes a fresh frame's Error.prepareStackTrace refuse a value; the worker's
    # probe still fires, and the context's UA override leaves the worker no client-hint brands.
    "bespoke": {"devtools-protocol", "hidden-automation", "client-hints-mismatch"},
    "quiet": {"devtools-protocol"},  # no init script reaches the worker
    "worker-wrap": {"hidden-automation"},  # the worker runs from another URL than the widget's
    "blob-rewrite": {"hidden-automation"},  # the worker's first error is placed past the lines
}
# The managed refusal is one rule for every automation reason: three levels show it.
MANAGED = ("plain", "stealth", "quiet")


@pytest.fixture(scope="module")
def score_unit(strict_server) -> dict:
    return create_unit_cli(strict_server.env, *DOMAINS, "--mode", "score")


@pytest.fixture(scope="module")
def managed_sitekey(strict_server) -> str:
    return str(create_unit_cli(strict_server.env, *DOMAINS, "--mode", "managed")["sitekey"])


@pytest.fixture(scope="module")
def strict_redis(strict_server):
    """The strict server's hot-state store, for the oracle slide answers."""
    with store_of(strict_server) as client:
        yield client


@pytest.fixture(scope="module")
def level(request, browser):
    """One browser per level, shared by this module's tests of that level."""
    automated, context = open_level(browser.browser_type, request.param)
    yield request.param, context
    automated.close()


@pytest.mark.parametrize("level", sorted(EXPECTED), indirect=True)
def test_each_evasion_level_leaves_automation_reasons(level, host_site, strict_server, score_unit):
    name, context = level
    outcome = score_visit(context, host_site, strict_server.url, score_unit)
    reasons = set(outcome.reasons)
    assert EXPECTED[name] <= reasons, f"{name}: {sorted(reasons)}"
    assert EXPECTED[name] <= AUTOMATION_REASONS


@pytest.mark.parametrize("level", MANAGED, indirect=True)
def test_managed_mode_mints_no_token_for_declared_automation(
    level, host_site, strict_server, managed_sitekey, strict_redis
):
    """The loop refuses `declares_automation` reasons in managed and interactive mode
    (humangate/loop/answer.py); without that, a right slide answer dragged like a person passes."""
    name, context = level
    outcome = managed_visit(context, host_site, strict_server.url, managed_sitekey, strict_redis)
    # The environment alone scores below the visual floor: no invisible gesture is offered.
    assert outcome.first == "slide", f"{name}: {outcome.first}"
    assert outcome.token is False, f"{name} got a token"
    # One neutral sentence, and the next challenge is there to try.
    assert outcome.message == "[failed] Verification failed, try again"


def _opened(page, host_site, hg_server, sitekey: str, head: str = "") -> tuple[dict, dict]:
    """Open the widget: the body of its challenge request, and the challenge."""
    widget = f"<div class=humangate data-sitekey={sitekey} data-callback=onToken></div>"
    with page.expect_response(is_new_challenge) as issued:
        page.goto(host_site.page(hg_server.url, widget, head=head))
    return dict(issued.value.request.post_data_json), dict(issued.value.json())


def test_a_page_whose_csp_forbids_workers_costs_its_visitors_nothing(
    page, host_site, strict_server, score_unit
):
    """The worker's probe cannot run there; that is the site's choice, so nothing is noted (the
    frame's probe still sees Playwright)."""
    csp = """<meta http-equiv="Content-Security-Policy" content="worker-src 'none'">"""
    body, _ = _opened(page, host_site, strict_server, score_unit["sitekey"], head=csp)
    env = body["signals"]["env"]
    assert env["cdp"] is True
    assert not [code for code in env["patched"] if code.startswith("worker-")], env["patched"]


def test_the_widget_reports_integrity_facts_small_and_times_its_work(
    page, host_site, strict_server, score_unit
):
    with page.expect_request(lambda r: r.url.endswith("/answer")) as answered:
        body, _ = _opened(page, host_site, strict_server, score_unit["sitekey"])
    env = body["signals"]["env"]
    assert len(json.dumps(env, separators=(",", ":"))) < 2048
    facts = {"plat", "uab", "uap", "uam", "webgl", "glv", "inner", "cdp", "auto", "patched"}
    assert facts <= set(env), sorted(facts - set(env))
    assert env["plat"] == "Linux x86_64" and env["uap"] == "Linux" and env["uam"] is False
    assert any(brand.startswith("Chromium/") for brand in env["uab"])
    # Playwright's DevTools session is seen; nothing here is patched and no globals are left
    # (the worker's first error is where a clean worker places it: no "worker-tampered"), but
    # the context's UA override (DevTools' own) leaves the page's worker no brands.
    assert env["cdp"] is True and env["auto"] == [] and env["patched"] == ["worker-brands"]
    assert env["nperm"] == "prompt"
    pow_answer = answered.value.post_data_json["pow"]
    assert pow_answer["hashes"] == pow_answer["number"] + 1
    assert isinstance(pow_answer["elapsed_ms"], int | float) and pow_answer["elapsed_ms"] >= 0


def test_a_click_answer_carries_the_pointer_recording(
    page, host_site, hg_server, unit_for, redis_db
):
    """From the first move over the picture through the last click, in CSS px from where the
    pointer came in and ms since the challenge was shown."""
    _, challenge = _opened(page, host_site, hg_server, unit_for("click"))
    points = private_answer(redis_db, challenge["id"])["points"]
    picture = page.locator(CLICK_IMAGE)
    picture.wait_for(state="visible")
    box = picture.bounding_box()
    scale = box["width"] / challenge["click"]["width"]
    page.mouse.move(box["x"] + 2, box["y"] + 2)
    for x, y in points:
        page.mouse.move(box["x"] + x * scale, box["y"] + y * scale, steps=8)
        page.mouse.click(box["x"] + x * scale, box["y"] + y * scale)
    expect(page.locator(MARKERS)).to_have_count(len(points))
    with page.expect_request(lambda r: r.url.endswith("/answer")) as answered:
        page.locator(VERIFY).click()
    signals = answered.value.post_data_json["signals"]
    assert signals["pointer"] == "mouse"
    trace = signals["trace"]
    assert trace[0][:2] == [0, 0] and len(trace) >= 8 * len(points)
    assert all(a[2] <= b[2] for a, b in zip(trace, trace[1:], strict=False))
