"""Helpers to drive the widget; it renders in an open shadow root, which Playwright pierces."""

from __future__ import annotations

import itertools
import json
import random
import time

from bench.risk.human import human_trace
from bench.risk.task import DragTask
from humangate.risk.features import trajectory_features
from humangate.risk.model import load_model

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
    # The store binds its keys to the Redis server's generation: hg:<generation>:challenge:<id>.
    keys = redis_db.keys(f"hg:*:challenge:{challenge_id}")
    raw = redis_db.get(keys[0]) if keys else None
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


_seeds = itertools.count(1000)


class _Finger:
    """One finger on a touch screen, through the DevTools protocol (Playwright only taps)."""

    def __init__(self, page) -> None:
        self.cdp = page.context.new_cdp_session(page)

    def _send(self, kind: str, x: float, y: float) -> None:
        points = [] if kind == "touchEnd" else [{"x": x, "y": y, "radiusX": 4, "radiusY": 4}]
        self.cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    def down(self, x: float, y: float) -> None:
        self._send("touchStart", x, y)

    def move(self, x: float, y: float) -> None:
        self._send("touchMove", x, y)

    def up(self, x: float, y: float) -> None:
        self._send("touchEnd", x, y)


class _Mouse:
    def __init__(self, page) -> None:
        self.mouse = page.mouse

    def down(self, x: float, y: float) -> None:
        self.mouse.move(x, y)
        self.mouse.down()

    def move(self, x: float, y: float) -> None:
        self.mouse.move(x, y)

    def up(self, x: float, y: float) -> None:
        self.mouse.move(x, y)
        self.mouse.up()


# The people these tests play move clearly like people (the model's own logit at least this):
# the tests check the widget and the loop, and the ~3% of model people whom the behaviour model
# doubts would make them flaky. bench/risk/evaluate.py measures that tail instead.
CONFIDENT_LOGIT = 4.5


def _confident_person(task: DragTask) -> list[tuple[float, float, float]]:
    model = load_model()
    while True:
        points = human_trace(random.Random(next(_seeds)), task)
        if model.full_logit(trajectory_features(points)) >= CONFIDENT_LOGIT:
            return points


def human_drag(page, start: tuple[float, float], dx: float, *, touch: bool = False) -> None:
    """Drag from `start` by `dx` CSS px along a human-movement model trace, in real time.

    The model (bench/risk/human.py) gives points at 30-1000 Hz; they are replayed at most every
    8 ms, each at its own moment, so the page's event timestamps carry the model's timing.
    Every drag is a new person: the server rightly refuses a drag it has seen before.
    """
    pointer = "touch" if touch else "mouse"
    task = DragTask(distance=abs(dx), tolerance=1.5, handle_size=40.0, pointer=pointer)
    points = _confident_person(task)
    hand = _Finger(page) if touch else _Mouse(page)
    sign = 1.0 if dx >= 0 else -1.0
    x0, y0 = start
    if not touch:
        page.mouse.move(x0 - sign * 30, y0 + 12)
    # The model's first point comes when the person grabs the handle after seeing it.
    time.sleep(min(points[0][2], 3000) / 1000)
    hand.down(x0, y0)
    began = time.perf_counter()
    t_first = points[0][2]
    last_sent = -1e9
    for x, y, t in points[1:]:
        due = (t - t_first) / 1000
        last = (x, y, t) == points[-1]
        if (t - last_sent) < 8 and not last:
            continue
        # On a loaded machine the replay falls behind: drop the late points, as a browser
        # coalesces a busy page's moves, rather than firing them in a burst a script would make.
        if time.perf_counter() - began - due > 0.012 and not last:
            continue
        while (wait := due - (time.perf_counter() - began)) > 0:
            time.sleep(min(wait, 0.004))
        hand.move(x0 + sign * x, y0 + y)
        last_sent = t
    hand.up(x0 + dx, y0 + points[-1][1])


def scripted_drag(page, start: tuple[float, float], dx: float) -> None:
    """What a scripted bot does: a straight line at constant speed, one event every 10 ms."""
    x0, y0 = start
    page.mouse.move(x0, y0)
    page.mouse.down()
    for i in range(1, 31):
        page.wait_for_timeout(10)
        page.mouse.move(x0 + dx * i / 30, y0)
    page.mouse.up()


def handle_centre(page) -> tuple[float, float]:
    handle = page.locator(SLIDER)
    handle.wait_for(state="visible")
    box = handle.bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def drag_handle(page, slide: dict, x: float, *, touch: bool = False) -> None:
    """Drag the slide puzzle's handle by `x` background px, the way a person would."""
    start = handle_centre(page)
    image = page.locator(IMAGE).bounding_box()
    assert image is not None
    scale = image["width"] / slide["width"]
    human_drag(page, start, x * scale, touch=touch)
