"""Every challenge kind solved through the real widget: click, rotate, text and the audio
alternative, by mouse, touch and keyboard, in English and Chinese, down to 300 px wide.

Units of one kind each are created with the CLI on the test server's database (`unit_for`); the
answers are read from the server's Redis store, never over HTTP. Host pages come from another
origin (`host_site`), which the units allow (127.0.0.1).
"""

from __future__ import annotations

import json
import math

import pytest
from playwright.sync_api import expect

from tests.browser._widget import (
    AUDIO,
    CLICK_IMAGE,
    DISC,
    INPUT,
    LIVE,
    MARKERS,
    MESSAGE,
    PLAY,
    PROMPT,
    REFRESH,
    ROOT,
    SLIDER,
    UNDO,
    VERIFY,
    deep_focus,
    drag_handle,
    handle_centre,
    human_drag,
    is_answer,
    is_audio_swap,
    is_new_challenge,
    private_answer,
)
from tests.browser.conftest import person_user_agent

pytestmark = pytest.mark.browser


def _open(page, host_site, hg_server, sitekey: str, *, width: int = 0, attrs: str = "") -> dict:
    """Load a host page with one widget; the challenge it was issued."""
    widget = f"<div class=humangate data-sitekey={sitekey} data-callback=onToken {attrs}></div>"
    if width:
        widget = f"<div style='width:{width}px'>{widget}</div>"
    with page.expect_response(is_new_challenge) as issued:
        page.goto(host_site.page(hg_server.url, widget, head="<style>body{margin:0}</style>"))
    challenge = issued.value.json()
    page.locator(".humangate-widget .pz").wait_for(state="visible")
    return challenge


def _passed(page, answered, *, keyboard_path: bool = False) -> dict:
    """The answer's reply, checked to be a pass that reached the page's field and callback.

    An answer made without a pointer (keys, typing, listening) is right but not enough: the
    reply asks for a raised proof of work, which the widget works out before it passes.
    """
    result = answered.value.json()
    field = page.locator("input[type=hidden][name=humangate-response]")
    if keyboard_path:
        assert result["success"] is False and result["error"] == "challenge-required", result
        assert result["next"]["kind"] == "pow" and not result["next"].get("gesture")
        expect(page.locator(ROOT)).to_have_attribute("data-state", "success", timeout=30_000)
        assert len(field.input_value()) == 48
    else:
        assert result["success"] is True, result
        expect(page.locator(ROOT)).to_have_attribute("data-state", "success")
        assert field.input_value() == result["token"]
    page.wait_for_function("() => events.length == 1 && events[0][0] == 'ok'")
    return answered.value.request.post_data_json


def _check_trajectory(sent: dict, *, min_points: int = 2) -> None:
    points = sent["trajectory"]
    assert min_points <= len(points) <= 2000
    assert all(len(p) == 3 and all(isinstance(v, int | float) for v in p) for p in points)
    times = [t for _, _, t in points]
    assert times == sorted(times)


def _image_scale(page, locator: str, width: int, height: int) -> tuple[dict, float, float]:
    box = page.locator(locator).bounding_box()
    assert box is not None
    return box, box["width"] / width, box["height"] / height


def _check_points(sent: dict, expected: list, tolerance: float = 3) -> None:
    points = sent["answer"]["points"]
    assert len(points) == len(expected)
    for (x, y), (ex, ey) in zip(points, expected, strict=True):
        assert math.hypot(x - ex, y - ey) <= tolerance, (points, expected)


# ---- click ----------------------------------------------------------------------------------


def test_click_with_the_mouse(page, host_site, hg_server, redis_db, unit_for):
    challenge = _open(page, host_site, hg_server, unit_for("click"))
    assert challenge["kind"] == "click"
    click = challenge["click"]
    expected = private_answer(redis_db, challenge["id"])["points"]
    assert len(expected) == click["count"]
    expect(page.locator(PROMPT)).to_have_attribute("src", click["prompt_image"])
    expect(page.locator(AUDIO)).to_be_visible()
    expect(page.locator(REFRESH)).to_be_visible()
    expect(page.locator(VERIFY)).to_be_disabled()
    box, kx, ky = _image_scale(page, CLICK_IMAGE, click["width"], click["height"])

    # A stray click first, taken back with the undo button.
    page.mouse.move(box["x"] + 5, box["y"] + 5)
    page.mouse.click(box["x"] + 8, box["y"] + 8)
    expect(page.locator(MARKERS)).to_have_count(1)
    page.locator(UNDO).click()
    expect(page.locator(MARKERS)).to_have_count(0)

    for i, (x, y) in enumerate(expected):
        page.mouse.move(box["x"] + x * kx, box["y"] + y * ky, steps=8)
        page.wait_for_timeout(60)
        page.mouse.click(box["x"] + x * kx, box["y"] + y * ky)
        expect(page.locator(MARKERS)).to_have_count(i + 1)
    expect(page.locator(MARKERS).last).to_have_text(str(len(expected)))
    expect(page.locator(LIVE)).to_contain_text(f"{len(expected)} of {len(expected)} placed")
    with page.expect_response(is_answer) as answered:
        page.locator(VERIFY).click()
    sent = _passed(page, answered)
    _check_points(sent, expected)
    _check_trajectory(sent, min_points=len(expected))


def test_click_by_keyboard_alone(page, host_site, hg_server, redis_db, unit_for):
    """Tab to the picture, steer the crosshair with the arrow keys, place with Space, verify."""
    challenge = _open(page, host_site, hg_server, unit_for("click"))
    click = challenge["click"]
    expected = private_answer(redis_db, challenge["id"])["points"]
    page.keyboard.press("Tab")
    assert deep_focus(page) == "application", "Tab should reach the picture first"
    expect(page.locator(".humangate-widget .cx")).to_be_visible()

    at = [click["width"] / 2, click["height"] / 2]  # the crosshair starts in the middle
    keys_of = (("ArrowLeft", "ArrowRight"), ("ArrowUp", "ArrowDown"))
    for point in expected:
        for axis, target in enumerate(point):
            keys = keys_of[axis]
            delta = round(target - at[axis])
            key = keys[delta > 0]
            for _ in range(abs(delta) // 10):
                page.keyboard.press("Shift+" + key)
            for _ in range(abs(delta) % 10):
                page.keyboard.press(key)
            at[axis] += delta
        page.keyboard.press("Space")
    expect(page.locator(MARKERS)).to_have_count(len(expected))
    n = len(expected)
    x, y = (math.floor(v + 0.5) for v in at)
    expect(page.locator(LIVE)).to_contain_text(f"x {x}, y {y}; {n} of {n} placed")

    # Backspace takes the last point back; Space puts it again; Enter verifies.
    page.keyboard.press("Backspace")
    expect(page.locator(MARKERS)).to_have_count(n - 1)
    expect(page.locator(LIVE)).to_contain_text(f"{n - 1} of {n} placed")
    page.keyboard.press("Space")
    page.wait_for_timeout(200)
    with page.expect_response(is_answer) as answered:
        page.keyboard.press("Enter")
    sent = _passed(page, answered, keyboard_path=True)
    _check_points(sent, expected, tolerance=1.5)
    _check_trajectory(sent)


def test_click_by_touch_at_300px(browser, host_site, hg_server, redis_db, unit_for):
    """A phone 300 CSS px wide: the picture shrinks, taps convert back to image pixels."""
    context, page = _touch_page(browser)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        challenge = _open(page, host_site, hg_server, unit_for("click"))
        click = challenge["click"]
        expected = private_answer(redis_db, challenge["id"])["points"]
        assert page.evaluate("document.documentElement.scrollWidth") <= 300
        box, kx, ky = _image_scale(page, CLICK_IMAGE, click["width"], click["height"])
        assert box["width"] < click["width"], "the picture should be scaled down"
        for x, y in expected:
            page.touchscreen.tap(box["x"] + x * kx, box["y"] + y * ky)
            page.wait_for_timeout(150)
        expect(page.locator(MARKERS)).to_have_count(len(expected))
        with page.expect_response(is_answer) as answered:
            page.locator(VERIFY).tap()
        sent = _passed(page, answered)
        _check_points(sent, expected, tolerance=3 / min(kx, 1))
        assert page.evaluate("document.documentElement.scrollWidth") <= 300
    finally:
        context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def _touch_page(browser):
    context = browser.new_context(
        viewport={"width": 300, "height": 640},
        has_touch=True,
        is_mobile=True,
        user_agent=person_user_agent(browser)
        .replace("X11; Linux x86_64", "Linux; Android 14")
        .replace("Safari", "Mobile Safari"),
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def test_slide_by_touch_at_300px(browser, host_site, hg_server, redis_db, unit_for):
    """A finger drags the puzzle piece on a phone; the server sees a touch trace."""
    context, page = _touch_page(browser)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        challenge = _open(page, host_site, hg_server, unit_for("slide"))
        x = private_answer(redis_db, challenge["id"])["x"]
        with page.expect_response(is_answer) as answered:
            drag_handle(page, challenge["slide"], x, touch=True)
        sent = _passed(page, answered)
        assert abs(sent["answer"]["x"] - x) <= 4
        assert sent["signals"]["pointer"] == "touch" and len(sent["signals"]["trace"]) >= 10
        assert page.evaluate("document.documentElement.scrollWidth") <= 300
    finally:
        context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


# ---- rotate ---------------------------------------------------------------------------------


def test_rotate_by_dragging_the_disc(page, host_site, hg_server, redis_db, unit_for):
    challenge = _open(page, host_site, hg_server, unit_for("rotate"))
    assert challenge["kind"] == "rotate"
    angle = private_answer(redis_db, challenge["id"])["angle"] % 360
    expect(page.locator(AUDIO)).to_be_visible()
    box = page.locator(DISC).bounding_box()
    cx, cy, r = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, box["width"] * 0.35

    def at(degrees: float) -> tuple[float, float]:  # clockwise from 12 o'clock
        a = math.radians(degrees - 90)
        return cx + r * math.cos(a), cy + r * math.sin(a)

    page.mouse.move(*at(0))
    page.mouse.down()
    steps = 36
    for i in range(1, steps + 1):
        page.mouse.move(*at(angle * i / steps))
        page.wait_for_timeout(15)
    expect(page.locator(SLIDER)).to_have_attribute("aria-valuenow", str(round(angle) % 360))
    with page.expect_response(is_answer) as answered:
        page.mouse.up()
    sent = _passed(page, answered)
    assert abs(sent["answer"]["angle"] - round(angle) % 360) <= 1
    _check_trajectory(sent, min_points=10)


def test_rotate_by_touch_on_the_slider(browser, host_site, hg_server, redis_db, unit_for):
    context, page = _touch_page(browser)
    try:
        challenge = _open(page, host_site, hg_server, unit_for("rotate"))
        angle = round(private_answer(redis_db, challenge["id"])["angle"]) % 360
        target = angle if angle >= 20 else angle + 360  # a full turn more is still upright
        track = page.locator(".humangate-widget .tr").bounding_box()
        handle = page.locator(SLIDER).bounding_box()
        assert track and handle
        travel = track["width"] - handle["width"]
        with page.expect_response(is_answer) as answered:
            human_drag(page, handle_centre(page), min(target, 359) / 359 * travel, touch=True)
        sent = answered.value.json()
        body = answered.value.request.post_data_json
        assert body["signals"]["pointer"] == "touch"
        turned = body["answer"]["angle"]
        assert min(abs(turned - angle), 360 - abs(turned - angle)) <= 4, (turned, angle)
        assert sent["success"] is True, sent
    finally:
        context.close()


def test_rotate_with_the_slider_keys(page, host_site, hg_server, redis_db, unit_for):
    challenge = _open(page, host_site, hg_server, unit_for("rotate"))
    angle = round(private_answer(redis_db, challenge["id"])["angle"]) % 360
    page.keyboard.press("Tab")
    assert deep_focus(page) == "slider"
    for _ in range(angle // 10):
        page.keyboard.press("Shift+ArrowRight")
    for _ in range(angle % 10):
        page.keyboard.press("ArrowRight")
    handle = page.locator(SLIDER)
    expect(handle).to_have_attribute("aria-valuenow", str(angle))
    expect(handle).to_have_attribute("aria-valuetext", f"{angle} degrees")
    transform = page.locator(DISC).evaluate("e => e.style.transform")
    assert transform == f"rotate({angle}deg)"
    page.wait_for_timeout(200)
    with page.expect_response(is_answer) as answered:
        page.keyboard.press("Enter")
    sent = _passed(page, answered, keyboard_path=True)
    assert sent["answer"] == {"angle": angle}


# ---- text -----------------------------------------------------------------------------------


def test_text_in_chinese(browser, host_site, hg_server, redis_db, unit_for):
    """zh-CN visitors get every string in Simplified Chinese."""
    context = browser.new_context(
        locale="zh-CN",
        viewport={"width": 400, "height": 700},
        user_agent=person_user_agent(browser),
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_default_timeout(15_000)
    asked: list[dict] = []
    page.on(
        "request",
        lambda r: asked.append(r.post_data_json) if r.url.endswith("/challenges") else None,
    )
    try:
        challenge = _open(page, host_site, hg_server, unit_for("text"))
        assert challenge["kind"] == "text"
        assert [{k: v for k, v in a.items() if k != "signals"} for a in asked] == [
            {"sitekey": unit_for("text"), "lang": "zh"}
        ]
        assert asked[0]["signals"]["env"]["lang"] == "zh-CN"
        text = private_answer(redis_db, challenge["id"])["text"]
        expect(page.locator(MESSAGE)).to_have_text("请输入图中的字符")
        expect(page.locator(LIVE)).to_have_text("请输入图中的字符并按回车键")
        expect(page.locator(VERIFY)).to_have_text("确认")
        expect(page.locator(AUDIO)).to_have_attribute("aria-label", "语音验证")
        expect(page.locator(REFRESH)).to_have_attribute("aria-label", "换一个")
        expect(page.locator(ROOT)).to_have_attribute("lang", "zh-CN")
        field = page.locator(INPUT)
        for name, value in (
            ("autocomplete", "off"),
            ("autocapitalize", "off"),
            ("spellcheck", "false"),
            ("inputmode", "text"),
            ("maxlength", str(challenge["text"]["length"] + 2)),
            ("aria-label", "图中的字符"),
        ):
            expect(field).to_have_attribute(name, value)
        field.click()
        page.keyboard.type(text, delay=70)
        with page.expect_response(is_answer) as answered:
            page.keyboard.press("Enter")
        sent = _passed(page, answered, keyboard_path=True)
        assert sent["answer"] == {"text": text}
        assert [i for i, _, _ in sent["trajectory"]] == list(range(len(text)))
        expect(page.locator(MESSAGE)).to_have_text("验证成功")
        expect(page.locator(LIVE)).to_have_text("验证成功")
    finally:
        context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


# ---- audio ----------------------------------------------------------------------------------


def _digits(redis_db, challenge: dict) -> str:
    assert challenge["kind"] == "audio"
    assert challenge["audio"]["audio"].startswith("data:audio/wav;base64,")
    return str(private_answer(redis_db, challenge["id"])["text"])


def test_audio_from_a_slide_by_keyboard(page, host_site, hg_server, redis_db, unit_for):
    visual = _open(page, host_site, hg_server, unit_for("slide"))
    assert visual["kind"] == "slide"
    page.keyboard.press("Tab")
    assert deep_focus(page) == "slider"
    page.keyboard.press("Tab")
    assert deep_focus(page) == "b rf"
    page.keyboard.press("Tab")
    assert deep_focus(page) == "b au"
    expect(page.locator(AUDIO)).to_have_attribute("aria-label", "Audio challenge")
    with page.expect_response(is_audio_swap) as swapped:
        page.keyboard.press("Enter")
    assert swapped.value.request.post_data_json == {"language": "en"}
    assert visual["id"] in swapped.value.url
    challenge = swapped.value.json()
    digits = _digits(redis_db, challenge)
    assert redis_db.keys(f"hg:*:challenge:{visual['id']}") == [], "the visual one is consumed"

    expect(page.locator(MESSAGE)).to_have_text("Play the audio and type the digits you hear")
    expect(page.locator(".humangate-widget audio")).to_have_attribute(
        "src", challenge["audio"]["audio"]
    )
    assert deep_focus(page) == "play", "focus moves to the Play button"
    expect(page.locator(AUDIO)).to_have_attribute("aria-label", "Visual challenge")
    page.keyboard.press("Enter")  # plays (or fails quietly where there is no sound device)
    page.keyboard.press("Tab")
    assert deep_focus(page) == "in"
    expect(page.locator(INPUT)).to_have_attribute("inputmode", "numeric")
    page.keyboard.type(digits, delay=60)
    with page.expect_response(is_answer) as answered:
        page.keyboard.press("Enter")
    sent = _passed(page, answered, keyboard_path=True)
    assert sent["answer"] == {"text": digits}
    _check_trajectory(sent, min_points=len(digits))
    assert page.locator(".humangate-widget audio").evaluate("a => a.paused")


@pytest.mark.parametrize("kind", ["click", "rotate", "text"])
def test_audio_from_every_visual_kind_in_chinese(
    page, host_site, hg_server, redis_db, unit_for, kind
):
    """data-lang="zh" overrides the browser's English; the audio asked for is Chinese."""
    visual = _open(page, host_site, hg_server, unit_for(kind), attrs="data-lang=zh")
    assert visual["kind"] == kind
    expect(page.locator(AUDIO)).to_have_attribute("aria-label", "语音验证")
    with page.expect_response(is_audio_swap) as swapped:
        page.locator(AUDIO).click()
    assert swapped.value.request.post_data_json == {"language": "zh"}
    challenge = swapped.value.json()
    assert challenge["audio"]["language"] == "zh"
    digits = _digits(redis_db, challenge)
    expect(page.locator(MESSAGE)).to_have_text("播放音频，输入听到的数字")
    expect(page.locator(PLAY)).to_have_text("播放")
    page.locator(INPUT).fill(digits)
    page.wait_for_timeout(100)
    with page.expect_response(is_answer) as answered:
        page.locator(VERIFY).click()
    _passed(page, answered, keyboard_path=True)
    expect(page.locator(LIVE)).to_have_text("验证成功")


def test_audio_swap_of_an_expired_challenge_starts_afresh(page, host_site, hg_server, unit_for):
    """A 410 from the swap (the visual challenge is gone) asks for a fresh one and swaps that."""
    _open(page, host_site, hg_server, unit_for("slide"))
    calls = []

    def gone_once(route):
        calls.append(route.request.url)
        if len(calls) == 1:
            route.fulfill(
                status=410,
                content_type="application/json",
                body=json.dumps({"error": "expired-or-used", "message": "gone"}),
            )
        else:
            route.continue_()

    page.route("**/api/v1/challenges/*/audio", gone_once)
    with page.expect_response(is_new_challenge):
        page.locator(AUDIO).click()
    expect(page.locator(PLAY)).to_be_visible()
    assert len(calls) == 2 and calls[0] != calls[1]
    # Back to pictures on request.
    with page.expect_response(is_new_challenge) as issued:
        page.locator(AUDIO).click()
    assert issued.value.json()["kind"] == "slide"
    expect(page.locator(SLIDER)).to_be_visible()


# ---- any kind -------------------------------------------------------------------------------


def test_a_failed_answer_shows_the_next_kind(page, host_site, hg_server, redis_db, unit_for):
    """The reply's `next` may be another kind than the one failed: the widget shows it."""
    challenge = _open(page, host_site, hg_server, unit_for("text"))
    # The next challenge is issued to this page's origin by a click unit.
    harder = page.request.post(
        hg_server.url + "/api/v1/challenges",
        data={"sitekey": unit_for("click")},
        headers={"Origin": host_site.url},
    ).json()
    assert harder["kind"] == "click"

    def swap_next(route):
        reply = route.fetch()
        body = reply.json()
        assert body["success"] is False
        route.fulfill(response=reply, json={**body, "next": harder})

    page.route("**/api/v1/challenges/*/answer", swap_next)
    page.locator(INPUT).fill("zz" + private_answer(redis_db, challenge["id"])["text"])
    page.locator(INPUT).press("Enter")
    expect(page.locator(ROOT)).to_have_attribute("data-state", "failed")
    expect(page.locator(MESSAGE)).to_have_text("Verification failed, try again")
    expect(page.locator(PROMPT)).to_have_attribute("src", harder["click"]["prompt_image"])
    expect(page.locator(LIVE)).to_contain_text("Click the symbols in the order of the numbers")
    assert deep_focus(page) == "application", "the keyboard user lands on the new challenge"
    page.unroute("**/api/v1/challenges/*/answer")

    expected = private_answer(redis_db, harder["id"])["points"]
    size = harder["click"]["width"], harder["click"]["height"]
    box, kx, ky = _image_scale(page, CLICK_IMAGE, *size)
    for x, y in expected:
        page.mouse.click(box["x"] + x * kx, box["y"] + y * ky)
        page.wait_for_timeout(80)
    with page.expect_response(is_answer) as answered:
        page.locator(VERIFY).click()
    _passed(page, answered)


@pytest.mark.parametrize("kind", ["slide", "click", "rotate", "text"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_300px_wide_no_overflow_and_refresh(browser, host_site, hg_server, unit_for, kind, scheme):
    context = browser.new_context(viewport={"width": 300, "height": 700}, color_scheme=scheme)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        first = _open(page, host_site, hg_server, unit_for(kind))
        assert first["kind"] == kind
        assert page.evaluate("document.documentElement.scrollWidth") <= 300
        widget = page.locator(ROOT).bounding_box()
        assert widget["width"] <= 300
        background = page.locator(ROOT).evaluate("e => getComputedStyle(e).backgroundColor")
        assert background == ("rgb(22, 27, 34)" if scheme == "dark" else "rgb(249, 250, 251)")
        for control in (REFRESH, AUDIO, SLIDER, VERIFY, UNDO, PLAY, INPUT, CLICK_IMAGE):
            for box in (b.bounding_box() for b in page.locator(control).all() if b.is_visible()):
                assert box["x"] >= 0 and box["x"] + box["width"] <= 300, control
                assert min(box["width"], box["height"]) >= 32, f"{control} is too small to touch"
        with page.expect_response(is_new_challenge) as issued:
            page.locator(REFRESH).click()
        fresh = issued.value.json()
        assert fresh["id"] != first["id"] and fresh["kind"] == kind
        expect(page.locator(ROOT)).to_have_attribute("data-state", "puzzle")
        assert page.evaluate("document.documentElement.scrollWidth") <= 300
    finally:
        context.close()
