"""The hourly account housekeeping job: inactivity warnings (and, when the operator turns it on
with HUMANGATE_CANCEL_INACTIVE, cancellations), stale sign-ups, ended sessions, dead codes and
expired holds, and audit entries, known devices and read notices past their retention
(HUMANGATE_AUDIT_RETENTION_DAYS, HUMANGATE_DEVICE_RETENTION_DAYS, HUMANGATE_NOTICE_RETENTION_DAYS),
with its messages delivered through the app's channels; and the verification API's records past
theirs (HUMANGATE_VERIFY_RETENTION_DAYS, humangate/db/verify_purge.py); with billing on, what
expired vouchers have left is voided (humangate/billing/vouchers.py) and each closed month's
statements are issued (humangate/billing/statements.py).

Every node runs the job; a lease in the shared store lets one of them do each round, so that no
owner is warned twice. `humangate housekeeping` runs one round by hand.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from humangate.accounts import AccountContext, HousekeepingReport, run_housekeeping
from humangate.accounts.delivery import deliver
from humangate.accounts.policy import RetentionPolicy
from humangate.config import Settings
from humangate.db.verify_purge import VerifyPurged, purge_verify_records
from humangate.jobs.base import PeriodicJob
from humangate.messaging import Channels, MessageTemplates

log = logging.getLogger(__name__)

LEASE_NAMESPACE = "housekeeping"
# HUMANGATE_VERIFY_RETENTION_DAYS's default: verifications are kept 30 days.
DEFAULT_VERIFY_RETENTION = timedelta(days=30)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def retention_from_settings(settings: Settings) -> RetentionPolicy:
    """The retention the HUMANGATE_*_RETENTION_DAYS settings ask for (0 keeps for ever)."""
    return RetentionPolicy.from_days(
        audit=settings.audit_retention_days,
        devices=settings.device_retention_days,
        notices=settings.notice_retention_days,
    )


def verify_retention_from_settings(settings: Settings) -> timedelta:
    """How long verifications are kept (HUMANGATE_VERIFY_RETENTION_DAYS, at least a day)."""
    return timedelta(days=settings.verify_retention_days)


async def housekeep(
    accounts: AccountContext,
    session: AsyncSession,
    templates: MessageTemplates,
    channels: Channels,
    *,
    now: datetime,
    cancel_inactive: bool,
    retention: RetentionPolicy | None = None,
    verify_retention: timedelta = DEFAULT_VERIFY_RETENTION,
    billing: bool = False,
) -> tuple[HousekeepingReport, bool]:
    """Run `run_housekeeping` once and deliver its messages, each in its account's language;
    then purge the verification API's records past their limits (`purge_verify_records`).

    Args:
        retention: what the round purges of accounts; None uses the documented defaults.
        verify_retention: how long verifications (and ended prefix blocks) are kept.
        billing: HUMANGATE_BILLING; on, expired vouchers' remainders are voided, then the
            statements of closed months issued.

    Returns:
        The report, and whether every message was delivered (failures are logged).
    """
    report = await run_housekeeping(
        accounts, session, now=now, cancel_inactive=cancel_inactive, retention=retention
    )
    purged = await purge_verify_records(session, now=now, retention=verify_retention)
    log_verify_purge(purged)
    if billing:
        from humangate.billing.vouchers import expire

        if expired := await expire(session, now=now):
            log.info("housekeeping: %d vouchers expired", expired)
        from humangate.billing.statements import issue_statements

        await issue_statements(session, now=now)
    delivered = await deliver(templates, channels, report.outgoing)
    return report, delivered


class HousekeepingJob(PeriodicJob):
    """Runs `run_housekeeping` every `every_seconds` and sends what it returns; a lease in the
    account store gives each round to one node.

    Args:
        sessions: the database.
        accounts: the account context (its store holds the lease).
        templates, channels: how messages are rendered and sent.
        cancel_inactive: cancel accounts warned 30 days ago and unused since; else only warn.
        retention: how long audit entries, known devices and read notices are kept.
        verify_retention: how long verifications are kept.
        billing: HUMANGATE_BILLING; on, each round voids what expired vouchers have left.
        every_seconds: the pause between rounds.
        clock: the time each round runs at (tests pass a fixed one).
    """

    failure = "account housekeeping failed"

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        accounts: AccountContext,
        templates: MessageTemplates,
        channels: Channels,
        *,
        cancel_inactive: bool,
        retention: RetentionPolicy | None = None,
        verify_retention: timedelta = DEFAULT_VERIFY_RETENTION,
        billing: bool = False,
        every_seconds: float = 3600.0,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        super().__init__(interval=every_seconds)
        self._sessions = sessions
        self._accounts = accounts
        self._templates = templates
        self._channels = channels
        self._cancel_inactive = cancel_inactive
        self._retention = RetentionPolicy() if retention is None else retention
        self._verify_retention = verify_retention
        self._billing = billing
        self._clock = clock

    async def run_once(self, now: datetime | None = None) -> tuple[HousekeepingReport, bool]:
        """One round, lease or not: the report, and whether every message was delivered."""
        async with self._sessions() as session:
            return await housekeep(
                self._accounts,
                session,
                self._templates,
                self._channels,
                now=now or self._clock(),
                cancel_inactive=self._cancel_inactive,
                retention=self._retention,
                verify_retention=self._verify_retention,
                billing=self._billing,
            )

    async def run_round(self) -> HousekeepingReport | None:
        """One round if this node wins the lease for it; None if another node has it."""
        # The lease ends a little before the next round, so a node's own schedule never
        # finds its previous lease still held.
        won = await self._accounts.store.put_if_absent(
            LEASE_NAMESPACE, "lease", b"1", ttl=max(self.interval * 0.9, 0.001)
        )
        if not won:
            return None
        report, delivered = await self.run_once()
        log_report(report, delivered)
        return report


def log_report(report: HousekeepingReport, delivered: bool) -> None:
    """Counts only: no account ids or addresses reach the log."""
    counts = (
        len(report.warned),
        len(report.cancelled),
        len(report.outgoing),
        report.purged_pending,
        report.purged_sessions,
        report.purged_codes,
        report.purged_holds,
        report.purged_audit,
        report.purged_devices,
        report.purged_notices,
    )
    if not any(counts):
        return
    log.info(
        "housekeeping: %d warned, %d cancelled, %d messages%s; purged %d sign-ups, %d sessions, "
        "%d codes, %d holds, %d audit entries, %d devices, %d read notices",
        *counts[:3],
        "" if delivered else " (some not delivered)",
        *counts[3:],
    )


def log_verify_purge(purged: VerifyPurged) -> None:
    """Counts only, and nothing when nothing went."""
    if any(purged.as_dict().values()):
        log.info(
            "housekeeping: purged %d verifications, %d nonces, %d usage rows, %d prefix blocks",
            purged.verifications,
            purged.nonces,
            purged.usage,
            purged.prefix_blocks,
        )
