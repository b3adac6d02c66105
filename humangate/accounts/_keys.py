"""Keyed digests derived from the server key: one subkey per use, so no digest doubles as another.

A one-time code has only 10^6 values and an identifier is guessable, so a plain SHA-256 of
either could be reversed from a database dump in seconds; an HMAC needs the server key as well.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from humangate.accounts.identifiers import Identifier


def _derive(server_key: bytes, label: str) -> bytes:
    return hmac.new(server_key, b"humangate/accounts/" + label.encode(), hashlib.sha256).digest()


def _mac(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True, repr=False)
class AccountKeys:
    """Subkeys of the server key for codes, identifiers, device cookies and passkey users."""

    codes: bytes
    identifiers: bytes
    devices: bytes
    passkey_users: bytes

    @classmethod
    def derive(cls, server_key: bytes) -> AccountKeys:
        """Raises ValueError if the server key is shorter than 16 bytes."""
        if len(server_key) < 16:
            raise ValueError("The server key must be at least 16 bytes long.")
        return cls(
            codes=_derive(server_key, "codes"),
            identifiers=_derive(server_key, "identifiers"),
            devices=_derive(server_key, "devices"),
            passkey_users=_derive(server_key, "passkey-users"),
        )

    def identifier_digest(self, identifier: Identifier) -> str:
        return _mac(self.identifiers, f"{identifier.kind}:{identifier.key}")

    def device_digest(self, device_token: str) -> str:
        return _mac(self.devices, device_token)

    def passkey_user_handle(self, account_id: int) -> bytes:
        """The WebAuthn user handle of an account: stable, and saying nothing about the account
        (the spec asks that it not be an identifier or a counter)."""
        return hmac.new(self.passkey_users, str(account_id).encode(), hashlib.sha256).digest()

    def code_digest(self, *, account_id: int, purpose: str, target: str, code: str) -> str:
        # Binding account, purpose and target means a code can only ever answer its own question.
        return _mac(self.codes, f"{account_id}\x00{purpose}\x00{target}\x00{code}")

    def __repr__(self) -> str:
        return "AccountKeys(…)"


def sha256_hex(value: str) -> str:
    """For 256-bit random tokens a fast hash suffices: nothing can be guessed to match."""
    return hashlib.sha256(value.encode()).hexdigest()
