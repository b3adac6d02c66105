"""Statistics kept per edition: with billing on, an owner's hourly unit statistics are purged
past their edition's days (HUMANGATE_BILLING_STATS_DAYS_STANDARD, _ENTERPRISE; 0 keeps them for
ever). With billing off, and for units without an owner, nothing is purged here."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from humangate.billing.editions import EditionPolicy, allowance
from humangate.db._rows import run_bulk
from humangate.db.models import BillingAccount, BillingPlan, Unit
from humangate.db.stats import UnitStat

CHUNK = 500


async def _default_edition(session: AsyncSession) -> str:
    """The edition of the plan an owner without a billing account gets (see ledger)."""
    edition = await session.scalar(
        select(BillingPlan.edition).where(BillingPlan.is_default.is_(True)).limit(1)
    )
    if edition is None:
        edition = await session.scalar(
            select(BillingPlan.edition).where(BillingPlan.name == "standard")
        )
    return edition or "standard"


async def purge_statistics(session: AsyncSession, *, now: datetime, policy: EditionPolicy) -> int:
    """Delete the hourly statistics of owners' units older than their edition keeps them;
    commits, and returns how many rows went."""
    default = await _default_edition(session)
    rows = await session.execute(
        select(Unit.id, BillingPlan.edition)
        .outerjoin(BillingAccount, BillingAccount.account_id == Unit.account_id)
        .outerjoin(BillingPlan, BillingPlan.id == BillingAccount.plan_id)
        .where(Unit.account_id.is_not(None))
    )
    by_days: dict[int, list[int]] = defaultdict(list)
    for unit_id, edition in rows:
        days = allowance(billing=True, edition=edition or default, policy=policy).stats_days
        if days > 0:
            by_days[days].append(unit_id)
    purged = 0
    for days, unit_ids in by_days.items():
        cutoff = now - timedelta(days=days)
        for start in range(0, len(unit_ids), CHUNK):
            purged += await run_bulk(
                session,
                delete(UnitStat).where(
                    UnitStat.unit_id.in_(unit_ids[start : start + CHUNK]), UnitStat.hour < cutoff
                ),
            )
    await session.commit()
    return purged
