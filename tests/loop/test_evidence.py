"""Every token rests on evidence (issue: no bypass by construction). Each test names a way a
script used to get a token, or a label a bot used to learn from, and shows it closed."""

from __future__ import annotations

import random
from typing import Any

import pytest

from bench.risk.families import FAMILIES
from bench.risk.task import DragTask
from humangate.challenges.pow import solve_pow
from humangate.errors import RateLimited
from humangate.loop import Issued, Signals, Verifier
from humangate.risk.access import AccessList
from humangate.risk.base import Point
from humangate.units import UnitView
from tests.api.test_risk import CHROME_ENV
from tests.loop.test_loop import VISITOR, FakeClock, Recorder, make_loop, unit

CHROME = CHROME_ENV  # a plausible desktop Chrome, as the API tests use
AUTOMATED = {**CHROME, "wd": True}


def human_drag(distance: float, seed: int) -> list[Point]:
    task = DragTask(distance=distance, tolerance=4.0, handle_size=40.0, pointer="mouse")
    return list(FAMILIES["human"](random.Random(seed), task))


def as_lists(points: list[Point]) -> list[list[float]]:
    return [list(point) for point in points]


async def issue(loop: Verifier, target: UnitView, env: dict[str, Any] | None = CHROME) -> Issued:
    return await loop.issue(target, VISITOR, signals=Signals(environment=env))


async def gesture(
    loop: Verifier, clock: FakeClock, target: UnitView, issued: Issued, trace: list[Point] | None
) -> Any:
    if trace:
        clock.now += trace[-1][2] / 1000 + 0.05
    pointer = "mouse" if trace else "none"
    return await loop.answer(
        target,
        issued.id,
        VISITOR,
        pow_number=solve_pow(issued.payload),
        answer=None,
        trajectory=None,
        signals=Signals(trace=trace, pointer=pointer),
    )


async def slide_answer(
    loop: Verifier,
    clock: FakeClock,
    target: UnitView,
    issued: Issued,
    *,
    trace: list[Point] | None,
    trajectory: list[Point] | None = None,
    pointer: str = "mouse",
    wait: float | None = None,
) -> Any:
    state = await loop.peek(issued.id)
    assert state is not None
    x = state.answer["x"]
    if trace is not None and trajectory is None:
        trajectory = trace
    clock.now += wait if wait is not None else (trace[-1][2] / 1000 + 0.05 if trace else 1.0)
    return await loop.answer(
        target,
        issued.id,
        VISITOR,
        pow_number=None,
        answer={"x": x},
        trajectory=as_lists(trajectory) if trajectory else [[0, 0, 0], [x, 0, 400]],
        signals=Signals(trace=trace, pointer=pointer),  # type: ignore[arg-type]
    )


async def slide_issue(
    loop: Verifier, env: dict[str, Any] | None = CHROME
) -> tuple[UnitView, Issued]:
    target = unit("interactive", kinds=("slide",))
    issued = await issue(loop, target, env)
    assert issued.kind == "slide"
    return target, issued


async def a_passing_human_slide(
    loop: Verifier, clock: FakeClock, target: UnitView, issued: Issued
) -> Any:
    state = await loop.peek(issued.id)
    assert state is not None
    trace = human_drag(float(state.answer["x"]), seed=5)
    # The human model lands inside the tolerance; the slide's value is where the pointer is,
    # moved so that the answer is where the trace ends.
    shifted = [(x - trace[-1][0] + state.answer["x"], y, t) for x, y, t in trace]
    return await slide_answer(loop, clock, target, issued, trace=trace, trajectory=shifted)


async def test_a_managed_proof_of_work_without_a_trace_earns_no_token() -> None:
    loop, clock, _ = make_loop()
    target = unit("managed")
    issued = await issue(loop, target)
    assert issued.gesture
    reply = await gesture(loop, clock, target, issued, None)
    assert not reply.success and reply.error == "challenge-required"
    assert reply.next is not None and reply.next.kind != "pow"


async def test_a_too_short_trace_is_no_trace() -> None:
    loop, clock, _ = make_loop()
    target = unit("managed")
    reply = await gesture(
        loop, clock, target, await issue(loop, target), [(0, 0, 500), (240, 0, 520)]
    )
    assert not reply.success and reply.next is not None and reply.next.kind != "pow"


async def test_a_trace_that_claims_more_time_than_has_passed_earns_no_token() -> None:
    recorder = Recorder()
    loop, clock, _ = make_loop(observers=[recorder])
    target = unit("managed")
    issued = await issue(loop, target)
    trace = human_drag(240.0, seed=3)
    clock.now += 0.03  # answered 30 ms after issue, claiming a drag of over a second
    reply = await loop.answer(
        target,
        issued.id,
        VISITOR,
        pow_number=solve_pow(issued.payload),
        answer=None,
        trajectory=None,
        signals=Signals(trace=trace, pointer="mouse"),
    )
    assert not reply.success and reply.error == "challenge-required"
    assert recorder.outcomes[-2].reason == "trace-after-answer"


async def test_a_right_slide_without_a_trace_earns_no_token_by_itself() -> None:
    loop, clock, _ = make_loop()
    target, issued = await slide_issue(loop)
    reply = await slide_answer(loop, clock, target, issued, trace=None, pointer="none")
    assert not reply.success and reply.error == "challenge-required"
    assert reply.next is not None and reply.next.kind == "pow", "the keyboard path's work"


async def test_a_slide_trajectory_that_is_not_the_scored_trace_fails() -> None:
    loop, clock, _ = make_loop()
    target, issued = await slide_issue(loop)
    state = await loop.peek(issued.id)
    assert state is not None
    x = float(state.answer["x"])
    scored = human_drag(x, seed=5)
    straight = [(x * i / 30, 0.0, 1000.0 + 20 * i) for i in range(31)]  # another recording
    reply = await slide_answer(
        loop, clock, target, issued, trace=scored, trajectory=straight, wait=3.0
    )
    assert not reply.success and reply.error == "wrong-answer"


async def test_a_right_slide_with_its_own_recording_passes() -> None:
    loop, clock, _ = make_loop()
    target, issued = await slide_issue(loop)
    reply = await a_passing_human_slide(loop, clock, target, issued)
    assert reply.success, reply


async def test_a_declared_bot_gets_no_token_by_keyboard_or_pointer() -> None:
    loop, clock, _ = make_loop()
    target, issued = await slide_issue(loop, env=AUTOMATED)
    by_keyboard = await slide_answer(loop, clock, target, issued, trace=None, pointer="keyboard")
    assert not by_keyboard.success and by_keyboard.error == "wrong-answer"
    target, issued = await slide_issue(loop, env=AUTOMATED)
    by_pointer = await a_passing_human_slide(loop, clock, target, issued)
    assert not by_pointer.success and by_pointer.error == "wrong-answer"


async def test_a_declared_bot_never_passes_the_managed_gesture() -> None:
    loop, clock, _ = make_loop()
    target = unit("managed")
    for seed in range(3):
        issued = await issue(loop, target, AUTOMATED)
        if issued.kind != "pow":
            break
        reply = await gesture(loop, clock, target, issued, human_drag(240.0, seed))
        assert not reply.success


async def test_the_keyboard_path_is_a_visual_answer_plus_a_raised_proof_of_work() -> None:
    loop, clock, _ = make_loop()
    target, issued = await slide_issue(loop)
    reply = await slide_answer(loop, clock, target, issued, trace=None, pointer="keyboard")
    assert reply.next is not None and reply.next.kind == "pow"
    assert int(reply.next.payload["maxnumber"]) >= 4 * target.pow_difficulty
    done = await loop.answer(
        target,
        reply.next.id,
        VISITOR,
        pow_number=solve_pow(reply.next.payload),
        answer=None,
        trajectory=None,
    )
    assert done.success and done.token


async def test_the_keyboard_path_is_rate_limited_per_device() -> None:
    loop, clock, _ = make_loop()
    with pytest.raises(RateLimited):
        for _ in range(11):
            target, issued = await slide_issue(loop)
            await slide_answer(loop, clock, target, issued, trace=None, pointer="keyboard")


async def test_a_typed_answer_takes_the_keyboard_path() -> None:
    loop, clock, _ = make_loop()
    target = unit("interactive", kinds=("text",))
    issued = await issue(loop, target)
    state = await loop.peek(issued.id)
    assert state is not None
    reply = await loop.answer(
        target, issued.id, VISITOR, pow_number=None, answer=state.answer["text"], trajectory=None
    )
    assert not reply.success and reply.next is not None and reply.next.kind == "pow"


async def test_a_right_slide_with_a_script_drag_gets_the_one_failure_code() -> None:
    recorder = Recorder()
    loop, clock, _ = make_loop(observers=[recorder])
    target, issued = await slide_issue(loop)
    state = await loop.peek(issued.id)
    assert state is not None
    x = float(state.answer["x"])
    straight = [(x * i / 30, 0.0, 1000.0 + 20 * i) for i in range(31)]
    reply = await slide_answer(loop, clock, target, issued, trace=straight)
    assert not reply.success and reply.error == "wrong-answer"
    assert recorder.outcomes[-2].reason == "suspicious-behaviour", "the owner sees why"


async def test_the_operators_own_automation_is_judged_like_anyone_else() -> None:
    monitoring = AccessList.from_strings(allow=["203.0.113.0/24"])
    loop, clock, _ = make_loop(monitoring=monitoring)
    target, issued = await slide_issue(loop, env=AUTOMATED)
    state = await loop.peek(issued.id)
    assert state is not None and "automation-flag" not in {f.reason for f in state.risk.context}
    assert (await a_passing_human_slide(loop, clock, target, issued)).success
    recorder = Recorder()
    elsewhere, its_clock, _ = make_loop(
        monitoring=AccessList.from_strings(allow=["198.51.100.0/24"]), observers=[recorder]
    )
    target, issued = await slide_issue(elsewhere, env=AUTOMATED)
    refused = await a_passing_human_slide(elsewhere, its_clock, target, issued)
    assert not refused.success and recorder.outcomes[-2].reason == "automation"


async def test_work_done_faster_than_any_browser_lowers_the_score() -> None:
    loop, clock, _ = make_loop()
    target = unit("invisible", pow_difficulty=400_000)
    scores = {}
    for label, elapsed in (("browser", 60_000.0), ("native", 1.0), ("untimed", None)):
        issued = await issue(loop, target)
        number = solve_pow(issued.payload)
        clock.now += 61
        reply = await loop.answer(
            target,
            issued.id,
            VISITOR,
            pow_number=number,
            answer=None,
            trajectory=None,
            signals=Signals(pow_elapsed_ms=elapsed),
        )
        assert reply.success
        scores[label] = (await loop.siteverify(target, reply.token)).score
    assert scores["native"] < scores["untimed"] < scores["browser"]


async def test_the_keyboard_paths_work_done_natively_earns_no_token() -> None:
    loop, clock, _ = make_loop()
    target = unit("interactive", kinds=("slide",), pow_difficulty=100_000)
    issued = await issue(loop, target)
    more = await slide_answer(loop, clock, target, issued, trace=None, pointer="keyboard")
    assert more.next is not None and more.next.kind == "pow"
    clock.now += 0.5
    number = solve_pow(more.next.payload)
    assert number is not None and number >= 20_000, "enough work to time"
    reply = await loop.answer(
        target,
        more.next.id,
        VISITOR,
        pow_number=number,
        answer=None,
        trajectory=None,
        signals=Signals(pow_elapsed_ms=1.0),  # tens of thousands of hashes in a millisecond
    )
    assert not reply.success and reply.error == "wrong-answer"


async def test_taps_on_a_click_picture_are_its_pointer_recording() -> None:
    loop, clock, _ = make_loop()
    target = unit("interactive", kinds=("click",))
    issued = await issue(loop, target)
    state = await loop.peek(issued.id)
    assert state is not None
    points = [list(point) for point in state.answer["points"]]
    taps = [(float(x), float(y), 900.0 + 700 * i) for i, (x, y) in enumerate(points)]
    clock.now += taps[-1][2] / 1000 + 0.1
    reply = await loop.answer(
        target,
        issued.id,
        VISITOR,
        pow_number=None,
        answer={"points": points},
        trajectory=[[x, y, t] for x, y, t in taps],
        signals=Signals(trace=taps, pointer="touch"),
    )
    assert reply.success, reply
