"""A check that read the verification before a resend replaced its code: the old code, right
for what was read, approves nothing, and the check answers as for a wrong code."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.testclient import TestClient

from humangate.config import Settings
from humangate.db import verifications as rows
from humangate.db import verify_apps
from humangate.verify.keys import code_digest
from humangate.verify.service import CheckOutcome
from tests.app_services import services_of
from tests.verify._app import codes_sent, make_app, settings_on_both_backends

__all__ = ["settings_on_both_backends"]  # the fixture `settings`, imported

PHONE = "+8613800138000"
MAX_ATTEMPTS = 5


async def _resend(
    session: AsyncSession, key: bytes, verification_id: str, now: datetime
) -> Row[Any] | None:
    """What a start for the same number does to the row: a new code (987654), five minutes."""
    return await rows.resend(
        session,
        verification_id,
        code_digest=code_digest(key, verification_id, "987654"),
        locale="en",
        now=now,
        expires_at=now + timedelta(minutes=5),
        price=None,
    )


def test_an_approval_read_before_a_resend_approves_nothing(client: TestClient) -> None:
    services = services_of(client)
    app = make_app(client)
    started = app.start(PHONE)
    assert started.status_code == 201, started.text
    verification_id = started.json()["id"]

    async def approve_after_a_resend() -> tuple[Row[Any] | None, Row[Any] | None]:
        now = datetime.now(UTC)
        async with services.sessions() as checking:
            found = await verify_apps.get_app(checking, app.app_key)
            assert found is not None
            read = await rows.read_verification(checking, found.id, verification_id)
            assert read is not None and read.status == "pending"
            async with services.sessions() as resending:  # a start for the same number
                resent = await _resend(resending, services.key, verification_id, now)
                await resending.commit()
            assert resent is not None and resent.code_digest != read.code_digest
            stale = await rows.approve(
                checking,
                verification_id,
                code_digest=read.code_digest,
                max_attempts=MAX_ATTEMPTS,
                now=now,
            )
            current = await rows.approve(
                checking,
                verification_id,
                code_digest=resent.code_digest,
                max_attempts=MAX_ATTEMPTS,
                now=now,
            )
            await checking.commit()
        return stale, current

    stale, current = client.portal.call(approve_after_a_resend)  # type: ignore[union-attr]
    assert stale is None  # the replaced code approved nothing, nor counted an attempt
    assert current is not None
    assert (current.status, current.attempts) == ("approved", 1)


# Only on PostgreSQL: SQLite takes one writer at a time, so a check and a resend cannot interleave.
@pytest.mark.parametrize("settings", ["postgres-redis"], indirect=True)
def test_a_check_that_meets_a_resend_on_postgresql_is_denied(
    client: TestClient, settings: Settings
) -> None:
    """The race itself, on PostgreSQL: the check reads the code, a resend holding the row makes
    its approval wait, and the approval runs on the resent row."""
    services = services_of(client)
    assert services.sessions.kw["bind"].dialect.name == "postgresql"
    app = make_app(client)
    started = app.start(PHONE)
    assert started.status_code == 201, started.text
    verification_id = started.json()["id"]
    (old_code,) = codes_sent(settings.data_dir, PHONE)

    async def waiting_on_a_lock() -> bool:
        async with services.sessions() as session:
            waiting = await session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
            return bool(waiting)

    async def check_during_a_resend() -> CheckOutcome:
        async with services.sessions() as session:
            found = await verify_apps.get_app(session, app.app_key)
        assert found is not None
        now = datetime.now(UTC)
        async with services.sessions() as resending:
            # The row is this transaction's until it commits.
            await _resend(resending, services.key, verification_id, now)
            checking = asyncio.create_task(services.verify.check(found, verification_id, old_code))
            while not await waiting_on_a_lock():  # the check read the row and waits to approve
                assert not checking.done(), checking.result()
                await asyncio.sleep(0.01)
            await resending.commit()
        return await checking

    outcome = client.portal.call(check_during_a_resend)  # type: ignore[union-attr]
    assert (outcome.status, outcome.valid) == ("denied", False)
    assert outcome.verification.attempts_left == MAX_ATTEMPTS - 1
