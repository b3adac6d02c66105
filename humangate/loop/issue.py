"""Issue a challenge: decide who the visitor is to this unit, what to ask, and keep the state."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import random
from functools import lru_cache

from humangate.challenges import registry
from humangate.challenges.base import Challenge
from humangate.challenges.pow import PowParams, generate_pow
from humangate.device import device_id
from humangate.errors import AccessDenied, Expired
from humangate.loop.context import MAX_LEVEL, LoopContext, visual_floor
from humangate.loop.records import ChallengeState, Issued, Plan, RiskState, Signals, Visitor
from humangate.risk.access import AccessList, crawler_findings, declared_crawler
from humangate.risk.assess import assess, context_findings
from humangate.risk.base import Finding, RateFacts
from humangate.risk.difficulty import pow_difficulty
from humangate.risk.environment import (
    AUTOMATION_REASONS,
    RequestFacts,
    device_class,
    device_class_findings,
)
from humangate.risk.pow_rate import is_mobile
from humangate.units import MAX_DIFFICULTY, UnitView

CRAWLER_CACHE_SECONDS = 86_400
# The no-JavaScript page: text is the one kind a plain form answers, and it starts at the level a
# missing gesture earns in managed mode (outcomes.escalate), since that page has none to show.
NOSCRIPT_PLAN = Plan("text")
NOSCRIPT_RAISE = 2


def expired_challenge() -> Expired:
    return Expired("This challenge expired or was already answered.")


async def issue(
    ctx: LoopContext,
    unit: UnitView,
    visitor: Visitor,
    *,
    action: str = "",
    cdata: str = "",
    signals: Signals | None = None,
) -> Issued:
    """Issue a challenge for `unit`, its kind and difficulty chosen by mode and risk.

    Raises:
        AccessDenied: the unit's deny list holds the visitor's network.
        RateLimited: too many challenges from the visitor's network.
        LockedOut: too many failed answers from the visitor's network on this unit.
    """
    signals = signals or Signals()
    access = _access_list(unit.allow_networks, unit.deny_networks)
    decision = access.decide(visitor.ip) if visitor.ip else None
    if decision == "deny":
        raise AccessDenied("This network may not use this verification.")
    environment = signals.environment or {}
    device = device_id(
        ctx.key, unit.device_salt, environment, visitor.user_agent, signals.first_party
    )
    rate, shared = await asyncio.gather(
        ctx.limits.count_challenge(unit, visitor, device),
        _shared_class(ctx, unit, visitor, environment),
    )
    failures = rate.failures
    crawler = declared_crawler(visitor.user_agent)
    verified = await _verified_crawler(ctx, crawler, visitor)
    trusted = _trust(unit, decision, crawler if verified else None)
    found = [*_context(ctx, signals, visitor, rate, crawler, verified), *shared]
    context = [] if trusted else found
    prior = assess(None, "none", context).score
    level = min(MAX_LEVEL, failures)
    plan = choose_plan(unit, level=level, trusted=bool(trusted), poor=prior < visual_floor(unit))
    risk = RiskState(
        device=device,
        context=tuple(Finding(f.reason, round(f.weight, 4)) for f in context),
        trusted=trusted,
        pow_difficulty=pow_difficulty(unit.pow_difficulty, level=level, facts=rate, score=prior),
        mobile=is_mobile(environment),
    )
    return await start_challenge(
        ctx, unit, visitor, action=action, cdata=cdata, level=level, plan=plan, risk=risk
    )


async def issue_noscript(
    ctx: LoopContext, unit: UnitView, visitor: Visitor, *, action: str = "", cdata: str = ""
) -> Issued:
    """Issue a challenge to a browser without JavaScript: text at a raised level, no proof of
    work (none can be asked), in the keyboard path's network window.

    Raises:
        AccessDenied: the unit's deny list holds the visitor's network.
        RateLimited: too many challenges, or no-JavaScript and keyboard-path ones, from the
            visitor's network.
        LockedOut: too many failed answers from the visitor's network on this unit.
    """
    access = _access_list(unit.allow_networks, unit.deny_networks)
    if visitor.ip and access.decide(visitor.ip) == "deny":
        raise AccessDenied("This network may not use this verification.")
    device = device_id(ctx.key, unit.device_salt, {}, visitor.user_agent, "")
    rate = await ctx.limits.count_challenge(unit, visitor, device)
    await ctx.limits.count_noscript(unit, visitor)
    crawler = declared_crawler(visitor.user_agent)
    context = _context(ctx, Signals(), visitor, rate, crawler, verified=False)
    level = min(MAX_LEVEL, rate.failures + NOSCRIPT_RAISE)
    risk = RiskState(
        device=device, context=tuple(Finding(f.reason, round(f.weight, 4)) for f in context)
    )
    return await start_challenge(
        ctx,
        unit,
        visitor,
        action=action,
        cdata=cdata,
        level=level,
        plan=NOSCRIPT_PLAN,
        risk=risk,
        noscript=True,
    )


async def start_challenge(
    ctx: LoopContext,
    unit: UnitView,
    visitor: Visitor,
    *,
    action: str,
    cdata: str,
    level: int,
    plan: Plan,
    risk: RiskState,
    after_visual: bool = False,
    noscript: bool = False,
) -> Issued:
    """Make a challenge of the planned kind and keep its state until its one answer."""
    await ctx.meter.before_issue(unit)
    kind = plan.kind
    moment = ctx.clock()
    now = int(moment)
    ttl = ctx.policy.challenge_ttl
    if kind == "pow":
        params = PowParams(difficulty=risk.pow_difficulty, hmac_key=ctx.key, expires_at=now + ttl)
        challenge = generate_pow(ctx.new_rng(), params)
    else:
        visual_level = min(MAX_DIFFICULTY, unit.difficulty + level)
        challenge = await ctx.pool.take(kind, visual_level, visitor.lang)
    state = ChallengeState(
        unit_id=unit.id,
        sitekey=unit.sitekey,
        kind=kind,
        answer=challenge.answer,
        payload=challenge.payload if kind == "pow" else None,
        hostname=visitor.hostname,
        action=action,
        cdata=cdata,
        level=level,
        lang=visitor.lang,
        issued_at=now,
        mode=unit.mode,
        gesture=plan.gesture,
        risk=risk,
        issued_ms=moment * 1000.0,
        after_visual=after_visual,
        noscript=noscript,
    )
    challenge_id = ctx.new_id()
    await ctx.store.put("challenge", challenge_id, state.to_json(), ttl)
    ctx.observe(unit, "issued", kind=kind)
    return Issued(
        id=challenge_id, kind=kind, expires_in=ttl, payload=challenge.payload, gesture=plan.gesture
    )


async def switch_to_audio(
    ctx: LoopContext, unit: UnitView, challenge_id: str, visitor: Visitor
) -> Issued:
    """Trade a live visual challenge for an audio one at the same level (accessibility)."""
    raw = await ctx.store.take("challenge", challenge_id)
    if raw is None:
        raise expired_challenge()
    state = ChallengeState.from_json(raw)
    await ctx.limits.count_issue(visitor)
    return await follow_up(
        ctx,
        unit,
        visitor,
        state,
        level=state.level,
        plan=Plan("audio"),
        risk=state.risk.carried(),
        noscript=state.noscript,
    )


async def follow_up(
    ctx: LoopContext,
    unit: UnitView,
    visitor: Visitor,
    state: ChallengeState,
    *,
    level: int,
    plan: Plan,
    risk: RiskState,
    after_visual: bool = False,
    noscript: bool = False,
) -> Issued:
    """The challenge that follows `state`'s, for the same action and data."""
    return await start_challenge(
        ctx,
        unit,
        visitor,
        action=state.action,
        cdata=state.cdata,
        level=level,
        plan=plan,
        risk=risk,
        after_visual=after_visual,
        noscript=noscript,
    )


def choose_plan(unit: UnitView, *, level: int, trusted: bool, poor: bool) -> Plan:
    """What to ask of a visitor at `level` (failures so far, or risk after a poor gesture).

    Invisible and score modes, and trusted visitors, only ever work a proof of work. Managed
    starts with the proof of work plus a gesture to score and turns visual after a failure or
    a poor score; interactive is always visual. Each level moves one step along the unit's
    kinds, from the least to the most demanding (the unit's kinds are kept in that order).
    """
    if trusted or unit.mode in ("invisible", "score"):
        return Plan("pow")
    if unit.mode == "managed":
        if level == 0 and not poor:
            return Plan("pow", gesture=True)
        level = max(0, level - 1)
    return Plan(unit.kinds[min(level, len(unit.kinds) - 1)])


def generate_visual(kind: str, rng: random.Random, level: int, lang: str) -> Challenge:
    return registry.generate(kind, rng, level=level, lang=lang)


def _context(
    ctx: LoopContext,
    signals: Signals,
    visitor: Visitor,
    rate: RateFacts,
    crawler: str | None,
    verified: bool,
) -> list[Finding]:
    """What is found before any gesture: the environment, the rates, a declared crawler."""
    region = ctx.regions.lookup(visitor.ip) if ctx.regions and visitor.ip else None
    facts = RequestFacts(
        user_agent=visitor.user_agent,
        accept_language=visitor.accept_language,
        ip_prefix=visitor.ip_prefix,
        region=region,
    )
    findings = [
        *context_findings(signals.environment, facts, rate),
        *crawler_findings(crawler, verified),
    ]
    if ctx.monitoring is not None and visitor.ip and ctx.monitoring.decide(visitor.ip) == "allow":
        # The operator's own automation: judged on everything but saying what it is.
        return [finding for finding in findings if finding.reason not in AUTOMATION_REASONS]
    return findings


async def _shared_class(
    ctx: LoopContext, unit: UnitView, visitor: Visitor, environment: dict[str, object]
) -> list[Finding]:
    """One desktop canvas and WebGL hash from many networks at once (phones are not counted)."""
    kind = device_class(environment)
    if kind is None or is_mobile(environment):
        return []
    networks, everyone = await ctx.limits.count_device_class(unit, kind, visitor)
    return device_class_findings(networks, everyone, mobile=False)


async def _verified_crawler(ctx: LoopContext, crawler: str | None, visitor: Visitor) -> bool:
    """Forward-confirmed reverse DNS of a declared crawler, cached for a day per address.

    The cache is keyed by an HMAC of the address, so the store never holds a full IP.
    """
    if crawler is None or not visitor.ip or ctx.crawler_check is None:
        return False
    message = f"crawler-cache:{crawler}:{visitor.ip}".encode()
    key = hmac.new(ctx.key, message, hashlib.sha256).hexdigest()[:32]
    cached = await ctx.store.get("crawler", key)
    if cached is None:
        cached = b"1" if await ctx.crawler_check(crawler, visitor.ip) else b"0"
        await ctx.store.put("crawler", key, cached, CRAWLER_CACHE_SECONDS)
    return cached == b"1"


@lru_cache(maxsize=1024)
def _access_list(allow: tuple[str, ...], deny: tuple[str, ...]) -> AccessList:
    """A unit's lists, parsed once per distinct content rather than on every challenge."""
    return AccessList.from_strings(allow, deny)


def _trust(unit: UnitView, decision: str | None, verified_crawler: str | None) -> str:
    """Why this visitor skips scoring ("allow-listed", "crawler:<name>"), or ""."""
    if decision == "allow":
        return "allow-listed"
    if verified_crawler is not None and verified_crawler in unit.good_bots:
        return f"crawler:{verified_crawler}"
    return ""
