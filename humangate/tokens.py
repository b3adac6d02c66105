"""Pass tokens: 128 random bits, an expiry and a MAC bound to the unit, URL-safe.

The MAC lets siteverify reject forged, foreign or expired tokens without touching the store; the
store still decides single use.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass

_RANDOM = 16
_MAC = 16
_LENGTH = _RANDOM + 4 + _MAC
TOKEN_CHARS = 48
DUMMY_TOKEN = "XXXX.DUMMY.TOKEN.XXXX"


@dataclass(frozen=True, slots=True)
class TokenCheck:
    """`valid` is false for a forged or foreign token; `expired` for an old genuine one."""

    valid: bool
    expired: bool = False
    expires_at: int = 0


def _mac(key: bytes, unit_id: int, body: bytes) -> bytes:
    message = b"hg-token" + unit_id.to_bytes(8, "big") + body
    return hmac.new(key, message, hashlib.sha256).digest()[:_MAC]


def mint_token(key: bytes, *, unit_id: int, expires_at: int, random: bytes | None = None) -> str:
    """Mint a token for `unit_id` that expires at the unix time `expires_at`."""
    body = (random or secrets.token_bytes(_RANDOM)) + expires_at.to_bytes(4, "big")
    return base64.urlsafe_b64encode(body + _mac(key, unit_id, body)).decode()


def check_token(key: bytes, token: str, *, unit_id: int, now: float) -> TokenCheck:
    """Check a token's form, MAC and expiry; never raises."""
    if len(token) != TOKEN_CHARS:
        return TokenCheck(valid=False)
    try:
        raw = base64.urlsafe_b64decode(token.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return TokenCheck(valid=False)
    if len(raw) != _LENGTH:
        return TokenCheck(valid=False)
    body, mac = raw[: _RANDOM + 4], raw[_RANDOM + 4 :]
    if not hmac.compare_digest(_mac(key, unit_id, body), mac):
        return TokenCheck(valid=False)
    expires_at = int.from_bytes(body[_RANDOM:], "big")
    return TokenCheck(valid=True, expired=expires_at <= now, expires_at=expires_at)


def token_key(token: str) -> str:
    """The store key of a token: its digest, so a store dump holds no usable token."""
    return hashlib.sha256(token.encode()).hexdigest()[:40]
