"""Request signing for the verification API (HG1-HMAC-SHA256): pure, standard library only.

Every request to `/api/v1/verify/*` carries four headers: the app key, the Unix time in
seconds, a single-use nonce and the lowercase hex HMAC-SHA256, keyed with the app secret as
UTF-8, of the canonical request::

    HG1-HMAC-SHA256
    METHOD                    (upper case)
    /path?raw-query           (the request target exactly as sent; no "?" without a query)
    timestamp                 (decimal, as sent)
    nonce
    hex SHA-256 of the raw body bytes (of b"" for an empty body)

joined by "\\n", without a trailing newline. The target is the one on the HTTP request line,
so an app behind a proxy that rewrites paths signs what reaches HumanGate.

Known-answer vector, for checking a client written in another language (tests repeat it with
`openssl dgst -sha256 -hmac`):

- secret ``hgs_known-answer-secret``, method ``POST``,
  target ``/api/v1/verify/verifications?trace=1``, timestamp ``1767225600``,
  nonce ``kat-nonce-0123456789``, body ``{"to":"+8613800138000","channel":"sms"}``
- body SHA-256 ``8de1918d7447594d37e71d304c52e652d96aa1526b2e2889cae949f4aec514b5``
- signature ``61ab97042a3c3defbad523e609b9d7463e3171bd7dee331cbd6e31d7d7fe086d``

The timestamp must be within `MAX_SKEW_SECONDS` of the server's clock and the nonce is single
use; those checks need state or a clock and live with the server, this module only offers
`timestamp_fresh` for them.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass

from humangate.errors import Unauthenticated

SCHEME = "HG1-HMAC-SHA256"
MAX_SKEW_SECONDS = 300

HEADER_APP = "X-HumanGate-App"
HEADER_TIMESTAMP = "X-HumanGate-Timestamp"
HEADER_NONCE = "X-HumanGate-Nonce"
HEADER_SIGNATURE = "X-HumanGate-Signature"
HEADERS = (HEADER_APP, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE)

# App keys are "hga_" and 24 characters today; up to 64 in all leaves room for longer ones.
_APP_KEY = re.compile(r"hga_[A-Za-z0-9_-]{1,60}", re.ASCII)
_NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}", re.ASCII)
# No leading zero: the signed text is the timestamp as sent, and `SignedRequest` keeps an int,
# so only one spelling of each time may pass.
_TIMESTAMP = re.compile(r"0|[1-9][0-9]{0,11}", re.ASCII)
_SIGNATURE = re.compile(r"[0-9a-f]{64}", re.ASCII)


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """The signature headers of one request, checked for shape but not yet for truth."""

    app_key: str
    timestamp: int
    nonce: str
    signature: str


def canonical_request(
    method: str, target: str, timestamp: int | str, nonce: str, body: bytes
) -> bytes:
    """The bytes an HG1 signature covers.

    Args:
        method: the HTTP method, in any case.
        target: the path exactly as sent, with "?" and the raw query string when there is one.
        timestamp: Unix seconds, as sent.
        nonce: the request's nonce.
        body: the raw body bytes (b"" for none).

    Returns:
        The canonical request, UTF-8.
    """
    digest = hashlib.sha256(body).hexdigest()
    parts = [SCHEME, method.upper(), target, str(timestamp), nonce, digest]
    return "\n".join(parts).encode("utf-8")


def sign(
    secret: str, method: str, target: str, timestamp: int | str, nonce: str, body: bytes
) -> str:
    """The lowercase hex HMAC-SHA256 of the canonical request, keyed with `secret` as UTF-8."""
    message = canonical_request(method, target, timestamp, nonce, body)
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_headers(
    app_key: str,
    secret: str,
    method: str,
    target: str,
    body: bytes,
    *,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The four headers that sign one request; a fresh nonce and the current time by default.

    Args:
        app_key: the app's public key (`hga_...`).
        secret: the app secret; it only keys the MAC and is never put in a header.
        method: the HTTP method.
        target: the path and raw query exactly as they will be sent.
        body: the exact body bytes that will be sent.
        timestamp: Unix seconds, for tests and known-answer vectors.
        nonce: 16 to 64 characters of [A-Za-z0-9_-], for tests and known-answer vectors.

    Returns:
        Header name to value.
    """
    when = int(time.time()) if timestamp is None else timestamp
    once = secrets.token_urlsafe(18) if nonce is None else nonce
    return {
        HEADER_APP: app_key,
        HEADER_TIMESTAMP: str(when),
        HEADER_NONCE: once,
        HEADER_SIGNATURE: sign(secret, method, target, when, once, body),
    }


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    lowered = name.lower()
    for key, found in headers.items():
        if key.lower() == lowered:
            return found
    return None


def read_signature(headers: Mapping[str, str]) -> SignedRequest:
    """The signature headers of a request, checked for shape.

    Args:
        headers: the request's headers; names are matched without regard to case.

    Returns:
        The parsed headers.

    Raises:
        Unauthenticated: `missing-signature` when a header is absent or empty,
            `malformed-signature` when one does not have its shape.
    """
    values = [_header(headers, name) for name in HEADERS]
    present = [value for value in values if value]
    if len(present) != len(HEADERS):
        raise Unauthenticated(
            "The request is not signed: send the X-HumanGate-App, -Timestamp, -Nonce and "
            "-Signature headers.",
            code="missing-signature",
        )
    app_key, timestamp, nonce, signature = present
    for pattern, value in (
        (_APP_KEY, app_key),
        (_TIMESTAMP, timestamp),
        (_NONCE, nonce),
        (_SIGNATURE, signature),
    ):
        if pattern.fullmatch(value) is None:
            raise Unauthenticated(
                "The request's signature headers are malformed.", code="malformed-signature"
            )
    return SignedRequest(
        app_key=app_key, timestamp=int(timestamp), nonce=nonce, signature=signature
    )


def signature_matches(
    secret: str, signed: SignedRequest, method: str, target: str, body: bytes
) -> bool:
    """Whether `signed` is the signature of this request under `secret` (constant time)."""
    expected = sign(secret, method, target, signed.timestamp, signed.nonce, body)
    return hmac.compare_digest(expected.encode("ascii"), signed.signature.encode("utf-8"))


def timestamp_fresh(timestamp: int, now: float, skew: int = MAX_SKEW_SECONDS) -> bool:
    """Whether `timestamp` is within `skew` seconds of `now`, either side."""
    return abs(now - timestamp) <= skew
