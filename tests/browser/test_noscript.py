"""The no-JavaScript path: the embed snippet's <noscript> link, the server-rendered challenge page
(text, or audio instead), and the code a visitor pastes into the site's form, in chromium with
JavaScript disabled. Answers are read from the server's Redis, as a person would read them."""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import expect

from humangate.console._unit_form import embed_snippet
from tests.browser._widget import private_answer
from tests.browser.conftest import person_user_agent
from tests.live import create_unit_cli

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "console" / "node_modules" / "axe-core" / "axe.min.js"
FAILED = "That did not work. Here is a new challenge."


@pytest.fixture(scope="module")
def managed(hg_server) -> dict:
    return create_unit_cli(hg_server.env, "--domain", "127.0.0.1", "--mode", "managed")


@pytest.fixture
def no_js(browser):
    context = browser.new_context(
        java_script_enabled=False,
        color_scheme="light",
        viewport={"width": 520, "height": 800},
        user_agent=person_user_agent(browser),
    )
    context.set_default_timeout(15_000)
    yield context
    context.close()


def _site_form(host_site, hg_server, sitekey: str) -> str:
    """A site's sign-up form with the unmodified embed snippet; it posts back to itself (GET)."""
    path = f"/signup-{secrets.token_hex(4)}.html"
    host_site.pages[path] = (
        "<!doctype html><html lang=en><meta charset=utf-8><title>sign up</title><body>"
        f"<form action='{path}'><label>Name <input name=name value=Ada></label>"
        f"{embed_snippet(sitekey, hg_server.url)}<button>Sign up</button></form></body></html>"
    ).encode()
    return host_site.url + path


def _siteverify(hg_server, secret: str, token: str) -> dict:
    answer = httpx.post(hg_server.url + "/siteverify", data={"secret": secret, "response": token})
    return dict(answer.json())


def _challenge_id(page) -> str:
    return page.locator("input[name=challenge]").input_value()


def _open_challenge(no_js, host_site, hg_server, sitekey: str):
    site = no_js.new_page()
    site.goto(_site_form(host_site, hg_server, sitekey))
    # The <noscript> block is drawn only when scripts are off; the widget then never loads.
    assert site.locator(".humangate-widget").count() == 0
    with site.expect_popup() as opened:
        site.get_by_role("link", name="Verify without JavaScript").click()
    challenge = opened.value
    challenge.wait_for_load_state()
    assert urlsplit(challenge.url).path == "/challenge"
    return site, challenge


def test_text_challenge_without_javascript_gives_a_token_the_form_posts(
    no_js, host_site, hg_server, redis_db, managed
):
    site, challenge = _open_challenge(no_js, host_site, hg_server, managed["sitekey"])
    image = challenge.get_by_role("img")
    assert image.get_attribute("src").startswith("data:image/")

    first = _challenge_id(challenge)
    challenge.get_by_label("Type the characters you see in the picture").fill("NOTIT")
    challenge.get_by_role("button", name="Verify").click()
    expect(challenge.get_by_role("alert")).to_have_text(FAILED)
    second = _challenge_id(challenge)
    assert second != first and challenge.locator("textarea").count() == 0
    assert not redis_db.keys(f"hg:*:challenge:{first}"), "the wrong answer consumed it"

    text = private_answer(redis_db, second)["text"]
    challenge.get_by_label("Type the characters you see in the picture").fill(text.lower())
    challenge.get_by_role("button", name="Verify").click()
    code = challenge.get_by_label("Your verification code")
    expect(code).to_have_attribute("readonly", "")
    token = code.input_value()
    assert token and challenge.get_by_role("alert").count() == 0

    site.get_by_label("Verification code").fill(token)
    with site.expect_request(lambda request: "name=Ada" in request.url) as sent:
        site.get_by_role("button", name="Sign up").click()
    posted = parse_qs(urlsplit(sent.value.url).query)["humangate-response"]
    assert posted == [token]
    verdict = _siteverify(hg_server, managed["secret"], token)
    assert verdict["success"] is True and verdict["hostname"] == "127.0.0.1"
    assert _siteverify(hg_server, managed["secret"], token)["success"] is False


def test_audio_alternative_in_simplified_chinese(browser, host_site, hg_server, redis_db, managed):
    context = browser.new_context(
        java_script_enabled=False, locale="zh-CN", user_agent=person_user_agent(browser)
    )
    try:
        _, challenge = _open_challenge(context, host_site, hg_server, managed["sitekey"])
        assert challenge.locator("html").get_attribute("lang") == "zh-CN"
        expect(challenge.locator("h1")).to_have_text("验证您是真人")
        challenge.get_by_role("button", name="改用语音").click()
        audio = challenge.locator("audio")
        assert audio.get_attribute("src").startswith("data:audio/wav;base64,")
        digits = private_answer(redis_db, _challenge_id(challenge))["text"]
        challenge.get_by_label("请输入您听到的数字").fill(digits)
        challenge.get_by_role("button", name="验证").click()
        token = challenge.get_by_label("您的验证码").input_value()
        assert _siteverify(hg_server, managed["secret"], token)["success"] is True
    finally:
        context.close()


def test_challenge_page_is_accessible(browser, host_site, hg_server, managed):
    """axe needs a script: the page it checks is the same one, drawn by the server alone."""
    context = browser.new_context(user_agent=person_user_agent(browser))
    page = context.new_page()
    try:
        referer = host_site.url + "/signup.html"
        page.goto(f"{hg_server.url}/challenge?sitekey={managed['sitekey']}", referer=referer)
        page.add_script_tag(path=str(AXE))
        violations = page.evaluate(
            "async () => (await axe.run(document)).violations.map(v => v.id + ': ' + v.impact)"
        )
        assert violations == []
    finally:
        context.close()


def test_refusals_are_pages_with_a_code_and_change_nothing(hg_server, redis_db, managed):
    challenge = f"{hg_server.url}/challenge"
    referer = {"Referer": "http://127.0.0.1:9/form.html"}
    before = len(redis_db.keys("hg:*:challenge:*"))

    no_origin = httpx.get(challenge, params={"sitekey": managed["sitekey"]})
    assert no_origin.status_code == 403 and "invalid-origin" in no_origin.text
    elsewhere = httpx.get(
        challenge,
        params={"sitekey": managed["sitekey"]},
        headers={"Referer": "https://evil.example/form"},
    )
    assert elsewhere.status_code == 403
    unknown = httpx.get(challenge, params={"sitekey": "nope"}, headers=referer)
    assert unknown.status_code == 400 and "invalid-sitekey" in unknown.text
    forged = httpx.post(
        challenge,
        data={"challenge": "x" * 20, "sitekey": managed["sitekey"], "host": "Bad Host!"},
    )
    assert forged.status_code == 400 and "bad-request" in forged.text
    assert len(redis_db.keys("hg:*:challenge:*")) == before
    for page in (no_origin, unknown, forged):
        assert page.headers["content-type"].startswith("text/html")
        assert "<form" not in page.text


def test_a_widget_challenge_cannot_be_answered_here(hg_server, redis_db, managed):
    """The page skips the proof of work only for its own challenges."""
    widget = httpx.post(
        f"{hg_server.url}/api/v1/challenges",
        json={"sitekey": managed["sitekey"]},
        headers={"Origin": "http://127.0.0.1:9"},
    ).json()
    answered = httpx.post(
        f"{hg_server.url}/challenge",
        data={"challenge": widget["id"], "sitekey": managed["sitekey"], "host": "127.0.0.1"},
    )
    assert answered.status_code == 400 and "bad-request" in answered.text
    assert redis_db.keys(f"hg:*:challenge:{widget['id']}"), "left for the widget to answer"


def test_the_network_window_is_the_keyboard_paths(hg_server):
    unit = create_unit_cli(hg_server.env, "--domain", "127.0.0.1", "--mode", "managed")
    referer = {"Referer": "http://127.0.0.1:9/form.html"}
    url = f"{hg_server.url}/challenge"
    statuses = [
        httpx.get(url, params={"sitekey": unit["sitekey"]}, headers=referer).status_code
        for _ in range(31)
    ]
    assert statuses == [200] * 30 + [429]
    refused = httpx.get(url, params={"sitekey": unit["sitekey"]}, headers=referer)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "Too many attempts from your network" in refused.text
