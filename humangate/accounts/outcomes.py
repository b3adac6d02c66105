"""What the account service returns: views, messages to send, and one value per outcome.

Expected outcomes (a wrong password, a spent code, a locked path) are values, never exceptions.
Bad input raises `humangate.errors.InvalidInput` (a ValueError) before anything is written; misuse
(a non-admin acting as admin) raises PermissionError.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Role = Literal["owner", "admin"]
Status = Literal["pending", "active", "suspended", "banned"]
Channel = Literal["email", "sms"]

# Every template the service asks for, with the parameters it passes; the messaging module
# renders them. `code` parameters are the only secrets and must never be logged.
TEMPLATES: Mapping[str, tuple[str, ...]] = {
    "signup-code": ("code", "minutes"),
    "login-code": ("code", "minutes"),
    "new-device-code": ("code", "minutes", "network", "device"),
    "contact-change-code": ("code", "minutes"),
    "cancel-code": ("code", "minutes"),
    "password-reset-code": ("code", "minutes"),
    "already-registered": (),
    "identifier-held": ("until",),
    "contact-changed": ("new",),
    "password-changed": (),
    "account-cancelled": ("reason",),
    "inactivity-warning": ("cancel_after",),
    "account-suspended": ("status", "reason"),
    "account-restored": (),
    "new-device-login": ("device", "network", "time"),
    "passkey-added": ("name",),
    "verify-prefix-blocked": ("app", "prefix", "sent", "approved", "until"),
    "balance-low": ("balance", "threshold", "currency"),
    "balance-empty": ("balance", "currency"),
}


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message the web layer hands to the mail or SMS channel; the core sends nothing.

    `language` is the recipient account's, where the core knows it and no request will (the
    housekeeping job); the web layer otherwise uses the language it has.
    """

    kind: Channel
    to: str
    template: str
    params: Mapping[str, str] = field(default_factory=dict)
    language: str | None = None

    def __repr__(self) -> str:
        # Codes stay out of logs and tracebacks.
        shown = {k: ("…" if k == "code" else v) for k, v in self.params.items()}
        return f"Outgoing(kind={self.kind!r}, to={self.to!r}, template={self.template!r}, {shown})"


@dataclass(frozen=True, slots=True)
class AccountView:
    """An account as the console shows it: no password hash, no digests."""

    id: int
    email: str | None
    phone: str | None
    display_name: str
    language: str
    role: Role
    status: Status
    status_reason: str | None
    created_at: datetime
    confirmed_at: datetime | None
    last_active_at: datetime
    inactivity_warned_at: datetime | None
    code_login: bool = True
    terms_version: str | None = None


@dataclass(frozen=True, slots=True)
class SessionView:
    """A console session as listed to its owner."""

    id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    ip_prefix: str
    device_label: str
    current: bool = False


@dataclass(frozen=True, slots=True)
class NotificationView:
    """A message in the console inbox."""

    id: int
    kind: str
    subject: str
    body: str
    created_at: datetime
    read_at: datetime | None


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """An authenticated request: the session and its account."""

    session: SessionView
    account: AccountView


@dataclass(frozen=True, slots=True, repr=False)
class LoggedIn:
    """Set `session_token` and `device_token` as HttpOnly cookies; drop any older session."""

    account: AccountView
    session_token: str
    device_token: str
    outgoing: tuple[Outgoing, ...] = ()

    def __repr__(self) -> str:
        return f"LoggedIn(account_id={self.account.id})"


@dataclass(frozen=True, slots=True, repr=False)
class StepUpRequired:
    """The password was right but the device or network is new: a code was sent to the account.

    Pass `step_up_token` and the code to `complete_step_up`. `resend_after` is set when the
    resend limit held the code back (the previous one stays valid).
    """

    step_up_token: str
    device_token: str
    outgoing: tuple[Outgoing, ...] = ()
    resend_after: int | None = None

    def __repr__(self) -> str:
        return f"StepUpRequired(resend_after={self.resend_after})"


@dataclass(frozen=True, slots=True)
class LoginFailed:
    """Wrong identifier or password; the same for an unknown identifier."""

    message: str = "The e-mail address, phone number or password is wrong."


@dataclass(frozen=True, slots=True)
class Locked:
    """Too many failures: this path is locked for `retry_after` seconds."""

    retry_after: int
    message: str = "Too many failed attempts. Try again later or log in with a code."


@dataclass(frozen=True, slots=True)
class AccountBlocked:
    """The credentials were right but the account is suspended or banned, for `reason`."""

    status: Status
    reason: str | None


@dataclass(frozen=True, slots=True)
class CodeSent:
    """A code (or, where no code can be given, a notice) is on its way; identical either way."""

    outgoing: tuple[Outgoing, ...]
    expires_in: int
    message: str = "If this address can receive it, a message is on its way."


@dataclass(frozen=True, slots=True)
class Throttled:
    """Too many codes were sent to this identifier; ask again after `retry_after` seconds."""

    retry_after: int


CodeFailure = Literal["wrong-or-expired", "invalid", "expired", "exhausted", "unavailable"]


@dataclass(frozen=True, slots=True)
class CodeRejected:
    """A code did not verify. Flows reachable without a session only ever say
    `wrong-or-expired`, so that they tell nothing about whether an account exists."""

    reason: CodeFailure


@dataclass(frozen=True, slots=True)
class ContactChanged:
    account: AccountView
    outgoing: tuple[Outgoing, ...]


@dataclass(frozen=True, slots=True)
class PasswordChanged:
    account: AccountView
    outgoing: tuple[Outgoing, ...]
    sessions_revoked: int


@dataclass(frozen=True, slots=True)
class Cancelled:
    """The account and everything it owned are gone; only `outgoing` remains to be sent."""

    account_id: int
    units_deleted: int
    held_until: datetime
    outgoing: tuple[Outgoing, ...]


@dataclass(frozen=True, slots=True)
class StatusChanged:
    """A suspension, ban or restore, with the units it disabled or re-enabled."""

    account: AccountView
    unit_ids: tuple[int, ...]
    outgoing: tuple[Outgoing, ...]


@dataclass(frozen=True, slots=True)
class HousekeepingReport:
    """What one run of the operator's account job did."""

    warned: tuple[int, ...]
    cancelled: tuple[int, ...]
    outgoing: tuple[Outgoing, ...]
    purged_pending: int
    purged_sessions: int
    purged_codes: int
    purged_holds: int
    purged_audit: int
    purged_devices: int
    purged_notices: int

    def as_dict(self) -> dict[str, object]:
        """Account ids and counts, without the messages' addresses: safe to print or log."""
        return {
            "warned": list(self.warned),
            "cancelled": list(self.cancelled),
            "messages": len(self.outgoing),
            "purged_pending": self.purged_pending,
            "purged_sessions": self.purged_sessions,
            "purged_codes": self.purged_codes,
            "purged_holds": self.purged_holds,
            "purged_audit": self.purged_audit,
            "purged_devices": self.purged_devices,
            "purged_notices": self.purged_notices,
        }


LoginOutcome = LoggedIn | StepUpRequired | LoginFailed | Locked | AccountBlocked
CodeLoginOutcome = LoggedIn | CodeRejected | Locked | AccountBlocked
