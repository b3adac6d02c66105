"""Drag traces from three public "human-like mouse" libraries, run as their users run them.

Each library's own code decides every pointer action; only what it would ask of a browser, a
display or the clock is stood in for, and turned into timed events by bench/risk/sampling.py.
The loaded modules' `random`, `np` and `pyautogui` globals are swapped for each trace, so these
generators are not thread-safe (nothing here runs them in threads).

ghost-cursor 1.4.2 (npm, bench/risk/node): `ghost_paths.mjs` builds the library's `GhostCursor`
on a recording stand-in for a puppeteer Page and runs a slider script with the defaults:
`cursor.move(handle)` from the cursor's default start {0, 0} (overshooting past 500 px, as the
library does), `mouseDown()`, `moveTo({x: here.x + distance, y: here.y})`, `mouseUp()`. Its
`Math.random` is a seeded PRNG. The library awaits each CDP `Input.dispatchMouseEvent` and adds
no delay of its own (`moveDelay` is 0 for move and moveTo, `useTimestamps` off), so the events
come one frame apart, with float32 coordinates; a CDP round trip (DOM.getContentQuads) comes
between the approach and the press. One node process serves a whole batch.

humancursor 1.1.5 (PyPI): loaded file by file so neither pyautogui (which needs a display) nor a
browser is touched, with `random` and `numpy.random` swapped for seeded ones. Half the traces
come from `WebCursor(driver).drag_and_drop(handle, target)`, the real method, on a stand-in
Chrome driver that records the W3C actions selenium sends: whole-pixel `move_by_offset` steps,
35-80 curve points, each pointer action a chromedriver CDP dispatch, so one per frame, plus an
HTTP round trip per `perform()`. The other half come from `SystemCursor().drag_and_drop(...)`,
the real method, on a stand-in pyautogui module that records each call with the `PAUSE` in force:
the library sets `PAUSE = duration / len(points)` with a duration drawn from 0.5-2.0 s, so moves
come at that interval (plus X11 round trips), at whole pixels, one curve point per px of travel.
The library passes its tween as `tween=` while its curve reads `tweening=`, so every curve uses
the default easeOutQuad; that is what its users get, so it is kept.

pyclick 0.0.2 (PyPI): `HumanClicker.move` (the real method, on the same stand-in pyautogui) with
`HumanCurve`'s defaults: 100 points, easeOutQuad, two random knots inside the start-target
box widened by 100 px. A user script moves to the handle, calls `pyautogui.mouseDown()`,
`move(target, duration)`, and `pyautogui.mouseUp()`; `move` sets `PAUSE = duration / 100`,
duration being pyclick's default of 2 s for half the scripts and a random 0.5-2.0 s for the
rest. Repeated curve points (easeOutQuad lingers at the end) move nothing, so the X server sends
no event for them, but their pauses still pass.

All OS-level scripts start from a random screen position on one of five common screen sizes
(1366x768 to 2560x1440); ghost-cursor and WebCursor start where their libraries put the cursor.
"""

from __future__ import annotations

import importlib.util
import json
import random
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from bench.risk import sampling
from bench.risk.bots import ready_ms
from bench.risk.task import DragTask, Point

NODE_DIR = Path(__file__).with_name("node")
SCREENS = [(1920, 1080), (1366, 768), (1536, 864), (1280, 1024), (2560, 1440)]


class GeneratorUnavailable(RuntimeError):
    """An external generator's package (or node) is not installed."""


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)  # finds, does not import, a top-level package
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


@contextmanager
def _modules_during_load(stand_ins: dict[str, ModuleType]) -> Iterator[dict[str, ModuleType]]:
    """Let loaded files import each other (and the stand-ins) by name, then restore sys.modules.

    Only the names put here are restored: what the files import for real (numpy, selenium)
    stays imported as usual.
    """
    loaded: dict[str, ModuleType] = {}
    saved = {name: sys.modules.get(name) for name in stand_ins}
    sys.modules.update(stand_ins)
    try:
        yield loaded
    finally:
        for module in loaded.values():
            sys.modules.pop(module.__name__, None)
        for name, previous in saved.items():
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous


def _load_files(
    package: str, files: Sequence[str], stand_ins: dict[str, ModuleType]
) -> dict[str, ModuleType]:
    """Execute `files` of an installed package in order, without its `__init__`."""
    root = _package_dir(package)
    if root is None:
        raise GeneratorUnavailable(
            f"{package} is not installed: pip install -e '.[risk-bench]' brings it in."
        )
    with _modules_during_load(stand_ins) as loaded:
        for file in files:
            name = f"{package}.{file.removesuffix('.py').replace('/', '.')}"
            spec = importlib.util.spec_from_file_location(name, root / file)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            loaded[file] = module
        return dict(loaded)


def _seeded_numpy(seed: int) -> ModuleType:
    """numpy, except that `numpy.random` is a seeded legacy RandomState (the same API)."""
    proxy = ModuleType("numpy")
    proxy.__dict__.update(np.__dict__)
    proxy.random = np.random.RandomState(seed)  # type: ignore[attr-defined]
    return proxy


def _seed(rng: random.Random, modules: Sequence[ModuleType]) -> None:
    py_random, np_random = random.Random(rng.getrandbits(64)), _seeded_numpy(rng.getrandbits(32))
    for module in modules:
        if hasattr(module, "random"):
            module.random = py_random  # type: ignore[attr-defined]
        if hasattr(module, "np"):
            module.np = np_random  # type: ignore[attr-defined]


class RecordingPyautogui:
    """Stands in for the pyautogui module: records each call and the PAUSE it sleeps after."""

    def __init__(self, screen: tuple[int, int], position: tuple[int, int]) -> None:
        self.PAUSE, self.MINIMUM_DURATION, self.MINIMUM_SLEEP = 0.1, 0.1, 0.05
        self.screen, self.where = screen, position
        self.actions: list[tuple[str, int, int, float]] = []  # kind, x, y, pause after (s)

    def size(self) -> tuple[int, int]:
        return self.screen

    def position(self) -> tuple[int, int]:
        return self.where

    def moveTo(self, x: Any = None, y: Any = None, *args: Any, **kwargs: Any) -> None:  # noqa: N802
        if isinstance(x, (tuple, list)):
            x, y = x
        # pyautogui truncates floats and keeps the pointer on the screen.
        self.where = (
            min(max(int(x), 0), self.screen[0] - 1),
            min(max(int(y), 0), self.screen[1] - 1),
        )
        self.actions.append(("move", *self.where, self.PAUSE))

    def mouseDown(self, *args: Any, **kwargs: Any) -> None:  # noqa: N802
        self.actions.append(("down", *self.where, self.PAUSE))

    def mouseUp(self, *args: Any, **kwargs: Any) -> None:  # noqa: N802
        self.actions.append(("up", *self.where, self.PAUSE))


class RecordingWebDriver:
    """Stands in for a selenium Chrome driver: a window size, and the W3C actions sent to it."""

    def __init__(self, window: tuple[int, int]) -> None:
        self.window = window
        self.performed: list[dict[str, Any]] = []

    def get_window_size(self) -> dict[str, int]:
        return {"width": self.window[0], "height": self.window[1]}

    def execute(self, command: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        self.performed.append(params or {})
        return {"value": None}


def _os_trace(rng: random.Random, actions: list[tuple[str, int, int, float]]) -> list[Point]:
    """Place pyautogui calls in time (each sleeps its PAUSE after) and keep press to release."""
    sleeps = [0.0] + [pause * 1000.0 for *_, pause in actions[:-1]]
    times = sampling.sleep_loop_times(rng, ready_ms(rng), sleeps)
    kinds = [kind for kind, *_ in actions]
    down, up = kinds.index("down"), kinds.index("up")
    xs = [float(x) for _, x, _, _ in actions[down : up + 1]]
    ys = [float(y) for _, _, y, _ in actions[down : up + 1]]
    return sampling.bot_trace(rng, xs, ys, times[down : up + 1], "os")


def _screen_points(rng: random.Random, task: DragTask) -> tuple[tuple[int, int], ...]:
    screen = rng.choice(SCREENS)
    handle = (
        rng.randint(int(0.2 * screen[0]), int(0.6 * screen[0])),
        rng.randint(int(0.3 * screen[1]), int(0.7 * screen[1])),
    )
    target = (handle[0] + round(task.distance), handle[1])
    start = (rng.randrange(screen[0]), rng.randrange(screen[1]))
    return screen, start, handle, target


@cache
def _humancursor() -> dict[str, ModuleType]:
    files = [
        "utilities/human_curve_generator.py",
        "utilities/calculate_and_randomize.py",
        "utilities/web_adjuster.py",
        "web_cursor.py",
        "system_cursor.py",
    ]
    modules = _load_files("humancursor", files, {"pyautogui": ModuleType("pyautogui")})
    # The curve parameters differ for a browser, recognised by isinstance(driver, Chrome).
    modules["utilities/calculate_and_randomize.py"].Chrome = RecordingWebDriver  # type: ignore[attr-defined]
    return modules


def humancursor_trace(rng: random.Random, task: DragTask) -> list[Point]:
    """HumanCursor's drag_and_drop from the handle to the target, through selenium or pyautogui."""
    modules = _humancursor()
    _seed(rng, list(modules.values()))
    screen, start, handle, target = _screen_points(rng, task)
    if rng.random() < 0.5:
        driver = RecordingWebDriver(screen)
        modules["web_cursor.py"].WebCursor(driver).drag_and_drop(list(handle), list(target))
        return _selenium_trace(rng, driver.performed)
    recorder = RecordingPyautogui(screen, start)
    modules["system_cursor.py"].pyautogui = recorder  # type: ignore[attr-defined]
    modules["system_cursor.py"].SystemCursor().drag_and_drop(handle, target)
    return _os_trace(rng, recorder.actions)


def _selenium_trace(rng: random.Random, performed: list[dict[str, Any]]) -> list[Point]:
    """Turn recorded W3C action payloads into chromedriver's dispatches, one per frame."""
    events: list[tuple[str, float, float]] = []
    sleeps: list[float] = []
    x = y = 0.0  # the W3C pointer starts at the viewport's origin
    for payload in performed:
        first_of_perform = True
        for device in payload.get("actions", []):
            if device.get("type") != "pointer":
                continue
            for action in device["actions"]:
                kind = action["type"]
                if kind == "pointerMove":
                    relative = action.get("origin") == "pointer"
                    x, y = (
                        (x + action["x"], y + action["y"])
                        if relative
                        else (action["x"], action["y"])
                    )
                elif kind not in ("pointerDown", "pointerUp"):
                    continue
                events.append((kind, x, y))
                sleeps.append(rng.uniform(1.0, 6.0) if first_of_perform else 0.0)  # HTTP hop
                first_of_perform = False
    times = sampling.frame_locked_times(rng, ready_ms(rng), sleeps)
    kinds = [kind for kind, _, _ in events]
    down, up = kinds.index("pointerDown"), kinds.index("pointerUp")
    xs = [px for _, px, _ in events[down : up + 1]]
    ys = [py for _, _, py in events[down : up + 1]]
    return sampling.bot_trace(rng, xs, ys, times[down : up + 1], "cdp")


@cache
def _pyclick() -> dict[str, ModuleType]:
    stand_in = ModuleType("pyautogui")
    files = ["_utils.py", "_beziercurve.py", "humancurve.py", "humanclicker.py"]
    return _load_files("pyclick", files, {"pyautogui": stand_in})


def pyclick_trace(rng: random.Random, task: DragTask) -> list[Point]:
    """pyclick's HumanClicker.move to the handle, mouseDown, move to the target, mouseUp."""
    modules = _pyclick()
    _seed(rng, [modules["humancurve.py"]])
    screen, start, handle, target = _screen_points(rng, task)
    recorder = RecordingPyautogui(screen, start)
    recorder.PAUSE, recorder.MINIMUM_DURATION, recorder.MINIMUM_SLEEP = 0.015, 0.0, 0.0
    modules["humanclicker.py"].pyautogui = recorder  # type: ignore[attr-defined]
    clicker = modules["humanclicker.py"].HumanClicker()
    clicker.move(handle, _pyclick_duration(rng))
    recorder.mouseDown()
    clicker.move(target, _pyclick_duration(rng))
    recorder.mouseUp()
    return _os_trace(rng, recorder.actions)


def _pyclick_duration(rng: random.Random) -> float:
    return 2.0 if rng.random() < 0.5 else rng.uniform(0.5, 2.0)


def _ghost_request(rng: random.Random, task: DragTask) -> dict[str, Any]:
    screen = rng.choice(SCREENS)
    viewport = (screen[0], screen[1] - rng.randint(80, 140))  # less the browser's chrome
    return {
        "seed": rng.getrandbits(32),
        "viewport": viewport,
        "handle": {
            "x": rng.uniform(0.2, 0.6) * viewport[0],
            "y": rng.uniform(0.3, 0.7) * viewport[1],
            "width": task.handle_size,
            "height": task.handle_size,
        },
        "distance": task.distance,
    }


def _ghost_trace(rng: random.Random, events: list[list[Any]]) -> list[Point]:
    kinds = [kind for kind, _, _ in events]
    down, up = kinds.index("mousePressed"), kinds.index("mouseReleased")
    sleeps = [rng.uniform(0.5, 3.0) if i == down else 0.0 for i in range(len(events))]
    times = sampling.frame_locked_times(rng, ready_ms(rng), sleeps)
    xs = [float(x) for _, x, _ in events[down : up + 1]]
    ys = [float(y) for _, _, y in events[down : up + 1]]
    return sampling.bot_trace(rng, xs, ys, times[down : up + 1], "cdp")


def ghost_cursor_missing() -> str | None:
    """Why ghost-cursor cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (NODE_DIR / "node_modules" / "ghost-cursor").is_dir():
        return "ghost-cursor is not installed: run `npm ci --prefix bench/risk/node`"
    return None


def ghost_cursor_traces(
    rngs: Sequence[random.Random], tasks: Sequence[DragTask]
) -> list[list[Point]]:
    """ghost-cursor drags for many tasks with one node process; item i uses only `rngs[i]`."""
    missing = ghost_cursor_missing()
    if missing is not None:
        raise GeneratorUnavailable(missing)
    requests = [_ghost_request(rng, task) for rng, task in zip(rngs, tasks, strict=True)]
    if not requests:
        return []
    reply = subprocess.run(
        ["node", str(NODE_DIR / "ghost_paths.mjs")],
        input=json.dumps({"items": requests}),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
        cwd=NODE_DIR,
    )
    items = json.loads(reply.stdout)["items"]
    return [_ghost_trace(rng, item["events"]) for rng, item in zip(rngs, items, strict=True)]


def ghost_cursor_trace(rng: random.Random, task: DragTask) -> list[Point]:
    """One ghost-cursor drag (a node process per call: prefer ghost_cursor_traces in bulk)."""
    return ghost_cursor_traces([rng], [task])[0]
