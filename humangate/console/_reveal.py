"""A new secret shown once, on a page that can be reloaded without creating anything again.

Creating a unit or rotating its secret answers with a redirect (post/redirect/get), so that a
reload or the back button never posts the form again. The secret waits for that one GET in the
hot-state store for a few minutes, encrypted with a key derived from the browser's session token,
which the server keeps only as a digest: a copy of the store, or of the store and the database,
does not reveal it. The first GET takes it; later ones find nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from humangate.console.web import Viewer
from humangate.store import Store

NAMESPACE = "console-reveal"
REVEAL_SECONDS = 600
_NONCE_BYTES = 12
_REVEAL_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True, slots=True)
class Revealed:
    """What the page after the form shows once."""

    secret: str
    created: bool
    grace_hours: float


def _key(viewer: Viewer) -> bytes:
    return hashlib.sha256(b"humangate console reveal\x00" + viewer.token.encode()).digest()


def _slot(viewer: Viewer, reveal_id: str) -> str:
    return f"{viewer.session_id}:{reveal_id}"


async def stash(store: Store, viewer: Viewer, sitekey: str, revealed: Revealed) -> str:
    """Keep `revealed` for this browser's next GET; returns the id that GET names."""
    reveal_id = secrets.token_urlsafe(16)
    nonce = secrets.token_bytes(_NONCE_BYTES)
    plain = json.dumps(
        {"secret": revealed.secret, "created": revealed.created, "grace": revealed.grace_hours}
    ).encode()
    sealed = nonce + AESGCM(_key(viewer)).encrypt(nonce, plain, sitekey.encode())
    await store.put(NAMESPACE, _slot(viewer, reveal_id), sealed, REVEAL_SECONDS)
    return reveal_id


async def take(store: Store, viewer: Viewer, sitekey: str, reveal_id: str) -> Revealed | None:
    """The secret stashed under `reveal_id` for this browser and unit, once; None after that."""
    if not _REVEAL_ID.fullmatch(reveal_id):
        return None
    sealed = await store.take(NAMESPACE, _slot(viewer, reveal_id))
    if sealed is None or len(sealed) <= _NONCE_BYTES:
        return None
    try:
        plain = AESGCM(_key(viewer)).decrypt(
            sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], sitekey.encode()
        )
    except InvalidTag:
        return None
    data = json.loads(plain)
    return Revealed(
        secret=str(data["secret"]), created=bool(data["created"]), grace_hours=float(data["grace"])
    )
