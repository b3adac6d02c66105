"""The CN one-tap contract's two primitives, shared by the client and the simulator.

Signature: lowercase hex HMAC-SHA256, key the app key (UTF-8), message the concatenation of
`appid`, `msgid`, `systemtime`, `strictcheck`, `token` and `version`, in that order.

Number: AES-128-CBC with PKCS#7 padding, key the 16-byte MD5 digest of the app key, a random
16-byte IV in front of the ciphertext, the whole in standard base64.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

SIGNED_FIELDS = ("appid", "msgid", "systemtime", "strictcheck", "token", "version")
BEIJING = timezone(timedelta(hours=8))
SYSTEMTIME_FORMAT = "%Y%m%d%H%M%S%f"


def sign(app_key: str, fields: Mapping[str, str]) -> str:
    """The request's `sign` over `SIGNED_FIELDS` (a missing field counts as empty)."""
    message = "".join(fields.get(name, "") for name in SIGNED_FIELDS).encode("utf-8")
    return hmac.new(app_key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def systemtime(moment: datetime) -> str:
    """`yyyyMMddHHmmssSSS` in Beijing time, as the carriers' APIs write timestamps."""
    return moment.astimezone(BEIJING).strftime(SYSTEMTIME_FORMAT)[:-3]


def parse_systemtime(text: str) -> datetime | None:
    """The moment a `systemtime` names, or None when it is not 17 digits of a real time."""
    if len(text) != 17 or not text.isdigit() or not text.isascii():
        return None
    try:
        return datetime.strptime(text + "000", SYSTEMTIME_FORMAT).replace(tzinfo=BEIJING)
    except ValueError:
        return None


def _key(app_key: str) -> bytes:
    return hashlib.md5(app_key.encode("utf-8"), usedforsecurity=False).digest()


def encrypt_number(app_key: str, number: str) -> str:
    """The operator's side: the number, encrypted for the app holding `app_key`."""
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    data = padder.update(number.encode("ascii")) + padder.finalize()
    encryptor = Cipher(algorithms.AES(_key(app_key)), modes.CBC(iv)).encryptor()
    return base64.b64encode(iv + encryptor.update(data) + encryptor.finalize()).decode("ascii")


def decrypt_number(app_key: str, text: str) -> str | None:
    """The number in `text`, or None when it does not decrypt to ASCII digits with this key."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return None
    if len(raw) < 32 or len(raw) % 16:
        return None
    decryptor = Cipher(algorithms.AES(_key(app_key)), modes.CBC(raw[:16])).decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        plain = unpadder.update(decryptor.update(raw[16:]) + decryptor.finalize())
        plain += unpadder.finalize()
    except ValueError:
        return None
    number = plain.decode("latin-1")
    return number if number.isascii() and number.lstrip("+").isdigit() else None
