"""Answer a challenge: consume it, check the answer, then judge the evidence behind it.

A wrong answer fails. A right one earns a token only with evidence: in managed mode a proof of
work passes with a gesture that scores as a person's (else a visual challenge follows); a visual
answer passes with the pointer recording that made it, or, without a pointer (keyboard, screen
reader), after a proof of work at a raised difficulty. A browser that declares automation never
earns a token in managed or interactive mode; score mode always passes and reports the score.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from humangate.challenges import registry
from humangate.challenges.pow import check_pow
from humangate.loop.context import LoopContext, threshold_of, visual_floor
from humangate.loop.evidence import (
    KEYBOARD,
    MIN_TRACE_POINTS,
    NO_TRACE,
    POINTER_KINDS,
    trace_problem,
    trajectory_problem,
)
from humangate.loop.issue import expired_challenge
from humangate.loop.outcomes import escalate, fail_visitor, keyboard_path, pass_visitor
from humangate.loop.records import Answered, ChallengeState, Signals, Visitor
from humangate.risk.assess import assess, combine_weights
from humangate.risk.base import Assessment, Finding
from humangate.risk.environment import declares_automation
from humangate.risk.pow_rate import pow_rate_findings
from humangate.risk.replay import trace_fingerprints
from humangate.testkeys import FAIL_SITEKEY
from humangate.units import UnitView

AUTOMATION = "automation"  # the reason an owner sees when a declared bot answered right
TYPED = "typed-answer"  # text and audio are typed: no pointer to judge
GUARDED_MODES = ("managed", "interactive")


async def answer(
    ctx: LoopContext,
    unit: UnitView,
    challenge_id: str,
    visitor: Visitor,
    *,
    pow_number: int | None,
    answer: Any,
    trajectory: Any,
    signals: Signals | None = None,
) -> Answered:
    """Consume a challenge and check one answer; pass gives a token, fail a next challenge.

    Raises:
        RateLimited: too many answers from the visitor's network, or keyboard-path answers
            from its device or network.
        Expired: the challenge expired or was already answered.
    """
    signals = signals or Signals()
    await ctx.limits.count_answer(visitor)
    raw = await ctx.store.take("challenge", challenge_id)
    if raw is None:
        raise expired_challenge()
    state = ChallengeState.from_json(raw)
    visitor = replace(visitor, lang=state.lang)
    reason = _check(ctx, state, pow_number=pow_number, answer=answer, trajectory=trajectory)
    if unit.sitekey == FAIL_SITEKEY:
        reason = reason or "wrong-answer"
    if reason:
        return await fail_visitor(ctx, unit, visitor, state, reason, Assessment(score=0.0))
    if state.risk.trusted:
        trusted = Assessment(score=1.0, reasons=(state.risk.trusted,))
        return await pass_visitor(ctx, unit, visitor, state, trusted)
    if state.kind != "pow":
        return await _judge_visual(ctx, unit, visitor, state, signals, answer, trajectory)
    work = _work_findings(ctx, state, pow_number, signals)
    if state.gesture:
        return await _judge_gesture(ctx, unit, visitor, state, signals, work)
    # Invisible and score modes, and the keyboard path's last step: the work is the evidence.
    risk = await _assess(ctx, unit, state, signals, work)
    if unit.mode in GUARDED_MODES and declares_automation(risk.reasons):
        return await fail_visitor(ctx, unit, visitor, state, AUTOMATION, risk)
    return await pass_visitor(ctx, unit, visitor, state, risk)


def _check(
    ctx: LoopContext, state: ChallengeState, *, pow_number: int | None, answer: Any, trajectory: Any
) -> str:
    """Why the answer is wrong, or "" when it is right."""
    if state.kind == "pow":
        return check_pow(state.payload, pow_number, hmac_key=ctx.key).reason
    return registry.check(state.kind, state.answer, answer, trajectory).reason


def _work_findings(
    ctx: LoopContext, state: ChallengeState, pow_number: int | None, signals: Signals
) -> list[Finding]:
    """How fast the proof of work was done, against what the claimed browser can do."""
    return pow_rate_findings(
        (pow_number or 0) + 1,
        signals.pow_elapsed_ms,
        state.risk.mobile,
        server_ms=state.elapsed_ms(ctx.clock()),
    )


async def _judge_gesture(
    ctx: LoopContext,
    unit: UnitView,
    visitor: Visitor,
    state: ChallengeState,
    signals: Signals,
    work: list[Finding],
) -> Answered:
    """Managed mode's first step: the proof of work was right; does the gesture pass?"""
    elapsed = state.elapsed_ms(ctx.clock())
    problem = trace_problem(signals.trace, signals.pointer, elapsed_ms=elapsed)
    if problem:
        return await escalate(ctx, unit, visitor, state, _untraced(state), reason=problem)
    risk = await _assess(ctx, unit, state, signals, work)
    if declares_automation(risk.reasons):
        return await escalate(ctx, unit, visitor, state, risk, reason=AUTOMATION)
    # A replay match steps up whatever the score: people collide rarely, so they only
    # meet a challenge, while a kit reusing a recording never passes on the gesture alone.
    if risk.score < threshold_of(unit) or "replayed-trace" in risk.reasons:
        return await escalate(ctx, unit, visitor, state, risk)
    return await pass_visitor(ctx, unit, visitor, state, risk)


async def _judge_visual(
    ctx: LoopContext,
    unit: UnitView,
    visitor: Visitor,
    state: ChallengeState,
    signals: Signals,
    answer: Any,
    trajectory: Any,
) -> Answered:
    """A right visual or audio answer: is the evidence behind it a person's?"""
    guarded = unit.mode in GUARDED_MODES
    if guarded and declares_automation(_context_reasons(state)):
        return await fail_visitor(ctx, unit, visitor, state, AUTOMATION, _untraced(state))
    if state.noscript:
        # No work can be asked of a page without JavaScript: its raised level and its share of
        # the keyboard path's window are what this answer cost.
        return await pass_visitor(ctx, unit, visitor, state, _untraced(state))
    if state.kind not in POINTER_KINDS:  # typed (text, audio): the keyboard path it is
        return await keyboard_path(ctx, unit, visitor, state, TYPED)
    elapsed = state.elapsed_ms(ctx.clock())
    needed = _clicks(answer) if state.kind == "click" else MIN_TRACE_POINTS
    problem = trace_problem(signals.trace, signals.pointer, elapsed_ms=elapsed, min_points=needed)
    if problem in (KEYBOARD, NO_TRACE):
        return await keyboard_path(ctx, unit, visitor, state, problem)
    if not problem and state.kind in ("slide", "rotate"):
        trace = signals.trace or []
        problem = trajectory_problem(state.kind, trajectory, trace, elapsed_ms=elapsed)
    if problem:
        return await fail_visitor(ctx, unit, visitor, state, problem, _untraced(state))
    risk = await _assess(ctx, unit, state, signals)
    # The behaviour model knows straight drags to a target: the slide puzzle's, not the rotate
    # disc's circles or clicks, which are judged by their recording's presence and timing. The
    # gate judges the hand only: a visitor sent here by a poor environment or a busy network
    # has earned the pass by solving the puzzle with a person's movement.
    gesture = risk.gesture
    if state.kind == "slide" and (gesture is None or gesture < visual_floor(unit)):
        return await fail_visitor(ctx, unit, visitor, state, "suspicious-behaviour", risk)
    if guarded and "replayed-trace" in risk.reasons:
        return await fail_visitor(ctx, unit, visitor, state, "replayed-trace", risk)
    return await pass_visitor(ctx, unit, visitor, state, risk)


async def _assess(
    ctx: LoopContext,
    unit: UnitView,
    state: ChallengeState,
    signals: Signals,
    work: list[Finding] | None = None,
) -> Assessment:
    replayed = False
    if signals.trace and signals.pointer != "keyboard":
        ttl = combine_weights().trace_ttl_seconds
        fresh = await asyncio.gather(
            *(
                ctx.store.put_if_absent("trace", f"{unit.id}:{fingerprint}", b"1", ttl)
                for fingerprint in trace_fingerprints(signals.trace)
            )
        )
        replayed = not all(fresh)
    context = [*state.risk.context, *(work or [])]
    return assess(signals.trace, signals.pointer, context, replayed=replayed)


def _clicks(answer: Any) -> int:
    """How many points a click answer placed: its recording holds an event for each."""
    points = answer.get("points") if isinstance(answer, dict) else None
    return len(points) if isinstance(points, list) else MIN_TRACE_POINTS


def _untraced(state: ChallengeState) -> Assessment:
    """The score of the context alone, as if no gesture had been made."""
    return assess(None, "none", state.risk.context)


def _context_reasons(state: ChallengeState) -> tuple[str, ...]:
    return tuple(finding.reason for finding in state.risk.context)
