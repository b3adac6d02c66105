"""The account rules an operator may tune: one value object, built from Settings by the caller."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountPolicy:
    """Lifetimes, limits and lockouts of the account core; the defaults are the documented ones.

    Attributes:
        default_region: region for phone numbers typed without `+` ("CN", "US", …).
        code_ttl: how long a one-time code lives.
        code_max_attempts: wrong entries after which a code dies.
        resend_per_minute / resend_per_hour: codes sent to one identifier.
        session_idle / session_absolute: a session ends after either.
        lockout_failures / lockout_window: failed logins for one identifier from one network.
        account_lockout_failures / account_lockout_window: failed logins on one account.
        lockout_period: how long the password path stays locked.
        step_up_ttl: time to enter the code a new device or network asks for.
        pending_ttl: a sign-up not confirmed within this is dropped.
        hold_period: a cancelled account's identifiers stay blocked for this long.
        inactive_after: accounts unused this long are warned …
        inactivity_grace: … and cancelled this long after the warning if still unused.
        passkey_ceremony_ttl: time to answer the browser's passkey prompt.
        fresh_login: adding a passkey needs a session started at most this long ago.
        max_passkeys: passkeys one account may hold.
        keep_ledger: a cancelled owner's ledger transactions are kept apart this long where the
            law asks it (HUMANGATE_BILLING_KEEP_LEDGER_DAYS); None erases them with the account.
    """

    default_region: str = "US"
    code_ttl: timedelta = timedelta(minutes=10)
    code_max_attempts: int = 5
    resend_per_minute: int = 1
    resend_per_hour: int = 5
    session_idle: timedelta = timedelta(hours=12)
    session_absolute: timedelta = timedelta(days=30)
    lockout_failures: int = 5
    lockout_window: timedelta = timedelta(minutes=15)
    account_lockout_failures: int = 20
    account_lockout_window: timedelta = timedelta(hours=1)
    lockout_period: timedelta = timedelta(minutes=15)
    step_up_ttl: timedelta = timedelta(minutes=10)
    pending_ttl: timedelta = timedelta(hours=24)
    hold_period: timedelta = timedelta(days=10)
    inactive_after: timedelta = timedelta(days=365)
    inactivity_grace: timedelta = timedelta(days=30)
    passkey_ceremony_ttl: timedelta = timedelta(minutes=5)
    fresh_login: timedelta = timedelta(minutes=15)
    max_passkeys: int = 10
    keep_ledger: timedelta | None = None

    def __post_init__(self) -> None:
        for name in ("code_max_attempts", "resend_per_minute", "resend_per_hour"):
            if getattr(self, name) < 1:
                raise ValueError(f"AccountPolicy.{name} must be at least 1.")
        if self.lockout_failures < 1 or self.account_lockout_failures < 1:
            raise ValueError("AccountPolicy lockout thresholds must be at least 1.")
        if self.session_idle > self.session_absolute:
            raise ValueError("AccountPolicy.session_idle cannot exceed session_absolute.")


@dataclass(frozen=True, slots=True, kw_only=True)
class RetentionPolicy:
    """How long the housekeeping job keeps what a live account accumulates; None keeps it.

    Attributes:
        audit: audit entries older than this are deleted, whatever their action, including the
            `account.cancelled` entry a cancellation leaves behind.
        devices: known devices (and networks) not seen for this long are forgotten, so the next
            login from one of them asks for a step-up code again.
        notices: inbox notices the owner has read, created longer ago than this, are deleted;
            unread ones stay until they are read.
    """

    audit: timedelta | None = timedelta(days=400)
    devices: timedelta | None = timedelta(days=400)
    notices: timedelta | None = timedelta(days=365)

    def __post_init__(self) -> None:
        for name in ("audit", "devices", "notices"):
            limit = getattr(self, name)
            if limit is not None and limit <= timedelta(0):
                raise ValueError(f"RetentionPolicy.{name} must be positive, or None to keep.")

    @classmethod
    def from_days(cls, *, audit: int, devices: int, notices: int) -> RetentionPolicy:
        """Build the policy from the settings' day counts, where 0 means keep for ever.

        Raises:
            ValueError: a negative count.
        """

        def limit(name: str, days: int) -> timedelta | None:
            if days < 0:
                raise ValueError(f"The {name} retention cannot be negative; 0 keeps for ever.")
            return timedelta(days=days) if days else None

        return cls(
            audit=limit("audit", audit),
            devices=limit("device", devices),
            notices=limit("notice", notices),
        )
