"""What a siteverify answer means, independent of how it was fetched (pure, no I/O)."""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

OnUnreachable = Literal["closed", "open"]

RESPONSE_FIELD = "humangate-response"
SERVICE_UNAVAILABLE = "service-unavailable"
MISSING_RESPONSE = "missing-input-response"
INVALID_ANSWER = "invalid-answer"

logger = logging.getLogger("humangate.client")


@dataclass(frozen=True, slots=True)
class Verification:
    """HumanGate's verdict on one pass token.

    `unreachable` is True when the service gave no verdict (network error, timeout, 5xx): then
    `success` is what the client's `on_unreachable` choice says, never what the token deserves.
    """

    success: bool
    error_codes: tuple[str, ...] = ()
    hostname: str | None = None
    action: str | None = None
    cdata: str | None = None
    score: float | None = None
    score_reasons: tuple[str, ...] = ()
    challenge_ts: datetime | None = None
    sitekey: str | None = None
    unreachable: bool = False


def check_on_unreachable(choice: str) -> OnUnreachable:
    if choice == "closed":
        return "closed"
    if choice == "open":
        return "open"
    raise ValueError('on_unreachable must be "closed" or "open"')


def siteverify_url(base_url: str) -> str:
    return base_url.rstrip("/") + "/siteverify"


def request_form(
    secret: str,
    token: str,
    *,
    remote_ip: str | None,
    expected_action: str | None,
    idempotency_key: str | None,
    sitekey: str | None,
) -> dict[str, str]:
    form = {"secret": secret, "response": token}
    optional = {
        "remoteip": remote_ip,
        "expected_action": expected_action,
        "idempotency_key": idempotency_key,
        "sitekey": sitekey,
    }
    form.update({name: value for name, value in optional.items() if value})
    return form


def missing_response() -> Verification:
    """An empty token fails without asking the service, so it fails even when failing open."""
    return Verification(success=False, error_codes=(MISSING_RESPONSE,))


def is_unreachable_status(status: int) -> bool:
    """5xx (503 storage-unavailable, a proxy's 502/504) is no verdict; worth another try."""
    return status >= 500


def read_answer(status: int, body: bytes) -> Verification:
    """The verdict in a 2xx or 4xx answer. Vendors answer a bad secret with 200 and HumanGate
    has answered some with 400: both carry `success` and `error-codes`, so both are read."""
    try:
        parsed: Any = json.loads(body)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("success"), bool):
        logger.error("humangate siteverify answered HTTP %d without a verdict", status)
        return Verification(success=False, error_codes=(INVALID_ANSWER,))
    codes = _strings(parsed.get("error-codes"))
    success = parsed["success"] is True and 200 <= status < 300
    if not success and not codes:
        codes = (INVALID_ANSWER,)
    return Verification(
        success=success,
        error_codes=codes,
        hostname=_text(parsed.get("hostname")),
        action=_text(parsed.get("action")),
        cdata=_text(parsed.get("cdata")),
        score=_number(parsed.get("score")),
        score_reasons=_strings(parsed.get("score_reasons")),
        challenge_ts=_timestamp(parsed.get("challenge_ts")),
        sitekey=_text(parsed.get("sitekey")),
    )


def unreachable(on_unreachable: OnUnreachable, base_url: str, reason: str) -> Verification:
    """No verdict: fail closed unless the site chose to fail open, which is always logged."""
    if on_unreachable == "open":
        logger.warning(
            "humangate at %s unreachable (%s): letting the request through (on_unreachable=open)",
            base_url,
            reason,
        )
        return Verification(success=True, unreachable=True)
    logger.warning("humangate at %s unreachable (%s): refusing the request", base_url, reason)
    return Verification(success=False, error_codes=(SERVICE_UNAVAILABLE,), unreachable=True)


def backoff_seconds(attempt: int, base: float) -> float:
    return base * 2.0**attempt


def new_idempotency_key() -> str:
    """One key per verify call, sent on its first try and every retry: a retry after the first
    try's answer was lost gets that answer instead of spending the token a second time."""
    return secrets.token_urlsafe(24)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _strings(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(item for item in value if isinstance(item, str))


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _timestamp(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
