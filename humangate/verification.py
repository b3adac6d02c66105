"""The verification loop: issue a challenge, check an answer, mint and verify a pass token.

Pure challenge code lives in `challenges/`; this module adds the hot-state store, the clock and
randomness from `secrets`. Rejections of a request are raised as `Rejected`; every outcome of a
well-formed request (a wrong answer, a spent token) is a returned value.
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from humangate.challenges import registry
from humangate.challenges.base import Challenge
from humangate.challenges.pow import PowParams, check_pow, generate_pow
from humangate.errors import HumanGateError
from humangate.pool import ChallengePool
from humangate.store import Store
from humangate.testkeys import FAIL_SITEKEY, TEST_SECRETS, is_test_unit
from humangate.tokens import DUMMY_TOKEN, check_token, mint_token, token_key
from humangate.units import MAX_DIFFICULTY, UnitView

MAX_LEVEL = 4  # how far failures raise a visitor above the unit's base difficulty
_PENDING = b"pending"


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


@dataclass(frozen=True, slots=True)
class Visitor:
    """What the loop knows of the requester: a truncated IP and the page's host name."""

    ip_prefix: str
    hostname: str
    lang: str = "en"


class Verifier:
    """The loop over one store; stateless itself, so any number of nodes can share the store."""

    def __init__(
        self,
        store: Store,
        *,
        key: bytes,
        policy: Policy | None = None,
        pool: ChallengePool | None = None,
    ) -> None:
        self._store = store
        self._key = key
        self._policy = policy or Policy()
        self._pool = pool or ChallengePool(generate_visual, size=0)

    async def issue(
        self, unit: UnitView, visitor: Visitor, *, action: str = "", cdata: str = ""
    ) -> dict[str, Any]:
        """Issue a challenge for `unit`, its kind and difficulty chosen by mode and risk."""
        issued = await self._store.hit("rate", f"issue:{visitor.ip_prefix}", 60)
        if issued > self._policy.challenges_per_minute:
            raise Rejected(429, "rate-limited", "Too many challenges from this network; wait.")
        failures = await self._failures(unit, visitor)
        level = min(MAX_LEVEL, failures)
        return await self._issue(unit, visitor, action=action, cdata=cdata, level=level)

    async def _issue(
        self,
        unit: UnitView,
        visitor: Visitor,
        *,
        action: str,
        cdata: str,
        level: int,
        kind: str | None = None,
    ) -> dict[str, Any]:
        kind = kind or choose_kind(unit, level=level)
        now = int(time.time())
        if kind == "pow":
            difficulty = unit.pow_difficulty * (2**level)
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
        }
        await self._store.put(
            "challenge", challenge_id, json.dumps(state).encode(), self._policy.challenge_ttl
        )
        return {
            "id": challenge_id,
            "kind": kind,
            "expires_in": self._policy.challenge_ttl,
            kind: challenge.payload,
        }

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
    ) -> dict[str, Any]:
        """Consume a challenge and check one answer; pass gives a token, fail a next challenge."""
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
        if not reason:
            return {"success": True, "token": await self._mint(unit, state), **self._token_life()}
        failures = await self._store.hit(
            "fail", f"{unit.id}:{visitor.ip_prefix}", self._policy.failure_window
        )
        next_challenge = None
        if unit.sitekey != FAIL_SITEKEY:
            level = min(MAX_LEVEL, max(failures, int(state["level"]) + 1))
            next_challenge = await self._issue(
                unit, visitor, action=state["action"], cdata=state["cdata"], level=level
            )
        return {"success": False, "error": reason, "next": next_challenge}

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
        issued = await self._store.hit("rate", f"issue:{visitor.ip_prefix}", 60)
        if issued > self._policy.challenges_per_minute:
            raise Rejected(429, "rate-limited", "Too many challenges from this network; wait.")
        return await self._issue(
            unit,
            visitor,
            action=state["action"],
            cdata=state["cdata"],
            level=int(state["level"]),
            kind="audio",
        )

    def _token_life(self) -> dict[str, int]:
        return {"expires_in": self._policy.token_ttl}

    async def _mint(self, unit: UnitView, state: dict[str, Any]) -> str:
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
        }
        await self._store.put(
            "token", token_key(token), json.dumps(record).encode(), self._policy.token_ttl
        )
        return token

    async def siteverify(
        self, unit: UnitView, token: str, *, idempotency_key: str = ""
    ) -> dict[str, Any]:
        """Verify a token once; with an idempotency key, repeats get the first answer."""
        if not idempotency_key:
            return await self._verify_once(unit, token)
        idem = f"{unit.id}:{token_key(token)}:{idempotency_key}"
        if await self._store.put_if_absent("idem", idem, _PENDING, self._policy.token_ttl):
            result = await self._verify_once(unit, token)
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

    async def _verify_once(self, unit: UnitView, token: str) -> dict[str, Any]:
        check = check_token(self._key, token, unit_id=unit.id, now=time.time())
        if not check.valid:
            return verify_failure(["invalid-input-response"])
        if check.expired:
            return verify_failure(["timeout-or-duplicate"])
        raw = await self._store.take("token", token_key(token))
        if raw is None:
            return verify_failure(["timeout-or-duplicate"])
        record = json.loads(raw)
        return verify_success(
            hostname=record["hostname"],
            challenge_ts=record["challenge_ts"],
            action=record["action"],
            cdata=record["cdata"],
        )


def choose_kind(unit: UnitView, *, level: int) -> str:
    """Invisible: always PoW. Interactive: a visual kind. Managed: PoW until failures.

    Each failure moves a visitor one step along the unit's kinds, from the least to the most
    demanding (the unit's kinds are kept in that order).
    """
    if unit.mode == "invisible":
        return "pow"
    if unit.mode == "managed":
        if level == 0:
            return "pow"
        level -= 1
    return unit.kinds[min(level, len(unit.kinds) - 1)]


def generate_visual(kind: str, rng: random.Random, level: int, lang: str) -> Challenge:
    return registry.generate(kind, rng, level=level, lang=lang)


def verify_success(*, hostname: str, challenge_ts: int, action: str, cdata: str) -> dict[str, Any]:
    return {
        "success": True,
        "challenge_ts": _iso(challenge_ts),
        "hostname": hostname,
        "error-codes": [],
        "action": action,
        "cdata": cdata,
        "score": None,
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


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
