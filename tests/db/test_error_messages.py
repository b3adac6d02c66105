"""A statement's error never quotes its parameters: logged, it would carry what they hold (a
code's digest, a destination's digest and masked form)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from humangate.db import verifications as rows
from humangate.db import verify_apps
from humangate.verify.apps import AppChanges

KEY = b"k" * 32
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
CODE_DIGEST = "c0de" * 16
DESTINATION_DIGEST = "de57" * 16
MASKED = "+86 138****4321"


def _values(app_id: int) -> dict[str, Any]:
    return {
        "id": "VE" + "1" * 32,
        "app_id": app_id,
        "channel": "sms",
        "destination_digest": DESTINATION_DIGEST,
        "destination_masked": MASKED,
        "country": "CN",
        "prefix": "86138",
        "locale": "en",
        "status": "pending",
        "code_digest": CODE_DIGEST,
        "attempts": 0,
        "sends": 1,
        "delivery": "queued",
        "created_at": NOW,
        "expires_at": NOW + timedelta(minutes=10),
        "last_sent_at": NOW,
    }


def _assert_no_parameters(error: IntegrityError) -> None:
    text = str(error)
    for secret in (CODE_DIGEST, DESTINATION_DIGEST, MASKED):
        assert secret not in text, text


async def test_a_failed_insert_does_not_quote_its_parameters(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        app = (
            await verify_apps.create_app(
                session, AppChanges(name="Shop"), account_id=None, server_key=KEY, now=NOW
            )
        ).app
        await rows.add_verification(session, _values(app.id))
        await session.commit()
    async with sessions() as session:
        with pytest.raises(IntegrityError) as taken:  # the same id again
            await rows.add_verification(session, _values(app.id))
    _assert_no_parameters(taken.value)
    async with sessions() as session:
        with pytest.raises(IntegrityError) as orphan:  # an app that does not exist
            await rows.add_verification(session, {**_values(app.id + 1), "id": "VE" + "2" * 32})
            await session.commit()
    _assert_no_parameters(orphan.value)
