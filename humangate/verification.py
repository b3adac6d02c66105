"""The verification loop: issue a challenge, check an answer, mint and verify a pass token.

Pure challenge code lives in `challenges/`; this module adds the hot-state store, the clock and
randomness from `secrets`. Rejections of a request are raised as `Rejected`; every outcome of a
well-formed request (a wrong answer, a spent token) is a returned value.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from humangate.challenges import registry
from humangate.challenges.base import Challenge
from humangate.challenges.pow import PowParams, check_pow, generate_pow
from humangate.db.events import EventRecord
from humangate.device import device_id
from humangate.errors import HumanGateError
from humangate.pool import ChallengePool
from humangate.risk.access import AccessList, crawler_findings, declared_crawler
from humangate.risk.assess import (
    Pointer,
    assess,
    combine_weights,
    context_findings,
    default_threshold,
    findings_from_json,
    findings_to_json,
)
from humangate.risk.base import Assessment, Point, RateFacts
from humangate.risk.difficulty import pow_difficulty
from humangate.risk.environment import RegionTable, RequestFacts
from humangate.risk.replay import trace_fingerprints
from humangate.store import Store
from humangate.testkeys import FAIL_SITEKEY, TEST_SECRETS, is_test_unit
from humangate.tokens import DUMMY_TOKEN, check_token, mint_token, token_key
from humangate.units import MAX_DIFFICULTY, UnitView

MAX_LEVEL = 4  # how far failures raise a visitor above the unit's base difficulty
_PENDING = b"pending"
CrawlerCheck = Callable[[str, str], Awaitable[bool]]
EventSink = Callable[[EventRecord], None]
StatSink = Callable[[int, str, str], None]  # unit id, metric, key (see humangate/stats.py)


class Rejected(HumanGateError):
    """A request the loop refuses; maps to a 4xx answer with an error code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def expired_challenge() -> Rejected:
    return Rejected(410, "expired-or-used", "This challenge expired or was already answered.")


@dataclass(frozen=True, slots=True)
class Policy:
    """Limits of the loop, taken from the settings."""

    challenge_ttl: int = 120
    token_ttl: int = 300
    challenges_per_minute: int = 120
    answers_per_minute: int = 120
    failure_window: int = 600
    lockout_failures: int = 12  # failed answers from one network on one unit within the window


@dataclass(frozen=True, slots=True)
class Visitor:
    """What the loop knows of the requester. Only the truncated IP is ever stored or counted;
    the full address serves the unit's allow/deny lists and crawler checks, then is forgotten."""

    ip_prefix: str
    hostname: str
    lang: str = "en"
    ip: str = ""
    user_agent: str = ""
    accept_language: str = ""


@dataclass(frozen=True, slots=True)
class Signals:
    """What the widget observed: its environment at issue, its gesture at answer."""

    environment: Mapping[str, object] | None = None
    first_party: str = ""
    trace: list[Point] | None = None
    pointer: Pointer = "none"


@dataclass(frozen=True, slots=True)
class Plan:
    kind: str
    gesture: bool = False


class Verifier:
    """The loop over one store; stateless itself, so any number of nodes can share the store."""

    def __init__(
        self,
        store: Store,
        *,
        key: bytes,
        policy: Policy | None = None,
        pool: ChallengePool | None = None,
        crawler_check: CrawlerCheck | None = None,
        events: EventSink | None = None,
        regions: RegionTable | None = None,
        stats: StatSink | None = None,
    ) -> None:
        self._store = store
        self._key = key
        self._policy = policy or Policy()
        self._pool = pool or ChallengePool(generate_visual, size=0)
        self._crawler_check = crawler_check
        self._events = events
        self._regions = regions
        self._stats = stats

    async def issue(
        self,
        unit: UnitView,
        visitor: Visitor,
        *,
        action: str = "",
        cdata: str = "",
        signals: Signals | None = None,
    ) -> dict[str, Any]:
        """Issue a challenge for `unit`, its kind and difficulty chosen by mode and risk."""
        signals = signals or Signals()
        access = _access_list(unit.allow_networks, unit.deny_networks)
        decision = access.decide(visitor.ip) if visitor.ip else None
        if decision == "deny":
            raise Rejected(403, "access-denied", "This network may not use this verification.")
        issued = await self._count_issue(visitor)
        failures = await self._failures(unit, visitor)
        if failures >= self._policy.lockout_failures:
            raise Rejected(429, "locked-out", "Too many failed attempts from this network; wait.")
        device = device_id(
            self._key,
            unit.device_salt,
            signals.environment or {},
            visitor.user_agent,
            signals.first_party,
        )
        rate = await self._rate(unit, device, network=issued, failures=failures)
        crawler = declared_crawler(visitor.user_agent)
        verified = await self._verified_crawler(crawler, visitor)
        trusted = _trust(unit, decision, crawler if verified else None)
        context = (
            []
            if trusted
            else [
                *context_findings(signals.environment, self._request_facts(visitor), rate),
                *crawler_findings(crawler, verified),
            ]
        )
        prior = assess(None, "none", context).score
        level = min(MAX_LEVEL, failures)
        plan = choose_plan(unit, level=level, trusted=bool(trusted), poor=prior < self._floor(unit))
        risk = {
            "device": device,
            "context": findings_to_json(context),
            "trusted": trusted,
            "pow_difficulty": pow_difficulty(
                unit.pow_difficulty, level=level, facts=rate, score=prior
            ),
        }
        return await self._issue(
            unit, visitor, action=action, cdata=cdata, level=level, plan=plan, risk=risk
        )

    async def _count_issue(self, visitor: Visitor) -> int:
        """Count a challenge for the visitor's network; refuse beyond the per-minute limit."""
        issued = await self._store.hit("rate", f"issue:{visitor.ip_prefix}", 60)
        if issued > self._policy.challenges_per_minute:
            raise Rejected(429, "rate-limited", "Too many challenges from this network; wait.")
        return issued

    async def _rate(self, unit: UnitView, device: str, *, network: int, failures: int) -> RateFacts:
        per_device = await self._store.hit("rate", f"device:{unit.id}:{device}", 60)
        per_unit = await self._store.hit("rate", f"unit:{unit.id}", 60)
        per_hour = await self._store.hit("rate", f"unit-hour:{unit.id}", 3600)
        return RateFacts(
            network_per_minute=network,
            device_per_minute=per_device,
            unit_per_minute=per_unit,
            unit_baseline_per_minute=per_hour / 60,
            failures=failures,
        )

    async def _verified_crawler(self, crawler: str | None, visitor: Visitor) -> bool:
        """Forward-confirmed reverse DNS of a declared crawler, cached for a day per address.

        The cache is keyed by an HMAC of the address, so the store never holds a full IP.
        """
        if crawler is None or not visitor.ip or self._crawler_check is None:
            return False
        message = f"crawler-cache:{crawler}:{visitor.ip}".encode()
        key = hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]
        cached = await self._store.get("crawler", key)
        if cached is None:
            cached = b"1" if await self._crawler_check(crawler, visitor.ip) else b"0"
            await self._store.put("crawler", key, cached, 86_400)
        return cached == b"1"

    def _request_facts(self, visitor: Visitor) -> RequestFacts:
        region = self._regions.lookup(visitor.ip) if self._regions and visitor.ip else None
        return RequestFacts(
            user_agent=visitor.user_agent,
            accept_language=visitor.accept_language,
            ip_prefix=visitor.ip_prefix,
            region=region,
        )

    def _floor(self, unit: UnitView) -> float:
        return unit.threshold(default_threshold()) * combine_weights().visual_floor_fraction

    async def _issue(
        self,
        unit: UnitView,
        visitor: Visitor,
        *,
        action: str,
        cdata: str,
        level: int,
        plan: Plan,
        risk: dict[str, Any],
    ) -> dict[str, Any]:
        kind = plan.kind
        now = int(time.time())
        if kind == "pow":
            difficulty = int(risk["pow_difficulty"])
            params = PowParams(
                difficulty=difficulty,
                hmac_key=self._key,
                expires_at=now + self._policy.challenge_ttl,
            )
            challenge = generate_pow(random.Random(secrets.randbits(128)), params)
        else:
            visual_level = min(MAX_DIFFICULTY, unit.difficulty + level)
            challenge = await self._pool.take(kind, visual_level, visitor.lang)
        challenge_id = secrets.token_urlsafe(16)
        state = {
            "unit_id": unit.id,
            "sitekey": unit.sitekey,
            "kind": kind,
            "answer": challenge.answer,
            "payload": challenge.payload if kind == "pow" else None,
            "hostname": visitor.hostname,
            "action": action,
            "cdata": cdata,
            "level": level,
            "lang": visitor.lang,
            "issued_at": now,
            "mode": unit.mode,
            "gesture": plan.gesture,
            **risk,
        }
        await self._store.put(
            "challenge", challenge_id, json.dumps(state).encode(), self._policy.challenge_ttl
        )
        self._count(unit, "issued", kind)
        issued = {
            "id": challenge_id,
            "kind": kind,
            "expires_in": self._policy.challenge_ttl,
            kind: challenge.payload,
        }
        if plan.gesture:
            issued["gesture"] = True
        return issued

    async def _failures(self, unit: UnitView, visitor: Visitor) -> int:
        raw = await self._store.get("fail", f"{unit.id}:{visitor.ip_prefix}")
        return int(raw) if raw else 0

    async def peek(self, challenge_id: str) -> dict[str, Any] | None:
        """The stored state of a live challenge, without consuming it."""
        raw = await self._store.get("challenge", challenge_id)
        return json.loads(raw) if raw else None

    async def answer(
        self,
        unit: UnitView,
        challenge_id: str,
        visitor: Visitor,
        *,
        pow_number: int | None,
        answer: Any,
        trajectory: Any,
        signals: Signals | None = None,
    ) -> dict[str, Any]:
        """Consume a challenge and check one answer; pass gives a token, fail a next challenge.

        A correct answer is then scored: a poor managed gesture earns a visual challenge
        ("challenge-required"), a script-like drag of a slide puzzle is refused
        ("suspicious-behaviour"); score mode always passes and reports the score.
        """
        signals = signals or Signals()
        answered = await self._store.hit("rate", f"answer:{visitor.ip_prefix}", 60)
        if answered > self._policy.answers_per_minute:
            raise Rejected(429, "rate-limited", "Too many answers from this network; wait.")
        raw = await self._store.take("challenge", challenge_id)
        if raw is None:
            raise expired_challenge()
        state = json.loads(raw)
        visitor = replace(visitor, lang=state["lang"])
        reason = self._check(state, pow_number=pow_number, answer=answer, trajectory=trajectory)
        if unit.sitekey == FAIL_SITEKEY:
            reason = reason or "wrong-answer"
        if reason:
            return await self._fail(unit, visitor, state, reason, Assessment(score=0.0))
        if state.get("trusted"):
            risk = Assessment(score=1.0, reasons=(state["trusted"],))
            return await self._pass(unit, visitor, state, risk)
        risk = await self._assess(unit, state, signals)
        threshold = unit.threshold(default_threshold())
        # A replay match steps up whatever the score: people collide rarely, so they only
        # meet a challenge, while a kit reusing a recording never passes on the gesture alone.
        poor = risk.score < threshold or "replayed-trace" in risk.reasons
        if state["kind"] == "pow" and state.get("gesture") and poor:
            self._record(unit, visitor, state, "escalated", risk)
            self._count(unit, "escalated", state["kind"])
            level = 2 if risk.score < self._floor(unit) else 1
            plan = choose_plan(unit, level=level, trusted=False, poor=False)
            risk_state = {**_risk_state(state), "pow_difficulty": state["pow_difficulty"]}
            next_challenge = await self._issue(
                unit,
                visitor,
                action=state["action"],
                cdata=state["cdata"],
                level=level,
                plan=plan,
                risk=risk_state,
            )
            # The reasons go to the owner (siteverify, events), never to the client: they would
            # tell a bot author what to tune.
            return {"success": False, "error": "challenge-required", "next": next_challenge}
        # The behaviour model knows straight drags to a target: the slide puzzle's, not the
        # rotate disc's circles or clicks; those kinds are judged by their answer alone. The
        # gate judges the hand only: a visitor sent here by a poor environment or a busy network
        # has earned the pass by solving the puzzle with a person's movement.
        gesture = risk.gesture
        if state["kind"] == "slide" and gesture is not None and gesture < self._floor(unit):
            return await self._fail(unit, visitor, state, "suspicious-behaviour", risk)
        return await self._pass(unit, visitor, state, risk)

    async def _assess(self, unit: UnitView, state: dict[str, Any], signals: Signals) -> Assessment:
        replayed = False
        if signals.trace and signals.pointer != "keyboard":
            ttl = combine_weights().trace_ttl_seconds
            for fingerprint in trace_fingerprints(signals.trace):
                fresh = await self._store.put_if_absent(
                    "trace", f"{unit.id}:{fingerprint}", b"1", ttl
                )
                replayed = replayed or not fresh
        context = findings_from_json(state.get("context", []))
        return assess(signals.trace, signals.pointer, context, replayed=replayed)

    async def _pass(
        self, unit: UnitView, visitor: Visitor, state: dict[str, Any], risk: Assessment
    ) -> dict[str, Any]:
        token = await self._mint(unit, state, risk)
        self._record(unit, visitor, state, "passed", risk, token=token)
        self._count(unit, "passed", state["kind"])
        return {"success": True, "token": token, **self._token_life()}

    async def _fail(
        self,
        unit: UnitView,
        visitor: Visitor,
        state: dict[str, Any],
        reason: str,
        risk: Assessment,
    ) -> dict[str, Any]:
        self._record(unit, visitor, state, "failed", risk)
        self._count(unit, "failed", reason)
        failures = await self._store.hit(
            "fail", f"{unit.id}:{visitor.ip_prefix}", self._policy.failure_window
        )
        next_challenge = None
        if unit.sitekey != FAIL_SITEKEY and failures < self._policy.lockout_failures:
            level = min(MAX_LEVEL, max(failures, int(state["level"]) + 1))
            plan = choose_plan(unit, level=level, trusted=False, poor=False)
            next_challenge = await self._issue(
                unit,
                visitor,
                action=state["action"],
                cdata=state["cdata"],
                level=level,
                plan=plan,
                risk=_risk_state(state, level=level),
            )
        return {"success": False, "error": reason, "next": next_challenge}

    def _record(
        self,
        unit: UnitView,
        visitor: Visitor,
        state: dict[str, Any],
        outcome: str,
        risk: Assessment,
        *,
        token: str | None = None,
    ) -> None:
        if self._events is None or is_test_unit(unit):
            return
        self._events(
            EventRecord(
                unit_id=unit.id,
                created_at=datetime.now(UTC),
                device_id=str(state.get("device", "")),
                ip_prefix=visitor.ip_prefix,
                kind=state["kind"],
                mode=str(state.get("mode", unit.mode)),
                outcome=outcome,
                score=round(risk.score, 4),
                reasons=risk.reasons,
                features={name: round(value, 4) for name, value in risk.features.items()},
                token_digest=token_key(token) if token else None,
            )
        )

    def _count(self, unit: UnitView, metric: str, key: str = "") -> None:
        if self._stats is not None and not is_test_unit(unit):
            self._stats(unit.id, metric, key)

    def _check(
        self, state: dict[str, Any], *, pow_number: int | None, answer: Any, trajectory: Any
    ) -> str:
        if state["kind"] == "pow":
            return check_pow(state["payload"], pow_number, hmac_key=self._key).reason
        return registry.check(state["kind"], state["answer"], answer, trajectory).reason

    async def switch_to_audio(
        self, unit: UnitView, challenge_id: str, visitor: Visitor
    ) -> dict[str, Any]:
        """Trade a live visual challenge for an audio one at the same level (accessibility)."""
        raw = await self._store.take("challenge", challenge_id)
        if raw is None:
            raise expired_challenge()
        state = json.loads(raw)
        await self._count_issue(visitor)
        return await self._issue(
            unit,
            visitor,
            action=state["action"],
            cdata=state["cdata"],
            level=int(state["level"]),
            plan=Plan("audio"),
            risk=_risk_state(state),
        )

    def _token_life(self) -> dict[str, int]:
        return {"expires_in": self._policy.token_ttl}

    async def _mint(self, unit: UnitView, state: dict[str, Any], risk: Assessment) -> str:
        if is_test_unit(unit):
            return DUMMY_TOKEN
        now = int(time.time())
        token = mint_token(self._key, unit_id=unit.id, expires_at=now + self._policy.token_ttl)
        record = {
            "hostname": state["hostname"],
            "action": state["action"],
            "cdata": state["cdata"],
            "challenge_ts": now,
            "kind": state["kind"],
            "score": round(risk.score, 3),
            "reasons": list(risk.reasons),
        }
        await self._store.put(
            "token", token_key(token), json.dumps(record).encode(), self._policy.token_ttl
        )
        return token

    async def siteverify(
        self,
        unit: UnitView,
        token: str,
        *,
        idempotency_key: str = "",
        expected_action: str = "",
    ) -> dict[str, Any]:
        """Verify a token once; with an idempotency key, repeats get the first answer."""
        result = await self._siteverify(unit, token, idempotency_key, expected_action)
        if result["success"]:
            self._count(unit, "verified")
        else:
            self._count(unit, "verify-failed", result["error-codes"][0])
        return result

    async def _siteverify(
        self, unit: UnitView, token: str, idempotency_key: str, expected_action: str
    ) -> dict[str, Any]:
        if not idempotency_key:
            return await self._verify_once(unit, token, expected_action)
        idem = f"{unit.id}:{token_key(token)}:{idempotency_key}"
        if await self._store.put_if_absent("idem", idem, _PENDING, self._policy.token_ttl):
            result = await self._verify_once(unit, token, expected_action)
            await self._store.put("idem", idem, json.dumps(result).encode(), self._policy.token_ttl)
            return result
        for _ in range(100):
            stored = await self._store.get("idem", idem)
            if stored is None:
                break
            if stored != _PENDING:
                return dict(json.loads(stored))
            await asyncio.sleep(0.01)
        return verify_failure(["timeout-or-duplicate"])

    async def _verify_once(
        self, unit: UnitView, token: str, expected_action: str
    ) -> dict[str, Any]:
        check = check_token(self._key, token, unit_id=unit.id, now=time.time())
        if not check.valid:
            return verify_failure(["invalid-input-response"])
        if check.expired:
            return verify_failure(["timeout-or-duplicate"])
        raw = await self._store.take("token", token_key(token))
        if raw is None:
            return verify_failure(["timeout-or-duplicate"])
        record = json.loads(raw)
        if expected_action and record["action"] != expected_action:
            return verify_failure(["action-mismatch"])
        return verify_success(
            hostname=record["hostname"],
            challenge_ts=record["challenge_ts"],
            action=record["action"],
            cdata=record["cdata"],
            score=record.get("score"),
            reasons=record.get("reasons", []),
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


def verify_success(
    *,
    hostname: str,
    challenge_ts: int,
    action: str,
    cdata: str,
    score: float | None = None,
    reasons: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "success": True,
        "challenge_ts": _iso(challenge_ts),
        "hostname": hostname,
        "error-codes": [],
        "action": action,
        "cdata": cdata,
        "score": score,
        "score_reasons": reasons or [],
    }


def verify_failure(codes: list[str]) -> dict[str, Any]:
    return {"success": False, "error-codes": codes}


def verify_test_secret(secret: str) -> dict[str, Any] | None:
    """The fixed answer of a published test secret, or None for any other secret."""
    codes = TEST_SECRETS.get(secret)
    if codes is None:
        return None
    if codes:
        return verify_failure(list(codes))
    return verify_success(
        hostname="example.com", challenge_ts=int(time.time()), action="", cdata=""
    )


def _risk_state(state: dict[str, Any], *, level: int | None = None) -> dict[str, Any]:
    """The risk part of a challenge's state, carried over to the challenge that follows it."""
    return {
        "device": state.get("device", ""),
        "context": state.get("context", []),
        "trusted": state.get("trusted", ""),
        "pow_difficulty": int(state.get("pow_difficulty", 0)) * (2 if level else 1),
    }


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


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
