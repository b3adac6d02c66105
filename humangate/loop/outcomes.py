"""The three ends of an answer: a token, a failure with the next challenge, or more to do."""

from __future__ import annotations

from humangate.challenges.pow import MAX_DIFFICULTY as MAX_POW_DIFFICULTY
from humangate.loop.context import MAX_LEVEL, LoopContext, visual_floor
from humangate.loop.issue import choose_plan, follow_up
from humangate.loop.records import Answered, ChallengeState, Plan, TokenRecord, Visitor
from humangate.risk.base import Assessment
from humangate.testkeys import FAIL_SITEKEY, is_test_unit
from humangate.tokens import DUMMY_TOKEN, mint_token, token_key
from humangate.units import UnitView

# The one code a client gets for any wrong answer: which part was wrong, or that the answer was
# right but the hand or the browser was not, would teach a bot what to tune. Owners see the
# reason in their events and statistics.
FAILED = "wrong-answer"
MORE = "challenge-required"  # right so far; the next challenge finishes the job
KEYBOARD_POW_FACTOR = 4  # the keyboard path's proof of work against the visitor's current one


async def pass_visitor(
    ctx: LoopContext, unit: UnitView, visitor: Visitor, state: ChallengeState, risk: Assessment
) -> Answered:
    token = await _mint(ctx, unit, state, risk)
    ctx.observe(unit, "passed", visitor=visitor, state=state, risk=risk, token=token)
    return Answered(success=True, token=token, expires_in=ctx.policy.token_ttl)


async def fail_visitor(
    ctx: LoopContext,
    unit: UnitView,
    visitor: Visitor,
    state: ChallengeState,
    reason: str,
    risk: Assessment,
) -> Answered:
    """Count a failure against the network; unless that locks it out, a harder challenge (the
    no-JavaScript page asks the loop for its own next one)."""
    ctx.observe(unit, "failed", reason=reason, visitor=visitor, state=state, risk=risk)
    failures = await ctx.limits.add_failure(unit, visitor)
    if unit.sitekey == FAIL_SITEKEY or ctx.limits.locks_out(failures) or state.noscript:
        return Answered(success=False, error=FAILED)
    level = min(MAX_LEVEL, max(failures, state.level + 1))
    plan = choose_plan(unit, level=level, trusted=False, poor=False)
    risk_next = state.risk.carried(level=level)
    next_challenge = await follow_up(
        ctx, unit, visitor, state, level=level, plan=plan, risk=risk_next
    )
    return Answered(success=False, error=FAILED, next=next_challenge)


async def escalate(
    ctx: LoopContext,
    unit: UnitView,
    visitor: Visitor,
    state: ChallengeState,
    risk: Assessment,
    *,
    reason: str = "",
) -> Answered:
    """A right proof of work without a gesture that passes: a visual challenge, harder the
    poorer the gesture (a missing one is the poorest)."""
    ctx.observe(unit, "escalated", reason=reason, visitor=visitor, state=state, risk=risk)
    level = 2 if reason or risk.score < visual_floor(unit) else 1
    plan = choose_plan(unit, level=level, trusted=False, poor=False)
    next_challenge = await follow_up(
        ctx, unit, visitor, state, level=level, plan=plan, risk=state.risk.carried()
    )
    return Answered(success=False, error=MORE, next=next_challenge)


async def keyboard_path(
    ctx: LoopContext, unit: UnitView, visitor: Visitor, state: ChallengeState, reason: str
) -> Answered:
    """A right visual answer with no pointer to judge: a proof of work at a raised difficulty
    finishes it, so this path costs a bot no less than solving and dragging would."""
    await ctx.limits.count_keyboard_path(unit, state.risk.device, visitor)
    ctx.observe(unit, "escalated", reason=reason, visitor=visitor, state=state)
    carried = state.risk.carried()
    raised = min(MAX_POW_DIFFICULTY, max(unit.pow_difficulty, carried.pow_difficulty))
    work = carried.with_pow(min(MAX_POW_DIFFICULTY, raised * KEYBOARD_POW_FACTOR))
    next_challenge = await follow_up(
        ctx, unit, visitor, state, level=state.level, plan=Plan("pow"), risk=work, after_visual=True
    )
    return Answered(success=False, error=MORE, next=next_challenge)


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
