"""The loop's typed records: its policy, the requester, the stored states, its results.

Stored states (a challenge's, a token's) are frozen records that go to the store as JSON with
the field names they have always had, so a node of another version reads what this one wrote.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from humangate.risk.assess import Pointer
from humangate.risk.base import Finding, Point

JSON = dict[str, Any]


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

    environment: dict[str, object] | None = None
    first_party: str = ""
    trace: list[Point] | None = None
    pointer: Pointer = "none"
    pow_elapsed_ms: float | None = None  # the widget's own timing of its proof-of-work search


@dataclass(frozen=True, slots=True)
class Plan:
    """What to ask next: a kind, and for a managed proof of work, a gesture to score."""

    kind: str
    gesture: bool = False


@dataclass(frozen=True, slots=True)
class RiskState:
    """The risk part of a challenge's state, carried over to the challenge that follows it."""

    device: str = ""
    context: tuple[Finding, ...] = ()  # what was found before the gesture, rounded
    trusted: str = ""  # why this visitor skips scoring ("allow-listed", "crawler:<name>"), or ""
    pow_difficulty: int = 0
    mobile: bool = False  # the browser says it is a phone or tablet (slower proof of work)

    def carried(self, *, level: int | None = None) -> RiskState:
        """The state the next challenge starts from; a failure (a level) doubles the work."""
        return replace(self, pow_difficulty=self.pow_difficulty * (2 if level else 1))

    def with_pow(self, difficulty: int) -> RiskState:
        return replace(self, pow_difficulty=difficulty)


@dataclass(frozen=True, slots=True)
class ChallengeState:
    """A live challenge as the store keeps it until its one answer."""

    unit_id: int
    sitekey: str
    kind: str
    answer: Any  # the kind's private answer, plain JSON
    payload: Any  # kept for a proof of work only, whose check needs it
    hostname: str
    action: str
    cdata: str
    level: int
    lang: str
    issued_at: int
    mode: str
    gesture: bool
    risk: RiskState = field(default_factory=RiskState)
    issued_ms: float = 0.0  # unix time in ms: what the trace's own times are checked against
    # A proof of work that follows a visual challenge answered right without a pointer (the
    # keyboard path): passing it earns the token.
    after_visual: bool = False
    # Issued to a page without JavaScript: no work can be asked, so a right answer earns the token.
    noscript: bool = False

    def elapsed_ms(self, now: float) -> float:
        """Milliseconds from issue to `now` (unix seconds)."""
        return now * 1000.0 - (self.issued_ms or self.issued_at * 1000.0)

    def to_json(self) -> bytes:
        fields = {name: getattr(self, name) for name in _CHALLENGE_FIELDS}
        risk = self.risk
        fields.update(
            device=risk.device,
            context=[[finding.reason, finding.weight] for finding in risk.context],
            trusted=risk.trusted,
            pow_difficulty=risk.pow_difficulty,
            mobile=risk.mobile,
        )
        return json.dumps(fields).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> ChallengeState:
        data = json.loads(raw)
        risk = RiskState(
            device=str(data.get("device", "")),
            context=tuple(
                Finding(str(reason), float(weight)) for reason, weight in data.get("context", [])
            ),
            trusted=str(data.get("trusted", "")),
            pow_difficulty=int(data.get("pow_difficulty", 0)),
            mobile=bool(data.get("mobile", False)),
        )
        values = {name: data[name] for name in _CHALLENGE_FIELDS if name in data}
        values.setdefault("gesture", False)
        return cls(**values, risk=risk)


_CHALLENGE_FIELDS = (
    "unit_id",
    "sitekey",
    "kind",
    "answer",
    "payload",
    "hostname",
    "action",
    "cdata",
    "level",
    "lang",
    "issued_at",
    "mode",
    "gesture",
    "issued_ms",
    "after_visual",
    "noscript",
)


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """What a minted pass token stands for, kept until siteverify takes it."""

    hostname: str
    action: str
    cdata: str
    challenge_ts: int
    kind: str
    score: float | None
    reasons: tuple[str, ...] = ()

    def to_json(self) -> bytes:
        return json.dumps({**asdict(self), "reasons": list(self.reasons)}).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> TokenRecord:
        data = json.loads(raw)
        return cls(
            hostname=data["hostname"],
            action=data["action"],
            cdata=data["cdata"],
            challenge_ts=int(data["challenge_ts"]),
            kind=data.get("kind", ""),
            score=data.get("score"),
            reasons=tuple(data.get("reasons", [])),
        )


@dataclass(frozen=True, slots=True)
class Issued:
    """A challenge as the widget receives it."""

    id: str
    kind: str
    expires_in: int
    payload: Any
    gesture: bool = False

    def to_json(self) -> JSON:
        issued: JSON = {
            "id": self.id,
            "kind": self.kind,
            "expires_in": self.expires_in,
            self.kind: self.payload,
        }
        if self.gesture:
            issued["gesture"] = True
        return issued


@dataclass(frozen=True, slots=True)
class Answered:
    """The outcome of one answer: a token, or an error code and (unless locked out) the next
    challenge. The code never says which part of an answer was wrong."""

    success: bool
    token: str = ""
    expires_in: int = 0
    error: str = ""
    next: Issued | None = None

    def to_json(self) -> JSON:
        if self.success:
            return {"success": True, "token": self.token, "expires_in": self.expires_in}
        return {
            "success": False,
            "error": self.error,
            "next": self.next.to_json() if self.next else None,
        }


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """What siteverify found: the token's record on success, error codes otherwise."""

    success: bool
    error_codes: tuple[str, ...] = ()
    hostname: str = ""
    challenge_ts: int = 0
    action: str = ""
    cdata: str = ""
    score: float | None = None
    reasons: tuple[str, ...] = ()

    @classmethod
    def failure(cls, *codes: str) -> VerifyResult:
        return cls(success=False, error_codes=codes)

    @classmethod
    def of_token(cls, record: TokenRecord) -> VerifyResult:
        return cls(
            success=True,
            hostname=record.hostname,
            challenge_ts=record.challenge_ts,
            action=record.action,
            cdata=record.cdata,
            score=record.score,
            reasons=record.reasons,
        )

    def to_json(self) -> bytes:
        """For the idempotency store: repeats of a request get this same result."""
        return json.dumps(
            {**asdict(self), "error_codes": list(self.error_codes), "reasons": list(self.reasons)}
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> VerifyResult:
        data = json.loads(raw)
        return cls(
            success=bool(data["success"]),
            error_codes=tuple(data["error_codes"]),
            hostname=data["hostname"],
            challenge_ts=int(data["challenge_ts"]),
            action=data["action"],
            cdata=data["cdata"],
            score=data["score"],
            reasons=tuple(data["reasons"]),
        )


def iso_utc(ts: int) -> str:
    """A unix time as siteverify's `challenge_ts`: ISO 8601 in UTC to the second, with Z."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
