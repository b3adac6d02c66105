"""Helpers to drive the widget; it renders in an open shadow root, which Playwright pierces."""

from __future__ import annotations

import json
import random

SLIDER = ".humangate-widget [role=slider]"
LIVE = ".humangate-widget [aria-live=polite]"
ROOT = ".humangate-widget .hg"
MESSAGE = ".humangate-widget .msg"
IMAGE = ".humangate-widget .img"
REFRESH = ".humangate-widget button.rf"
AUDIO = ".humangate-widget button.au"
UNDO = ".humangate-widget button.un"
VERIFY = ".humangate-widget button.ok"
CLICK_IMAGE = ".humangate-widget .ci"
MARKERS = ".humangate-widget .ci .mk"
PROMPT = ".humangate-widget .pi"
DISC = ".humangate-widget .dk img"
INPUT = ".humangate-widget input.in"
PLAY = ".humangate-widget button.play"


def is_new_challenge(response) -> bool:
    return response.request.method == "POST" and response.url.endswith("/api/v1/challenges")


def is_answer(response) -> bool:
    return response.request.method == "POST" and response.url.endswith("/answer")


def is_audio_swap(response) -> bool:
    return response.request.method == "POST" and response.url.endswith("/audio")


def private_answer(redis_db, challenge_id: str) -> dict:
    """A challenge's private answer, read straight from the server's Redis store."""
    raw = redis_db.get(f"hg:challenge:{challenge_id}")
    assert raw, f"challenge {challenge_id} is not in Redis"
    return dict(json.loads(raw)["answer"])


def private_x(redis_db, challenge_id: str) -> int:
    """The slide answer."""
    return int(private_answer(redis_db, challenge_id)["x"])


def deep_focus(page) -> str | None:
    """A short description of the focused element, looking inside shadow roots."""
    return page.evaluate(
        """() => {
            let a = document.activeElement;
            while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
            if (!a) return null;
            if (a.closest(".humangate-widget, .hg") && a.className)
                return a.getAttribute("role") || a.className;
            return a.getAttribute("role") || a.getAttribute("type") || a.id || a.tagName;
        }"""
    )


def drag_handle(page, slide: dict, x: float, *, steps: int = 14, pause_ms: int = 20) -> None:
    """Drag the slider handle by `x` background px, in small human-like steps."""
    handle = page.locator(SLIDER)
    handle.wait_for(state="visible")
    image = page.locator(IMAGE).bounding_box()
    assert image is not None
    scale = image["width"] / slide["width"]
    box = handle.bounding_box()
    assert box is not None
    start_x, start_y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    rng = random.Random(x)
    page.mouse.move(start_x, start_y)
    page.mouse.down()
    for i in range(1, steps + 1):
        page.wait_for_timeout(pause_ms)
        eased = 1 - (1 - i / steps) ** 2
        page.mouse.move(start_x + x * scale * eased, start_y + rng.uniform(-2, 2))
    page.wait_for_timeout(pause_ms)
    page.mouse.up()
