"""How a browser turns pointer motion into timestamped events, for people and for bots.

People: a mouse reports at its USB polling rate (125 Hz is the default of most mice, gaming
mice 500-1000 Hz), a touchpad at 80-140 Hz, a touch screen at 60-240 Hz. Chromium and Firefox
hand the page every report through `getCoalescedEvents()`; Safari hands it one event per
display frame (60 or 120 Hz) carrying the latest position, and a busy low-end phone only every
other frame (30 Hz). A device that did not move sends nothing, so a still mouse leaves a gap.
Timestamps jitter (USB and scheduler), some events are lost, and browsers coarsen
`event.timeStamp`: Chromium to 0.1 ms, Firefox and Safari to 1 ms; Chromium on X11 keeps the X
server's whole milliseconds plus a fixed offset. Coordinates are whole CSS px on a plain
display, multiples of 1/devicePixelRatio when Chromium runs on a scaled one, and any float for
Chromium's touch input.

Bots: a script that awaits each CDP `Input.dispatchMouseEvent` (puppeteer, Playwright,
chromedriver for Selenium) gets the reply only after the renderer handled the event in a
frame, so its events land one frame apart (16.7 ms, measured at 16.7 +- 2 ms with Debian's
Chromium 1xx headless, duplicates included: Chromium fires pointermove for an unchanged
position sent this way) and carry the float32 coordinates it sent. A script that moves the OS
pointer (pyautogui, xdotool) sleeps between moves, so its events follow its sleeps plus a
fraction of a millisecond of X11 round trips; the X server sends nothing for a move to where
the pointer already is, and coordinates are whole pixels.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Literal

import numpy as np

from bench.risk.task import Point, PointerKind

FLOAT32_STEP = 0.0  # a grid step of 0 means "keep float32 precision"


@dataclass(frozen=True, slots=True)
class HumanSampling:
    """What the widget sees of one person's device in one browser."""

    report_ms: float  # the device's report interval
    frame_ms: float | None  # one event per frame (no coalesced events), or None: every report
    jitter_ms: float  # standard deviation of a report's timestamp
    drop_rate: float  # share of events lost
    time_step_ms: float  # timestamp precision
    time_offset_ms: float  # fixed sub-step offset of every timestamp (X11 server time)
    coordinate_step: float  # CSS px grid of coordinates; 0: float32


def _pick(rng: random.Random, weighted: dict[float, float]) -> float:
    return rng.choices(list(weighted), weights=list(weighted.values()))[0]


def sample_human_sampling(rng: random.Random, pointer: PointerKind) -> HumanSampling:
    """Draw a device and a browser for a person using `pointer`."""
    if pointer == "touch":
        return _touch_sampling(rng)
    browser = rng.choices(["chromium", "firefox", "safari"], weights=[0.65, 0.15, 0.2])[0]
    trackpad = rng.random() < 0.25
    if browser == "safari":
        return HumanSampling(
            report_ms=1000.0 / rng.uniform(90.0, 125.0) if trackpad else 8.0,
            frame_ms=1000.0 / _pick(rng, {60.0: 0.6, 120.0: 0.4}),
            jitter_ms=rng.uniform(0.1, 0.6),
            drop_rate=rng.uniform(0.0, 0.04),
            time_step_ms=1.0,
            time_offset_ms=0.0,
            coordinate_step=1.0,
        )
    hz = (
        rng.uniform(80.0, 140.0)
        if trackpad
        else _pick(rng, {125: 0.5, 250: 0.1, 500: 0.15, 1000: 0.25})
    )
    on_x11 = browser == "chromium" and rng.random() < 0.05
    ratio = (
        _pick(rng, {1.0: 0.55, 1.25: 0.1, 1.5: 0.1, 2.0: 0.25}) if browser == "chromium" else 1.0
    )
    return HumanSampling(
        report_ms=1000.0 / hz,
        frame_ms=None,
        jitter_ms=rng.uniform(0.02, 0.4) if not trackpad else rng.uniform(0.2, 1.0),
        drop_rate=rng.uniform(0.0, 0.03),
        time_step_ms=1.0 if browser == "firefox" or on_x11 else 0.1,
        time_offset_ms=round(rng.uniform(0.0, 0.9), 1) if on_x11 else 0.0,
        coordinate_step=1.0 / ratio,
    )


def _touch_sampling(rng: random.Random) -> HumanSampling:
    if rng.random() < 0.4:  # iOS Safari: one event per frame, points on the device pixel grid
        return HumanSampling(
            report_ms=1000.0 / _pick(rng, {60.0: 0.5, 120.0: 0.5}),
            frame_ms=1000.0 / _pick(rng, {60.0: 0.7, 120.0: 0.3}),
            jitter_ms=rng.uniform(0.3, 1.5),
            drop_rate=rng.uniform(0.0, 0.05),
            time_step_ms=1.0,
            time_offset_ms=0.0,
            coordinate_step=1.0 / _pick(rng, {2.0: 0.5, 3.0: 0.5}),
        )
    low_end = rng.random() < 0.12  # a busy phone delivering every other frame
    return HumanSampling(
        report_ms=1000.0 / _pick(rng, {60.0: 0.55, 90.0: 0.1, 120.0: 0.25, 240.0: 0.1}),
        frame_ms=1000.0 / 30.0 if low_end else None,
        jitter_ms=rng.uniform(0.3, 2.0),
        drop_rate=rng.uniform(0.0, 0.06),
        time_step_ms=0.1,
        time_offset_ms=0.0,
        coordinate_step=FLOAT32_STEP,
    )


def human_event_times(
    rng: random.Random, sampling: HumanSampling, start: float, end: float
) -> tuple[np.ndarray, np.ndarray]:
    """Event times in (start, end) and, for each, the time whose position it reports.

    With coalesced events both are the device's report times; with one event per frame the
    event comes at the frame and reports the latest position the device sent before it.
    """
    noise = numpy_rng(rng)
    report = sampling.report_ms
    reports = np.arange(start + rng.uniform(0.0, report), end, report)
    reports = reports + noise.normal(0.0, sampling.jitter_ms, reports.size)
    if sampling.frame_ms is None:
        events, positions = reports, reports
    else:
        frame = sampling.frame_ms
        events = np.arange(start + rng.uniform(0.0, frame), end, frame)
        events = events + noise.normal(0.0, 0.3, events.size)
        positions = events - noise.uniform(0.0, min(report, frame), events.size)
        if events.size > 8 and rng.random() < 0.3:  # one main-thread stall swallows frames
            stall_at, stall_ms = rng.uniform(start, end), rng.uniform(30.0, 120.0)
            keep = (events < stall_at) | (events > stall_at + stall_ms)
            events, positions = events[keep], positions[keep]
    keep = (noise.random(events.size) >= sampling.drop_rate) & (events > start) & (events < end)
    return np.maximum.accumulate(events[keep]), positions[keep]


def numpy_rng(rng: random.Random) -> np.random.Generator:
    """A numpy generator drawn from `rng`, for vectorised noise that stays reproducible."""
    return np.random.default_rng(rng.getrandbits(64))


def frame_locked_times(rng: random.Random, start: float, sleeps_ms: list[float]) -> list[float]:
    """Times of a series of awaited CDP dispatches, the script sleeping `sleeps_ms` before each.

    A dispatch is stamped when the browser receives it; the reply comes after the next frame,
    so the next dispatch can only follow that frame (plus the script's own sleep).
    """
    frame = 1000.0 / _pick(rng, {60.0: 0.85, 120.0: 0.1, 144.0: 0.05})
    phase = rng.uniform(0.0, frame)
    now, times = start, []
    for sleep in sleeps_ms:
        now += sleep + rng.uniform(0.2, 1.2)  # the script's sleep and the IPC hop
        times.append(now)
        boundary = phase + math.ceil((now - phase) / frame) * frame
        if rng.random() < 0.02:  # a dropped frame
            boundary += frame
        now = max(now + 0.1, boundary + rng.gauss(0.0, 1.0))
    return times


def sleep_loop_times(rng: random.Random, start: float, sleeps_ms: list[float]) -> list[float]:
    """Times of OS pointer actions, the script sleeping `sleeps_ms` before each."""
    overhead = rng.uniform(0.1, 0.6)  # this machine's X11 round trips per move
    now, times = start, []
    for sleep in sleeps_ms:
        if sleep > 0.0:
            now += sleep + rng.uniform(0.05, 0.15)  # time.sleep oversleeps a little
        now += overhead * rng.lognormvariate(0.0, 0.3)
        times.append(now)
    return times


def snap(values: np.ndarray, step: float, phase: float) -> np.ndarray:
    """Round positions relative to an origin at sub-pixel `phase` the way the browser does."""
    if step == FLOAT32_STEP:
        absolute = (values + phase).astype(np.float32).astype(np.float64)
        return absolute - float(np.float32(phase))
    return np.round((values + phase) / step) * step - round(phase / step) * step


def stamp(times: np.ndarray, step_ms: float, offset_ms: float = 0.0) -> np.ndarray:
    """Coarsen timestamps to the browser's precision (and an X11 server-time offset)."""
    coarse = np.floor((times - offset_ms) / step_ms) * step_ms + offset_ms
    return np.round(coarse, 1)


def bot_trace(
    rng: random.Random,
    xs: list[float] | np.ndarray,
    ys: list[float] | np.ndarray,
    times: list[float] | np.ndarray,
    driver: Literal["cdp", "os"],
) -> list[Point]:
    """The trace a bot leaves: pointer-down first, moves, pointer-up last, in page coordinates.

    `cdp` keeps every dispatched move (Chromium fires pointermove even for an unchanged
    position) at float32 precision, timestamps to 0.1 ms; `os` truncates to whole pixels like
    pyautogui, loses moves that go nowhere, and carries X11 whole-millisecond times.
    """
    x, y = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
    if driver == "cdp":
        x, y = x.astype(np.float32).astype(np.float64), y.astype(np.float32).astype(np.float64)
        stamps = stamp(np.asarray(times), 0.1)
    else:
        x, y = np.floor(x), np.floor(y)
        stamps = stamp(np.asarray(times), 1.0, round(rng.uniform(0.0, 0.9), 1))
    x, y = x - x[0], y - y[0]
    trace: list[Point] = [(0.0, 0.0, float(stamps[0]))]
    for px, py, t in zip(x[1:-1], y[1:-1], stamps[1:-1], strict=True):
        if driver == "cdp" or (px, py) != trace[-1][:2]:
            trace.append((float(px), float(py), float(t)))
    trace.append((float(x[-1]), float(y[-1]), float(stamps[-1])))
    return trace
