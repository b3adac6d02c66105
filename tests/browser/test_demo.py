"""The demo sign-up page end to end: a person solves the slide with the mouse or the keyboard."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser._widget import (
    LIVE,
    ROOT,
    SLIDER,
    deep_focus,
    drag_handle,
    is_answer,
    is_new_challenge,
    private_x,
)

pytestmark = pytest.mark.browser


def _open_demo(page, hg_server) -> dict:
    with page.expect_response(is_new_challenge) as issued:
        page.goto(hg_server.url + "/demo")
    challenge = issued.value.json()
    assert challenge["kind"] == "slide", "the demo unit is interactive"
    return challenge


def _check_trajectory(request_body: dict, x: int) -> None:
    points = request_body["trajectory"]
    assert 2 <= len(points) <= 2000
    times = [t for _, _, t in points]
    assert times == sorted(times) and times[-1] - times[0] >= 150
    assert abs(request_body["answer"]["x"] - x) <= 4
    assert abs(points[-1][0] - request_body["answer"]["x"]) <= 3


def test_mouse_drag_then_sign_up(page, hg_server, redis_db):
    challenge = _open_demo(page, hg_server)
    x = private_x(redis_db, challenge["id"])
    expect(page.locator(LIVE)).to_contain_text("Drag the piece to fill the gap")

    with page.expect_response(is_answer) as answered:
        drag_handle(page, challenge["slide"], x)
    _check_trajectory(answered.value.request.post_data_json, x)
    assert answered.value.json()["success"] is True, answered.value.json()
    expect(page.locator(ROOT)).to_have_attribute("data-state", "success")
    expect(page.locator(LIVE)).to_have_text("Verification succeeded")
    field = page.locator("form input[type=hidden][name=humangate-response]")
    assert field.input_value() == answered.value.json()["token"]

    page.fill("#name", "Ada")
    page.fill("#email", "ada@example.org")
    page.click("button[type=submit]")
    expect(page.locator("#verify-result")).to_contain_text('"success": true')
    expect(page.locator("main")).to_contain_text("Verified — welcome, Ada")


def test_keyboard_only(page, hg_server, redis_db):
    challenge = _open_demo(page, hg_server)
    x = private_x(redis_db, challenge["id"])
    page.locator(SLIDER).wait_for(state="visible")

    page.locator("#name").focus()
    page.keyboard.type("Grace")
    page.keyboard.press("Tab")
    page.keyboard.type("grace@example.org")
    for _ in range(4):
        page.keyboard.press("Tab")
        if deep_focus(page) == "slider":
            break
    assert deep_focus(page) == "slider", "Tab never reached the slider handle"

    for _ in range(x // 10):
        page.keyboard.press("Shift+ArrowRight")
    for _ in range(x % 10):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowLeft")
    expect(page.locator(SLIDER)).to_have_attribute("aria-valuenow", str(x))
    page.wait_for_timeout(200)  # a person takes longer than the server's 150 ms minimum

    with page.expect_response(is_answer) as answered:
        page.keyboard.press("Enter")
    _check_trajectory(answered.value.request.post_data_json, x)
    # Right, but without a pointer to judge: a raised proof of work finishes the keyboard path.
    reply = answered.value.json()
    assert reply["error"] == "challenge-required" and reply["next"]["kind"] == "pow", reply
    expect(page.locator(LIVE)).to_have_text("Verification succeeded", timeout=30_000)

    page.keyboard.press("Tab")
    assert deep_focus(page) == "brand", "the widget's privacy link comes after the challenge"
    page.keyboard.press("Tab")
    assert deep_focus(page) == "submit", "focus should move on from the solved widget"
    page.keyboard.press("Enter")
    expect(page.locator("#verify-result")).to_contain_text('"success": true')
    expect(page.locator("main")).to_contain_text("Verified — welcome, Grace")


def test_wrong_drag_fresh_challenge_and_replayed_token(page, hg_server, redis_db):
    challenge = _open_demo(page, hg_server)
    slide = challenge["slide"]
    x = private_x(redis_db, challenge["id"])
    wrong = x + 40 if x + 40 <= slide["width"] - slide["piece_width"] else x - 40

    with page.expect_response(is_answer) as answered:
        drag_handle(page, slide, wrong)
    result = answered.value.json()
    assert result["success"] is False and result["error"] == "wrong-answer"
    fresh = result["next"]
    assert fresh and fresh["kind"] == "slide" and fresh["id"] != challenge["id"]
    expect(page.locator(ROOT)).to_have_attribute("data-state", "failed")
    expect(page.locator(LIVE)).to_have_text("Verification failed, try again")
    expect(page.locator(".humangate-widget img.bg")).to_have_attribute(
        "src", fresh["slide"]["background"]
    )
    expect(page.locator(SLIDER)).to_have_attribute("aria-valuenow", "0")
    assert page.locator("input[name=humangate-response]").input_value() == ""

    with page.expect_response(is_answer) as answered:
        drag_handle(page, fresh["slide"], private_x(redis_db, fresh["id"]))
    assert answered.value.json()["success"] is True, answered.value.json()
    token = page.locator("input[name=humangate-response]").input_value()
    assert token

    page.fill("#name", "Eve")
    page.fill("#email", "eve@example.org")
    page.click("button[type=submit]")
    expect(page.locator("#verify-result")).to_contain_text('"success": true')

    replay = page.request.post(
        hg_server.url + "/demo",
        form={"name": "Eve", "email": "eve@example.org", "humangate-response": token},
    )
    assert replay.status == 400
    assert "timeout-or-duplicate" in replay.text()
    assert "Verification failed" in replay.text()
