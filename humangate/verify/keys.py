"""Keys, secrets, codes and the keyed digests the verification API stores instead of values.

Everything here is pure: randomness comes from `secrets`, keys from the caller. The server key
(HUMANGATE_SECRET_KEY) derives one key per use, so that a digest of a destination can never be
mistaken for a digest of a code, nor either for a sealed secret.
"""

from __future__ import annotations

import functools
import hmac
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

APP_KEY_PREFIX = "hga_"
APP_SECRET_PREFIX = "hgas_"
VERIFICATION_PREFIX = "VE"
_NONCE_BYTES = 12


@functools.lru_cache(maxsize=16)  # a few purposes of one server key: derived once, not per call
def _derived(server_key: bytes, purpose: bytes) -> bytes:
    return hmac.digest(server_key, b"humangate verify\x00" + purpose, "sha256")


def new_app_key() -> str:
    """A public app key: `hga_` and 144 random bits."""
    return APP_KEY_PREFIX + secrets.token_urlsafe(18)


def new_app_secret() -> str:
    """An app secret: `hgas_` and 256 random bits."""
    return APP_SECRET_PREFIX + secrets.token_urlsafe(32)


def new_verification_id() -> str:
    """A verification's public id: `VE` and 128 random bits in hex."""
    return VERIFICATION_PREFIX + secrets.token_hex(16)


def new_code(length: int) -> str:
    """A one-time code of `length` decimal digits, uniformly drawn (leading zeros allowed)."""
    return f"{secrets.randbelow(10**length):0{length}d}"


def seal_secret(server_key: bytes, app_key: str, secret: str) -> bytes:
    """The app secret encrypted (AES-256-GCM) under a key derived from the server key, bound to
    `app_key`: a sealed secret copied onto another app's row does not open."""
    nonce = secrets.token_bytes(_NONCE_BYTES)
    cipher = AESGCM(_derived(server_key, b"app secret"))
    return nonce + cipher.encrypt(nonce, secret.encode(), app_key.encode())


def unseal_secret(server_key: bytes, app_key: str, sealed: bytes) -> str | None:
    """The app secret, or None when it was sealed under another server key or for another app."""
    nonce, body = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
    try:
        plain = AESGCM(_derived(server_key, b"app secret")).decrypt(nonce, body, app_key.encode())
    except (InvalidTag, ValueError):
        return None
    return plain.decode()


def destination_digest(server_key: bytes, app_id: int, destination: str) -> str:
    """A keyed digest of a normalised destination (E.164 or lower-cased address) for one app:
    equal destinations meet, a dump of the table does not say whose they are."""
    message = f"{app_id}\x00{destination}".encode()
    return hmac.digest(_derived(server_key, b"destination"), message, "sha256").hex()


def code_digest(server_key: bytes, verification_id: str, code: str) -> str:
    """A keyed digest of a code, bound to its verification."""
    message = f"{verification_id}\x00{code}".encode()
    return hmac.digest(_derived(server_key, b"code"), message, "sha256").hex()


def code_matches(server_key: bytes, verification_id: str, code: str, digest: str) -> bool:
    """Whether `code` is the one whose digest is stored, compared in constant time."""
    return hmac.compare_digest(code_digest(server_key, verification_id, code), digest)
