"""The housekeeping job on the app's SQLite database and development outbox, at a clock the test
passes in: warnings always, cancellations only when turned on, one node per round."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from humangate.accounts import AccountView, audit, list_entries, list_inbox, update_profile
from humangate.accounts.policy import RetentionPolicy
from humangate.config import Settings
from humangate.db.engine import create_engine, create_sessionmaker
from humangate.db.migrate import migrate
from humangate.db.models import Account
from humangate.jobs.housekeeping import HousekeepingJob
from humangate.messaging import OutboxEntry, read_outbox
from humangate.store import MemoryStore
from tests.app_services import services_of
from tests.console.test_units_http import BROWSER, make_owner, run

YEAR = timedelta(days=366)


def make_job(client: TestClient, clock: Callable[[], datetime], **options: Any) -> HousekeepingJob:
    """A job on the app's database and channels, with its own store (so its own lease)."""
    state = services_of(client)
    accounts = dataclasses.replace(state.accounts, store=MemoryStore())
    return HousekeepingJob(
        state.sessions,
        accounts,
        state.message_templates,
        state.channels,
        cancel_inactive=options.pop("cancel_inactive", False),
        clock=clock,
        **options,
    )


def mail_to(settings: Settings, to: str) -> list[OutboxEntry]:
    return [e for e in read_outbox(settings.data_dir, 1000) if e.to == to]


def account_row(client: TestClient, account_id: int) -> Account | None:
    return run(client, lambda s: s.get(Account, account_id))  # type: ignore[no-any-return]


def test_a_round_warns_then_keeps_the_account_while_cancelling_is_off(
    client: TestClient, settings: Settings
) -> None:
    owner = make_owner(client, "idle@example.com")
    later = datetime.now(UTC) + YEAR
    job = make_job(client, lambda: later)
    report, delivered = client.portal.call(job.run_once)  # type: ignore[union-attr]
    assert delivered and report.warned == (owner.account_id,) and report.cancelled == ()
    (mail,) = mail_to(settings, "idle@example.com")[-1:]
    assert mail.subject == "Your account will be cancelled for inactivity"
    cancel_after = (later + timedelta(days=30)).date().isoformat()
    assert cancel_after in mail.text
    inbox = run(client, lambda s: list_inbox(s, owner.account_id))
    assert inbox[0].subject == "Your account will be cancelled"

    # Past the grace period, with cancelling off: still there, and warned only once.
    after = later + timedelta(days=31)
    report, _ = client.portal.call(job.run_once, after)  # type: ignore[union-attr]
    assert (report.warned, report.cancelled, report.outgoing) == ((), (), ())
    assert account_row(client, owner.account_id) is not None
    assert len(mail_to(settings, "idle@example.com")) == 1  # one warning


def test_cancelling_when_turned_on(client: TestClient, settings: Settings) -> None:
    owner = make_owner(client, "idle@example.com")
    busy = make_owner(client, "busy@example.com")
    later = datetime.now(UTC) + YEAR
    run(client, lambda s: _touch(s, busy.account_id, later - timedelta(days=3)))
    job = make_job(client, lambda: later, cancel_inactive=True)
    first, _ = client.portal.call(job.run_once)  # type: ignore[union-attr]
    assert first.warned == (owner.account_id,)
    report, delivered = client.portal.call(  # type: ignore[union-attr]
        job.run_once, later + timedelta(days=31)
    )
    assert delivered and report.cancelled == (owner.account_id,)
    assert account_row(client, owner.account_id) is None
    assert account_row(client, busy.account_id) is not None
    assert mail_to(settings, "idle@example.com")[-1].subject == "Your account was cancelled"
    (entry,) = run(client, lambda s: list_entries(s, account_id=owner.account_id)).entries
    assert (entry.action, entry.actor_kind, entry.details["reason"]) == (
        "account.cancelled",
        "system",
        "inactivity",
    )


async def _touch(session: Any, account_id: int, when: datetime) -> None:
    row = await session.get(Account, account_id)
    row.last_active_at = when
    await session.commit()


def test_the_warning_goes_out_in_the_account_language(
    client: TestClient, settings: Settings
) -> None:
    owner = make_owner(client, "idle@example.com")
    ctx = services_of(client).accounts

    async def to_chinese(session: Any) -> AccountView:
        now = datetime.now(UTC)
        return await update_profile(
            ctx, session, owner.account_id, language="zh-CN", client=BROWSER, now=now
        )

    run(client, to_chinese)
    later = datetime.now(UTC) + YEAR
    client.portal.call(make_job(client, lambda: later).run_once)  # type: ignore[union-attr]
    mail = mail_to(settings, "idle@example.com")[-1]
    assert mail.subject == "您的账户因长期未使用将被注销"


def test_one_node_per_round(client: TestClient, settings: Settings) -> None:
    make_owner(client, "idle@example.com")
    later = datetime.now(UTC) + YEAR
    first = make_job(client, lambda: later)
    # A second node shares the first one's store, hence its lease.
    second = HousekeepingJob(
        services_of(client).sessions,
        first._accounts,
        services_of(client).message_templates,
        services_of(client).channels,
        cancel_inactive=False,
        clock=lambda: later,
    )
    won = client.portal.call(first.run_round)  # type: ignore[union-attr]
    assert won is not None and len(won.warned) == 1
    assert client.portal.call(second.run_round) is None  # type: ignore[union-attr]
    assert len(mail_to(settings, "idle@example.com")) == 1


def test_the_background_loop_runs_and_stops(
    client: TestClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    owner = make_owner(client, "idle@example.com")
    later = datetime.now(UTC) + YEAR
    job = make_job(client, lambda: later, every_seconds=0.01)

    def reported() -> bool:
        return any("1 warned" in r.getMessage() for r in caplog.records)

    async def until_reported() -> None:
        # The round logs its counts last, after the commit and the delivery.
        job.start()
        try:
            while not reported():
                await asyncio.sleep(0.01)
        finally:
            await job.close()

    with caplog.at_level(logging.INFO, logger="humangate.jobs.housekeeping"):
        client.portal.call(asyncio.wait_for, until_reported(), 30)  # type: ignore[union-attr]
    row = account_row(client, owner.account_id)
    assert row is not None and row.inactivity_warned_at is not None
    assert any("1 warned, 0 cancelled, 1 messages" in r.getMessage() for r in caplog.records)
    # Counts only: no address or account id reaches the log.
    assert all("idle@example.com" not in r.getMessage() for r in caplog.records)
    assert len(mail_to(settings, "idle@example.com")) == 1


def test_an_undeliverable_warning_is_reported(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    from tests.console.conftest import open_client

    settings = make_settings(console_widget=False, demo=False, environment="production")
    client = open_client(settings)
    try:
        make_owner(client, "idle@example.com")
        later = datetime.now(UTC) + YEAR
        job = make_job(client, lambda: later)
        with caplog.at_level(logging.WARNING):
            report, delivered = client.portal.call(job.run_once)  # type: ignore[union-attr]
        assert len(report.warned) == 1 and not delivered
        assert read_outbox(settings.data_dir) == []  # production never writes the outbox
        assert any("not delivered" in r.getMessage() for r in caplog.records)
    finally:
        client.__exit__(None, None, None)


def test_a_round_purges_with_the_jobs_retention(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    owner = make_owner(client, "owner@example.com")
    month = RetentionPolicy(
        audit=timedelta(days=30), devices=timedelta(days=30), notices=timedelta(days=30)
    )
    later = datetime.now(UTC) + timedelta(days=31)
    job = make_job(client, lambda: later, retention=month, every_seconds=0.01)
    with caplog.at_level(logging.INFO, logger="humangate.jobs.housekeeping"):
        report = client.portal.call(job.run_round)  # type: ignore[union-attr]
    assert report is not None and report.purged_audit >= 2 and report.purged_devices == 1
    # The round's counts reach the log; nothing names the owner.
    (line,) = [r.getMessage() for r in caplog.records if "audit entries" in r.getMessage()]
    assert f"{report.purged_audit} audit entries, 1 devices, 0 read notices" in line
    assert "owner@example.com" not in line
    # Everything about the owner was written at sign-up, 31 days before the round.
    assert run(client, lambda s: list_entries(s, account_id=owner.account_id)).entries == ()


def test_the_app_runs_the_job_with_the_retention_settings(
    make_settings: Callable[..., Settings],
) -> None:
    from tests.console.conftest import open_client

    settings = make_settings(console_widget=False, demo=False, audit_retention_days=5)
    asyncio.run(_add_audit_entries(settings, ages=(6, 4)))
    client = open_client(settings)
    sessions = services_of(client).sessions

    async def until_one_is_left() -> list[Any]:
        while True:
            async with sessions() as session:
                page = await list_entries(session, action="account.admin_created")
            if len(page.entries) == 1:
                return list(page.entries)
            await asyncio.sleep(0.01)

    try:
        # The app's job runs its first round as it starts; the default 400 days would keep both.
        (kept,) = client.portal.call(  # type: ignore[union-attr]
            asyncio.wait_for, until_one_is_left(), 30
        )
    finally:
        client.__exit__(None, None, None)
    assert kept.created_at > datetime.now(UTC) - timedelta(days=5)


async def _add_audit_entries(settings: Settings, *, ages: tuple[int, ...]) -> None:
    """Entries `ages` days old, in the app's database before the app starts."""
    engine = create_engine(settings.resolved_database_url)
    try:
        await migrate(engine)
        async with create_sessionmaker(engine)() as session:
            now = datetime.now(UTC)
            for days in ages:
                await audit.record(
                    session,
                    "account.admin_created",
                    actor=audit.SYSTEM,
                    account_id=None,
                    now=now - timedelta(days=days),
                )
            await session.commit()
    finally:
        await engine.dispose()
