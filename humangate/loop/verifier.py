"""The loop as one object over one store; stateless itself, so any number of nodes share it."""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from typing import Any

from humangate.loop import answer as answer_step
from humangate.loop import issue as issue_step
from humangate.loop import siteverify as verify_step
from humangate.loop.context import Clock, CrawlerCheck, Entropy, LoopContext
from humangate.loop.hooks import FreeMeter, Meter, Observer
from humangate.loop.limits import LoopLimits, RateMultiplier
from humangate.loop.records import (
    Answered,
    ChallengeState,
    Issued,
    Policy,
    Signals,
    VerifyResult,
    Visitor,
)
from humangate.pool import ChallengePool
from humangate.risk.access import AccessList
from humangate.risk.environment import RegionTable
from humangate.store import Store
from humangate.units import UnitView


class Verifier:
    """Issue, answer, switch to audio, verify: the loop's four steps over one context."""

    def __init__(
        self,
        store: Store,
        *,
        key: bytes,
        policy: Policy | None = None,
        pool: ChallengePool | None = None,
        clock: Clock = time.time,
        entropy: Entropy = secrets.token_bytes,
        meter: Meter | None = None,
        observers: Sequence[Observer] = (),
        crawler_check: CrawlerCheck | None = None,
        regions: RegionTable | None = None,
        monitoring: AccessList | None = None,
        rate_multiplier: RateMultiplier | None = None,
    ) -> None:
        policy = policy or Policy()
        self.context = LoopContext(
            store=store,
            key=key,
            policy=policy,
            pool=pool or ChallengePool(issue_step.generate_visual, size=0),
            limits=LoopLimits(store, policy, multiplier=rate_multiplier),
            clock=clock,
            entropy=entropy,
            meter=meter or FreeMeter(),
            observers=tuple(observers),
            crawler_check=crawler_check,
            regions=regions,
            monitoring=monitoring,
        )

    async def issue(
        self,
        unit: UnitView,
        visitor: Visitor,
        *,
        action: str = "",
        cdata: str = "",
        signals: Signals | None = None,
    ) -> Issued:
        return await issue_step.issue(
            self.context, unit, visitor, action=action, cdata=cdata, signals=signals
        )

    async def issue_noscript(
        self, unit: UnitView, visitor: Visitor, *, action: str = "", cdata: str = ""
    ) -> Issued:
        """A challenge for a page without JavaScript (text, raised, no proof of work)."""
        return await issue_step.issue_noscript(
            self.context, unit, visitor, action=action, cdata=cdata
        )

    async def peek(self, challenge_id: str) -> ChallengeState | None:
        """The stored state of a live challenge, without consuming it."""
        raw = await self.context.store.get("challenge", challenge_id)
        return ChallengeState.from_json(raw) if raw else None

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
    ) -> Answered:
        return await answer_step.answer(
            self.context,
            unit,
            challenge_id,
            visitor,
            pow_number=pow_number,
            answer=answer,
            trajectory=trajectory,
            signals=signals,
        )

    async def switch_to_audio(self, unit: UnitView, challenge_id: str, visitor: Visitor) -> Issued:
        return await issue_step.switch_to_audio(self.context, unit, challenge_id, visitor)

    async def siteverify(
        self,
        unit: UnitView,
        token: str,
        *,
        idempotency_key: str = "",
        expected_action: str = "",
    ) -> VerifyResult:
        return await verify_step.siteverify(
            self.context,
            unit,
            token,
            idempotency_key=idempotency_key,
            expected_action=expected_action,
        )
