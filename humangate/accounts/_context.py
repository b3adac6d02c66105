"""The dependencies every account function receives: store, keys, hasher and policy."""

from __future__ import annotations

from dataclasses import dataclass, field

from humangate.accounts._keys import AccountKeys
from humangate.accounts.passwords import PasswordHasher
from humangate.accounts.policy import AccountPolicy
from humangate.store.base import Store


@dataclass(frozen=True, slots=True)
class AccountContext:
    """Built once at start-up; the database session is passed per call.

    `hasher` may be a PasswordHasher with TEST_PARAMS in tests; production uses the default.
    """

    store: Store
    keys: AccountKeys
    hasher: PasswordHasher = field(default_factory=PasswordHasher)
    policy: AccountPolicy = field(default_factory=AccountPolicy)

    @classmethod
    def create(
        cls,
        *,
        store: Store,
        server_key: bytes,
        hasher: PasswordHasher | None = None,
        policy: AccountPolicy | None = None,
    ) -> AccountContext:
        """Raises ValueError if the server key is shorter than 16 bytes."""
        return cls(
            store=store,
            keys=AccountKeys.derive(server_key),
            hasher=hasher or PasswordHasher(),
            policy=policy or AccountPolicy(),
        )


@dataclass(frozen=True, slots=True, repr=False)
class Client:
    """What the web layer knows about the browser making a request.

    Attributes:
        ip: the client address; only its /24 or /64 is ever stored.
        device_token: the long-lived device cookie, if the browser sent one.
        device_label: a short description of the browser ("Firefox on Linux").
        session_token: the session cookie the browser holds now, if any.
    """

    ip: str | None = None
    device_token: str | None = None
    device_label: str | None = None
    session_token: str | None = None

    def __repr__(self) -> str:
        return f"Client(ip={self.ip!r}, device_label={self.device_label!r})"
