"""The audit log: append-only entries for every security-relevant account action, and the query
the admin page pages through. Nothing here updates or deletes an entry; only an account's
cancellation removes the entries about it (keeping the one that records the cancellation), and the
housekeeping job removes entries older than the audit retention (`RetentionPolicy`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, get_args

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from humangate.db.accounts import aware
from humangate.db.models import AuditEntry
from humangate.errors import InvalidInput
from humangate.netaddr import ip_prefix as network_of

AuditAction = Literal[
    "account.signup",
    "account.confirmed",
    "account.admin_created",
    "login.succeeded",
    "login.failed",
    "login.locked",
    "login.blocked",
    "login.step_up",
    "code.sent",
    "code.rejected",
    "session.logout",
    "session.revoked",
    "session.revoked_others",
    "device.added",
    "passkey.registered",
    "passkey.removed",
    "contact.change_requested",
    "contact.changed",
    "password.changed",
    "password.reset",
    "profile.updated",
    "terms.accepted",
    "account.exported",
    "account.cancel_requested",
    "account.cancelled",
    "account.inactivity_warned",
    "account.suspended",
    "account.banned",
    "account.restored",
    "login.limited",
    # Recorded by the console: an owner's unit changes, and an operator's notice.
    "unit.created",
    "unit.updated",
    "unit.secret_rotated",
    "unit.disabled",
    "unit.enabled",
    "unit.deleted",
    # An owner's changes to a verification API app, and a prefix block lifted by hand.
    "app.created",
    "app.updated",
    "app.secret_rotated",
    "app.disabled",
    "app.enabled",
    "app.deleted",
    "app.unblocked",
    "notice.sent",
    "notice.broadcast",
    "notice.delivered",
    # Billing (humangate/billing/): an operator's money actions, vouchers and plans, an owner's
    # redemption.
    "billing.top-up",
    "billing.adjustment",
    "billing.refund",
    "billing.voucher-issued",
    "billing.voucher-granted",
    "billing.voucher-voided",
    "billing.voucher-redeemed",
    "billing.plan-created",
    "billing.plan-updated",
    "billing.plan-default",
    "billing.plan-assigned",
]
ACTIONS: frozenset[str] = frozenset(get_args(AuditAction))
# The actions the console's page modules (and the billing package) record rather than the
# account core.
CONSOLE_ACTIONS: frozenset[str] = frozenset(
    action for action in ACTIONS if action.startswith(("unit.", "app.", "notice.", "billing."))
)
ActorKind = Literal["account", "admin", "system", "operator"]

# Detail keys that would put a secret in the log; refusing them keeps every caller honest.
_SECRET_WORDS = ("password", "code", "token", "digest", "hash", "secret")
MAX_PAGE = 200


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did it: the account itself, an admin (by account id), the system, or the operator
    at the command line."""

    kind: ActorKind
    id: int | None = None

    @classmethod
    def account(cls, account_id: int) -> Actor:
        return cls("account", account_id)

    @classmethod
    def admin(cls, account_id: int) -> Actor:
        return cls("admin", account_id)


SYSTEM = Actor("system")
# Someone with a shell on the server, at the command line (`humangate account cancel`,
# `humangate notice`): a person, unlike the system's own jobs, but no admin account.
OPERATOR = Actor("operator")


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: int
    created_at: datetime
    actor_kind: str
    actor_id: int | None
    action: str
    account_id: int | None
    target: str | None
    ip_prefix: str | None
    details: Mapping[str, object] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "created_at": self.created_at.isoformat(),
            "actor": self.actor_kind
            if self.actor_id is None
            else f"{self.actor_kind}:{self.actor_id}",
            "action": self.action,
            "account_id": self.account_id,
            "target": self.target,
            "ip_prefix": self.ip_prefix,
            "details": dict(self.details),
        }


@dataclass(frozen=True, slots=True)
class AuditPage:
    """One page, newest first; pass `next_before_id` as `before_id` for the next page."""

    entries: tuple[AuditRecord, ...]
    next_before_id: int | None


async def record(
    session: AsyncSession,
    action: AuditAction,
    *,
    actor: Actor,
    account_id: int | None,
    now: datetime,
    ip_prefix: str | None = None,
    target: str | None = None,
    details: Mapping[str, object] | None = None,
) -> None:
    """Append one entry (flushed with the caller's transaction).

    Raises:
        InvalidInput: an action outside ACTIONS, or a detail key that names a secret.
    """
    if action not in ACTIONS:
        raise InvalidInput(f"{action!r} is not an audit action.")
    details = dict(details or {})
    for key in details:
        if any(word in key.lower() for word in _SECRET_WORDS):
            raise InvalidInput(f"Audit details must not hold {key!r}: no secrets in the log.")
    session.add(
        AuditEntry(
            created_at=now,
            actor_kind=actor.kind,
            actor_id=actor.id,
            action=action,
            account_id=account_id,
            target=target[:200] if target else None,
            ip_prefix=ip_prefix,
            details=details,
        )
    )
    await session.flush()


async def record_by_account(
    session: AsyncSession,
    action: AuditAction,
    account_id: int | None,
    *,
    ip: str | None,
    now: datetime,
    target: str | None = None,
    details: Mapping[str, object] | None = None,
) -> None:
    """Append an entry for what an account did itself, from the network of `ip` (only its
    prefix is kept); with no account (an unknown requester) the actor is the system."""
    actor = Actor.account(account_id) if account_id else SYSTEM
    await record(
        session,
        action,
        actor=actor,
        account_id=account_id,
        now=now,
        ip_prefix=network_of(ip),
        target=target,
        details=details,
    )


async def list_entries(
    session: AsyncSession,
    *,
    account_id: int | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> AuditPage:
    """Entries matching every given filter, newest first.

    Args:
        account_id: entries about this account.
        action: one action code, or a prefix ending in "." ("login." for every login action).
        since, until: `since <= created_at < until`.
        before_id: the `next_before_id` of the previous page.
        limit: page size, 1 to MAX_PAGE.

    Raises:
        InvalidInput: an unknown action or an out-of-range limit.
    """
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"An audit page holds 1 to {MAX_PAGE} entries.")
    statement = select(AuditEntry)
    if action is not None:
        if action.endswith("."):
            if not any(known.startswith(action) for known in ACTIONS):
                raise InvalidInput(f"No audit action starts with {action!r}.")
            statement = statement.where(AuditEntry.action.startswith(action, autoescape=True))
        elif action not in ACTIONS:
            raise InvalidInput(f"{action!r} is not an audit action.")
        else:
            statement = statement.where(AuditEntry.action == action)
    if account_id is not None:
        statement = statement.where(AuditEntry.account_id == account_id)
    if since is not None:
        statement = statement.where(AuditEntry.created_at >= since)
    if until is not None:
        statement = statement.where(AuditEntry.created_at < until)
    if before_id is not None:
        statement = statement.where(AuditEntry.id < before_id)
    rows = (await session.scalars(statement.order_by(AuditEntry.id.desc()).limit(limit + 1))).all()
    entries = tuple(to_record(row) for row in rows[:limit])
    return AuditPage(entries, entries[-1].id if len(rows) > limit else None)


def to_record(row: AuditEntry) -> AuditRecord:
    return AuditRecord(
        id=row.id,
        created_at=aware(row.created_at),
        actor_kind=row.actor_kind,
        actor_id=row.actor_id,
        action=row.action,
        account_id=row.account_id,
        target=row.target,
        ip_prefix=row.ip_prefix,
        details=dict(row.details or {}),
    )
