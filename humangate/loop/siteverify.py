"""Verify a pass token once. The result is a value; api/siteverify.py shapes it as JSON."""

from __future__ import annotations

import asyncio

from humangate.loop.context import LoopContext
from humangate.loop.records import TokenRecord, VerifyResult
from humangate.testkeys import TEST_SECRETS
from humangate.tokens import check_token, token_key
from humangate.units import UnitView

_PENDING = b"pending"
IDEMPOTENT_WAIT_STEPS = 100  # 10 ms each: how long a repeat waits for the first to finish


async def siteverify(
    ctx: LoopContext,
    unit: UnitView,
    token: str,
    *,
    idempotency_key: str = "",
    expected_action: str = "",
) -> VerifyResult:
    """Verify a token once; with an idempotency key, repeats get the first answer."""
    result = await _siteverify(ctx, unit, token, idempotency_key, expected_action)
    if result.success:
        ctx.observe(unit, "verified")
    else:
        ctx.observe(unit, "verify-failed", reason=result.error_codes[0])
    return result


async def _siteverify(
    ctx: LoopContext, unit: UnitView, token: str, idempotency_key: str, expected_action: str
) -> VerifyResult:
    if not idempotency_key:
        return await _verify_once(ctx, unit, token, expected_action)
    idem = f"{unit.id}:{token_key(token)}:{idempotency_key}"
    ttl = ctx.policy.token_ttl
    if await ctx.store.put_if_absent("idem", idem, _PENDING, ttl):
        result = await _verify_once(ctx, unit, token, expected_action)
        await ctx.store.put("idem", idem, result.to_json(), ttl)
        return result
    for _ in range(IDEMPOTENT_WAIT_STEPS):
        stored = await ctx.store.get("idem", idem)
        if stored is None:
            break
        if stored != _PENDING:
            return VerifyResult.from_json(stored)
        await asyncio.sleep(0.01)
    return VerifyResult.failure("timeout-or-duplicate")


async def _verify_once(
    ctx: LoopContext, unit: UnitView, token: str, expected_action: str
) -> VerifyResult:
    check = check_token(ctx.key, token, unit_id=unit.id, now=ctx.clock())
    if not check.valid:
        return VerifyResult.failure("invalid-input-response")
    if check.expired:
        return VerifyResult.failure("timeout-or-duplicate")
    raw = await ctx.store.take("token", token_key(token))
    if raw is None:
        return VerifyResult.failure("timeout-or-duplicate")
    record = TokenRecord.from_json(raw)
    if expected_action and record.action != expected_action:
        return VerifyResult.failure("action-mismatch")
    await ctx.meter.after_verify(unit)  # here, so a repeat with the idempotency key is not told
    return VerifyResult.of_token(record)


def verify_test_secret(secret: str, *, now: int) -> VerifyResult | None:
    """The fixed answer of a published test secret, or None for any other secret."""
    codes = TEST_SECRETS.get(secret)
    if codes is None:
        return None
    if codes:
        return VerifyResult.failure(*codes)
    return VerifyResult(success=True, hostname="example.com", challenge_ts=now)
