"""What a live account accumulates is not kept for ever: `run_housekeeping` deletes audit entries,
unused known devices and read notices past their `RetentionPolicy` limits, on SQLite and
PostgreSQL, and keeps everything a limit of None (a setting of 0) keeps."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from humangate import accounts as svc
from humangate.accounts import (
    CodeSent,
    LoggedIn,
    StepUpRequired,
    confirm_cancellation,
    list_entries,
    mark_read,
    request_cancellation,
    run_housekeeping,
)
from humangate.accounts.policy import RetentionPolicy
from humangate.db import accounts as account_db
from humangate.db.models import AuditEntry, KnownDevice, Notification
from tests.accounts.conftest import BROWSER, PASSWORD, SIGNED_UP, T0, Harness, code_in
from tests.accounts.test_login import again

# A year and a bit after the accounts below were made: past the default limits.
LATER = T0 + timedelta(days=401)


async def cancel(accounts: Harness, account_id: int, now: datetime) -> None:
    sent = await accounts.run(request_cancellation, account_id, client=BROWSER, now=now)
    assert isinstance(sent, CodeSent)
    code = code_in(sent.outgoing)
    await accounts.run(confirm_cancellation, account_id, code, client=BROWSER, now=now)


async def notice(accounts: Harness, account_id: int, subject: str, now: datetime) -> int:
    async with accounts.sessions() as session:
        row = await account_db.add_notification(
            session, account_id, kind="security", subject=subject, body="…", now=now
        )
        await session.commit()
        return row.id


async def read(accounts: Harness, account_id: int, notice_id: int, now: datetime) -> None:
    assert await accounts.db(mark_read, account_id, [notice_id], now=now) == 1


async def rows(accounts: Harness, column: Any, *where: Any) -> list[Any]:
    async with accounts.sessions() as session:
        return list(await session.scalars(select(column).where(*where)))


async def count(accounts: Harness, column: Any, *where: Any) -> int:
    async with accounts.sessions() as session:
        return int(await session.scalar(select(func.count(column)).where(*where)) or 0)


async def test_housekeeping_purges_what_the_default_limits_no_longer_keep(
    accounts: Harness,
) -> None:
    dormant = await accounts.signed_up("dormant@example.com")
    active = await accounts.signed_up("active@example.com")
    gone = await accounts.signed_up("gone@example.com")
    await cancel(accounts, gone.account.id, T0)
    (cancelled,) = (await accounts.db(list_entries, account_id=gone.account.id)).entries
    assert cancelled.action == "account.cancelled"
    # The active owner came back recently from the browser they signed up with.
    recent = LATER - timedelta(days=10)
    back = await accounts.run(
        svc.log_in, "active@example.com", PASSWORD, client=again(active), now=recent
    )
    assert isinstance(back, LoggedIn)
    old_read = await notice(accounts, dormant.account.id, "old, read", T0)
    await read(accounts, dormant.account.id, old_read, T0 + timedelta(days=1))
    await notice(accounts, dormant.account.id, "old, unread", T0)
    recent_read = await notice(accounts, dormant.account.id, "recent, read", recent)
    await read(accounts, dormant.account.id, recent_read, recent)
    audit_cutoff = LATER - timedelta(days=400)
    old_audit = await count(accounts, AuditEntry.id, AuditEntry.created_at < audit_cutoff)
    assert old_audit >= 7  # sign-ups, logins, devices, the cancellation

    report = await accounts.run(run_housekeeping, now=LATER, cancel_inactive=False)

    assert (report.purged_audit, report.purged_devices, report.purged_notices) == (old_audit, 1, 1)
    assert await count(accounts, AuditEntry.id, AuditEntry.created_at < audit_cutoff) == 0
    # Every entry of that age goes, the one recording a cancellation included.
    assert (await accounts.db(list_entries, account_id=gone.account.id)).entries == ()
    logins = await accounts.db(list_entries, account_id=active.account.id, action="login.succeeded")
    assert [e.created_at for e in logins.entries] == [recent]
    # The device last seen at sign-up is forgotten; the one used ten days ago is kept (the
    # cancelled account's went with it).
    kept = await rows(accounts, KnownDevice.account_id)
    assert kept == [active.account.id]
    subjects = await rows(accounts, Notification.subject, Notification.kind == "security")
    assert sorted(subjects) == ["old, unread", "recent, read"]


async def test_limits_of_none_keep_everything(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    old_read = await notice(accounts, owner.account.id, "old, read", T0)
    await read(accounts, owner.account.id, old_read, T0)
    keep = RetentionPolicy.from_days(audit=0, devices=0, notices=0)
    assert keep == RetentionPolicy(audit=None, devices=None, notices=None)
    before = (
        await count(accounts, AuditEntry.id),
        await count(accounts, KnownDevice.id),
        await count(accounts, Notification.id),
    )
    far = T0 + timedelta(days=3000)
    report = await accounts.run(run_housekeeping, now=far, cancel_inactive=False, retention=keep)
    assert (report.purged_audit, report.purged_devices, report.purged_notices) == (0, 0, 0)
    # Only the round's own inactivity warning (an entry and a notice) was added.
    after = (
        await count(accounts, AuditEntry.id),
        await count(accounts, KnownDevice.id),
        await count(accounts, Notification.id),
    )
    assert after == (before[0] + 1, before[1], before[2] + 1)


async def test_a_forgotten_device_needs_a_step_up_code_again(accounts: Harness) -> None:
    owner = await accounts.signed_up()
    month = RetentionPolicy(devices=timedelta(days=30))
    day_twenty = SIGNED_UP + timedelta(days=20)
    report = await accounts.run(run_housekeeping, now=day_twenty, retention=month)
    assert report.purged_devices == 0
    known = await accounts.run(
        svc.log_in, "owner@example.com", PASSWORD, client=again(owner), now=day_twenty
    )
    assert isinstance(known, LoggedIn)

    # Unused for thirty days and a minute after that login: forgotten.
    forgotten_at = day_twenty + timedelta(days=30, minutes=1)
    report = await accounts.run(run_housekeeping, now=forgotten_at, retention=month)
    assert report.purged_devices == 1
    step = await accounts.run(
        svc.log_in, "owner@example.com", PASSWORD, client=again(known), now=forgotten_at
    )
    assert isinstance(step, StepUpRequired)
    assert [o.template for o in step.outgoing] == ["new-device-code"]


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"audit": timedelta(0)}, "audit must be positive"),
        ({"devices": timedelta(days=-1)}, "devices must be positive"),
    ],
)
def test_a_limit_must_be_positive(changes: dict[str, timedelta], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        RetentionPolicy(**changes)  # type: ignore[arg-type]


def test_negative_day_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="notice retention cannot be negative"):
        RetentionPolicy.from_days(audit=400, devices=400, notices=-1)
    assert RetentionPolicy.from_days(audit=400, devices=400, notices=365) == RetentionPolicy()
