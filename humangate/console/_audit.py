"""Audit entries the console's own pages write: an owner's changes to a unit.

The unit queries commit on their own, so each entry is written and committed right after the
change it records. Details hold names, modes and the names of changed fields, never a secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from humangate.accounts import audit
from humangate.console.web import Viewer, account_client, utcnow
from humangate.netaddr import ip_prefix
from humangate.units import UnitView

# Fields that are no owner's setting: identity, the salt, what feedback calibrates, and the
# model a threshold belongs to.
_NOT_SETTINGS = frozenset(
    {"id", "sitekey", "device_salt", "calibrated_threshold", "threshold_model"}
)


def changed_fields(before: UnitView, after: UnitView | None) -> list[str]:
    """The names of the unit's settings that differ, in the order UnitView lists them."""
    if after is None:
        return []
    return [
        f.name
        for f in fields(UnitView)
        if f.name not in _NOT_SETTINGS and getattr(before, f.name) != getattr(after, f.name)
    ]


async def record_unit_action(
    request: Request,
    db: AsyncSession,
    viewer: Viewer,
    action: audit.AuditAction,
    sitekey: str,
    details: Mapping[str, object] | None = None,
) -> None:
    """Record `action` on the owner's unit `sitekey`, by the owner, and commit."""
    await audit.record(
        db,
        action,
        actor=audit.Actor.account(viewer.account.id),
        account_id=viewer.account.id,
        now=utcnow(),
        ip_prefix=ip_prefix(account_client(request).ip),
        target=sitekey,
        details=details,
    )
    await db.commit()
