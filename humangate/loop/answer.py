"""Answer a challenge: consume it, check the answer, judge the gesture, then pass or fail.

A correct answer is then scored: a poor managed gesture earns a visual challenge
("challenge-required"), a script-like drag of a slide puzzle is refused ("suspicious-behaviour");
score mode always passes and reports the score.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from humangate.challenges import registry
from humangate.challenges.pow import check_pow
from humangate.loop.context import MAX_LEVEL, LoopContext, threshold_of, visual_floor
from humangate.loop.issue import choose_plan, expired_challenge, start_challenge
from humangate.loop.records import Answered, ChallengeState, Signals, TokenRecord, Visitor
from humangate.risk.assess import assess, combine_weights
from humangate.risk.base import Assessment
from humangate.risk.replay import trace_fingerprints
from humangate.testkeys import FAIL_SITEKEY, is_test_unit
from humangate.tokens import DUMMY_TOKEN, mint_token, token_key
from humangate.units import UnitView


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
        RateLimited: too many answers from the visitor's network.
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
        return await _fail(ctx, unit, visitor, state, reason, Assessment(score=0.0))
    if state.risk.trusted:
        trusted = Assessment(score=1.0, reasons=(state.risk.trusted,))
        return await _pass(ctx, unit, visitor, state, trusted)
    risk = await _assess(ctx, unit, state, signals)
    # A replay match steps up whatever the score: people collide rarely, so they only
    # meet a challenge, while a kit reusing a recording never passes on the gesture alone.
    poor = risk.score < threshold_of(unit) or "replayed-trace" in risk.reasons
    if state.kind == "pow" and state.gesture and poor:
        return await _escalate(ctx, unit, visitor, state, risk)
    # The behaviour model knows straight drags to a target: the slide puzzle's, not the
    # rotate disc's circles or clicks; those kinds are judged by their answer alone. The
    # gate judges the hand only: a visitor sent here by a poor environment or a busy network
    # has earned the pass by solving the puzzle with a person's movement.
    gesture = risk.gesture
    if state.kind == "slide" and gesture is not None and gesture < visual_floor(unit):
        return await _fail(ctx, unit, visitor, state, "suspicious-behaviour", risk)
    return await _pass(ctx, unit, visitor, state, risk)


def _check(
    ctx: LoopContext, state: ChallengeState, *, pow_number: int | None, answer: Any, trajectory: Any
) -> str:
    """Why the answer is wrong, or "" when it is right."""
    if state.kind == "pow":
        return check_pow(state.payload, pow_number, hmac_key=ctx.key).reason
    return registry.check(state.kind, state.answer, answer, trajectory).reason


async def _assess(
    ctx: LoopContext, unit: UnitView, state: ChallengeState, signals: Signals
) -> Assessment:
    replayed = False
    if signals.trace and signals.pointer != "keyboard":
        ttl = combine_weights().trace_ttl_seconds
        for fingerprint in trace_fingerprints(signals.trace):
            fresh = await ctx.store.put_if_absent("trace", f"{unit.id}:{fingerprint}", b"1", ttl)
            replayed = replayed or not fresh
    return assess(signals.trace, signals.pointer, state.risk.context, replayed=replayed)


async def _escalate(
    ctx: LoopContext, unit: UnitView, visitor: Visitor, state: ChallengeState, risk: Assessment
) -> Answered:
    """A right proof of work with a poor gesture: a visual challenge, harder the poorer."""
    ctx.observe(unit, "escalated", visitor=visitor, state=state, risk=risk)
    level = 2 if risk.score < visual_floor(unit) else 1
    next_challenge = await start_challenge(
        ctx,
        unit,
        visitor,
        action=state.action,
        cdata=state.cdata,
        level=level,
        plan=choose_plan(unit, level=level, trusted=False, poor=False),
        risk=state.risk.carried(),
    )
    # The reasons go to the owner (siteverify, events), never to the client: they would
    # tell a bot author what to tune.
    return Answered(success=False, error="challenge-required", next=next_challenge)


async def _pass(
    ctx: LoopContext, unit: UnitView, visitor: Visitor, state: ChallengeState, risk: Assessment
) -> Answered:
    token = await _mint(ctx, unit, state, risk)
    ctx.observe(unit, "passed", visitor=visitor, state=state, risk=risk, token=token)
    return Answered(success=True, token=token, expires_in=ctx.policy.token_ttl)


async def _fail(
    ctx: LoopContext,
    unit: UnitView,
    visitor: Visitor,
    state: ChallengeState,
    reason: str,
    risk: Assessment,
) -> Answered:
    ctx.observe(unit, "failed", reason=reason, visitor=visitor, state=state, risk=risk)
    failures = await ctx.limits.add_failure(unit, visitor)
    if unit.sitekey == FAIL_SITEKEY or ctx.limits.locks_out(failures):
        return Answered(success=False, error=reason)
    level = min(MAX_LEVEL, max(failures, state.level + 1))
    next_challenge = await start_challenge(
        ctx,
        unit,
        visitor,
        action=state.action,
        cdata=state.cdata,
        level=level,
        plan=choose_plan(unit, level=level, trusted=False, poor=False),
        risk=state.risk.carried(level=level),
    )
    return Answered(success=False, error=reason, next=next_challenge)


async def _mint(ctx: LoopContext, unit: UnitView, state: ChallengeState, risk: Assessment) -> str:
    if is_test_unit(unit):
        return DUMMY_TOKEN
    await ctx.meter.before_mint(unit)
    now = ctx.now()
    ttl = ctx.policy.token_ttl
    token = mint_token(ctx.key, unit_id=unit.id, expires_at=now + ttl, random=ctx.entropy(16))
    record = TokenRecord(
        hostname=state.hostname,
        action=state.action,
        cdata=state.cdata,
        challenge_ts=now,
        kind=state.kind,
        score=round(risk.score, 3),
        reasons=risk.reasons,
    )
    await ctx.store.put("token", token_key(token), record.to_json(), ttl)
    return token
