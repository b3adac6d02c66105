"""What the verification API's requests and answers are, independent of how they travel (pure).

A request is its method, its target (path and raw query, as sent) and its exact body bytes;
the signature headers cover those three, so both clients build them here and hand the same
bytes to httpx.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from humangate.verify.signing import signature_headers

API_PREFIX = "/api/v1/verify"
UNREACHABLE = "unreachable"
INVALID_ANSWER = "invalid-answer"


class VerifyError(Exception):
    """The verification API refused a request, answered something unreadable, or was not reached.

    `code` is the API's error code (`rate-limited`, `bad-signature`, `not-found` ...),
    `invalid-answer` for an answer that is not the API's JSON, or `unreachable` (with `status`
    0) for a network failure or a timeout; `retry_after` is the Retry-After header's seconds.
    """

    def __init__(
        self, code: str, status: int, message: str, retry_after: int | None = None
    ) -> None:
        super().__init__(f"{code} (HTTP {status}): {message}" if status else f"{code}: {message}")
        self.code = code
        self.status = status
        self.message = message
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class OtpVerification:
    """One verification as the API answered it; `to` is the masked destination.

    `valid` is set by `check` only (whether this code approved it); `raw` is the whole answer.
    """

    id: str
    status: str
    channel: str
    to: str
    expires_at: datetime | None
    valid: bool | None
    attempts_left: int | None
    raw: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class NumberCheck:
    """The carrier's verdict on whether the device's number is `phone_number`."""

    verified: bool
    raw: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Prepared:
    """One signed request, ready for httpx: its bytes are the ones the signature covers."""

    method: str
    url: httpx.URL
    body: bytes
    headers: dict[str, str]


def prepare(
    base_url: str,
    app_key: str,
    secret: str,
    method: str,
    path: str,
    payload: Mapping[str, object] | None,
) -> Prepared:
    url = httpx.URL(base_url.rstrip("/") + API_PREFIX + path)
    body = (
        b""
        if payload is None
        else json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()
    )
    target = url.raw_path.decode("ascii")
    headers = signature_headers(app_key, secret, method, target, body)
    if payload is not None:
        headers["Content-Type"] = "application/json"
    headers["Accept"] = "application/json"
    return Prepared(method=method, url=url, body=body, headers=headers)


def verification_path(verification_id: str, action: str = "") -> str:
    if not isinstance(verification_id, str) or not verification_id:
        raise ValueError("verification_id must be a non-empty string")
    return "/verifications/" + quote(verification_id, safe="") + action


def start_payload(
    to: str,
    channel: str,
    *,
    locale: str | None,
    humangate_token: str | None,
    idempotency_key: str | None,
    client_ip: str | None,
) -> dict[str, object]:
    payload: dict[str, object] = {"to": to, "channel": channel}
    optional = {
        "locale": locale,
        "humangate_token": humangate_token,
        "idempotency_key": idempotency_key,
        "client_ip": client_ip,
    }
    payload.update({name: value for name, value in optional.items() if value is not None})
    return payload


def number_payload(
    phone_number: str, method: str, evidence: object, redirect_uri: str | None
) -> dict[str, object]:
    payload: dict[str, object] = {
        "phone_number": phone_number,
        "method": method,
        "evidence": evidence,
    }
    if redirect_uri is not None:
        payload["redirect_uri"] = redirect_uri
    return payload


def unreachable(exc: httpx.TransportError) -> VerifyError:
    # The exception's own text can hold the URL; its kind says enough.
    return VerifyError(
        UNREACHABLE, 0, f"The verification API was not reached ({type(exc).__name__})."
    )


def _retry_after(headers: httpx.Headers) -> int | None:
    value = headers.get("Retry-After", "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        parsed: Any = json.loads(body)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def read_success(reply: httpx.Response) -> dict[str, Any]:
    """The JSON object of a 2xx answer.

    Raises:
        VerifyError: the API's error for a non-2xx answer; `invalid-answer` for anything that
            is not a JSON object.
    """
    parsed = _json_object(reply.content)
    status = reply.status_code
    if 200 <= status < 300 and parsed is not None:
        return parsed
    retry_after = _retry_after(reply.headers)
    if 200 <= status < 300 or parsed is None or not isinstance(parsed.get("error"), str):
        raise VerifyError(
            INVALID_ANSWER,
            status,
            f"The answer is not the API's JSON (HTTP {status}).",
            retry_after,
        )
    message = parsed.get("message")
    text = message if isinstance(message, str) else f"HTTP {status}"
    raise VerifyError(parsed["error"], status, text, retry_after)


def read_verification(reply: httpx.Response) -> OtpVerification:
    answer = read_success(reply)
    ident, status = answer.get("id"), answer.get("status")
    if not isinstance(ident, str) or not isinstance(status, str):
        raise VerifyError(INVALID_ANSWER, reply.status_code, "The answer names no verification.")
    valid, attempts = answer.get("valid"), answer.get("attempts_left")
    return OtpVerification(
        id=ident,
        status=status,
        channel=_text(answer.get("channel")),
        to=_text(answer.get("to")),
        expires_at=_timestamp(answer.get("expires_at")),
        valid=valid if isinstance(valid, bool) else None,
        attempts_left=attempts
        if isinstance(attempts, int) and not isinstance(attempts, bool)
        else None,
        raw=answer,
    )


def read_number_check(reply: httpx.Response) -> NumberCheck:
    answer = read_success(reply)
    verified = answer.get("verified")
    if not isinstance(verified, bool):
        raise VerifyError(INVALID_ANSWER, reply.status_code, "The answer has no verdict.")
    return NumberCheck(verified=verified, raw=answer)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _timestamp(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
