"""The wire side of a passkey ceremony: reading what the browser sent, and the challenge kept in
the hot store between `begin_*` and `finish_*`, taken back exactly once."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from webauthn.helpers.structs import AuthenticatorTransport

from humangate.accounts._context import AccountContext
from humangate.errors import InvalidInput

NS_CEREMONY = "acct-passkey"
MAX_CREDENTIAL = 16 * 1024
TRANSPORTS = frozenset(item.value for item in AuthenticatorTransport)
Ceremony = Literal["register", "login"]


def b64url_decode(text: object) -> bytes:
    """Raises InvalidInput: not base64url text of at most MAX_CREDENTIAL characters."""
    if not isinstance(text, str) or len(text) > MAX_CREDENTIAL:
        raise InvalidInput("The passkey response is malformed.")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InvalidInput("The passkey response is malformed.") from None


def b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def credential_key(credential_id: bytes) -> str:
    """What a passkey row is found by: the SHA-256 of its credential id."""
    return hashlib.sha256(credential_id).hexdigest()


@dataclass(frozen=True, slots=True)
class Response:
    """A browser's public-key credential, with the parts needed before verifying it."""

    raw: dict[str, Any]
    challenge: bytes
    credential_id: bytes

    def transports(self) -> list[str]:
        """The transports the browser reported that WebAuthn knows, at most eight."""
        found = self.raw.get("response", {}).get("transports") or []
        return [t for t in found if t in TRANSPORTS][:8] if isinstance(found, list) else []


def read_response(credential: str) -> Response:
    """The signed challenge and the credential id of a browser's answer.

    Raises:
        InvalidInput: not the JSON a browser produces for a public-key credential.
    """
    if not isinstance(credential, str) or len(credential) > MAX_CREDENTIAL:
        raise InvalidInput("The passkey response is missing or too long.")
    try:
        raw = json.loads(credential)
        client_data = json.loads(b64url_decode(raw["response"]["clientDataJSON"]))
        challenge = b64url_decode(client_data["challenge"])
        credential_id = b64url_decode(raw["rawId"])
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise InvalidInput("The passkey response is malformed.") from None
    if not isinstance(raw, dict) or raw.get("type") != "public-key" or not credential_id:
        raise InvalidInput("The passkey response is malformed.")
    return Response(raw, challenge, credential_id)


async def keep_ceremony(
    ctx: AccountContext,
    challenge: bytes,
    purpose: Ceremony,
    account_id: int | None,
    now: datetime,
) -> None:
    """Remember a challenge handed to the browser for `passkey_ceremony_ttl`."""
    ttl = ctx.policy.passkey_ceremony_ttl
    state = {"purpose": purpose, "account": account_id, "expires": (now + ttl).timestamp()}
    key = hashlib.sha256(challenge).hexdigest()
    await ctx.store.put(NS_CEREMONY, key, json.dumps(state).encode(), ttl.total_seconds())


async def take_ceremony(
    ctx: AccountContext, challenge: bytes, purpose: Ceremony, now: datetime
) -> dict[str, Any] | None:
    """The state of a live ceremony of this purpose that handed out `challenge`, taken so that it
    answers once; None if there is none."""
    raw = await ctx.store.take(NS_CEREMONY, hashlib.sha256(challenge).hexdigest())
    state: dict[str, Any] | None = json.loads(raw) if raw is not None else None
    if state is None or state["purpose"] != purpose or float(state["expires"]) <= now.timestamp():
        return None
    return state
