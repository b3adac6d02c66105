"""The verification API's races on PostgreSQL and Redis, which only a real database with
concurrent connections can show (tests/verify/test_api.py runs the main flow on both backends)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from humangate.app import create_app
from humangate.config import Settings
from humangate.db.models import Verification
from humangate.db.verify_apps import get_app
from humangate.errors import Refusal
from humangate.verify.service import StartRequest
from tests.app_services import services_of
from tests.conftest import ORIGIN
from tests.verify._app import SignedClient, codes_sent, make_app

PHONE = "+8613800138000"
# Generous caps: the session's Redis keeps counting across tests whose fresh databases all number
# their first app 1.
CAPS = {"destination_daily_cap": 100, "network_hourly_cap": 100_000, "prefix_hourly_cap": 100_000}


@pytest.fixture
def settings(
    make_settings: Callable[..., Settings], fresh_postgres_url: str, redis_url: str
) -> Settings:
    return make_settings(database_url=fresh_postgres_url, redis_url=redis_url)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), headers={"Origin": ORIGIN}) as test_client:
        assert services_of(test_client).sessions.kw["bind"].dialect.name == "postgresql"
        yield test_client


@pytest.fixture
def app(client: TestClient) -> SignedClient:
    return make_app(client, caps=CAPS)


@pytest.fixture
def data_dir(settings: Settings) -> Path:
    return settings.data_dir


# --- races --------------------------------------------------------------------------------------


def _gather(client: TestClient, app: SignedClient, calls: Callable[[Any], list[Any]]) -> list[Any]:
    """Run the coroutines `calls(app_view)` makes at once on the app's event loop."""
    services = services_of(client)

    async def work() -> list[Any]:
        async with services.sessions() as session:
            view = await get_app(session, app.app_key)
        assert view is not None
        return await asyncio.gather(*calls(view), return_exceptions=True)

    return list(client.portal.call(work))  # type: ignore[union-attr]


def test_twenty_concurrent_right_codes_approve_exactly_once(
    client: TestClient, app: SignedClient, data_dir: Path
) -> None:
    verify = services_of(client).verify
    # A few rounds: the race between checks is won in a different order each time.
    for phone in ("+8613800138000", "+8613900139000", "+8613700137000"):
        started = app.start(phone).json()
        (code,) = codes_sent(data_dir, phone)
        verification_id = started["id"]

        def checks(
            view: Any, verification_id: str = verification_id, code: str = code
        ) -> list[Any]:
            return [verify.check(view, verification_id, code) for _ in range(20)]

        outcomes = _gather(client, app, checks)
        assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
        assert [o.valid for o in outcomes].count(True) == 1, [o.status for o in outcomes]
        assert [o.status for o in outcomes].count("approved") == 1
        assert app.fetch(started["id"]).json()["status"] == "approved"


def test_twenty_concurrent_right_codes_over_http_approve_exactly_once(
    app: SignedClient, data_dir: Path
) -> None:
    started = app.start(PHONE).json()
    (code,) = codes_sent(data_dir, PHONE)
    with ThreadPoolExecutor(max_workers=20) as pool:
        replies = list(pool.map(lambda _: app.check(started["id"], code), range(20)))
    assert all(reply.status_code == 200 for reply in replies), [r.text for r in replies]
    assert [reply.json()["valid"] for reply in replies].count(True) == 1
    assert app.fetch(started["id"]).json()["status"] == "approved"


def _count_verifications(client: TestClient) -> int:
    services = services_of(client)

    async def count() -> int:
        async with services.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(Verification)) or 0)

    return int(client.portal.call(count))  # type: ignore[union-attr]


def test_twenty_concurrent_starts_with_one_key_send_one_message(
    client: TestClient, app: SignedClient, data_dir: Path
) -> None:
    verify = services_of(client).verify
    request = StartRequest(to=PHONE, channel="sms", idempotency_key="signup-race")
    outcomes = _gather(client, app, lambda view: [verify.start(view, request) for _ in range(20)])
    crashed = [o for o in outcomes if not isinstance(o, tuple | Refusal)]
    assert not crashed, crashed
    answers = [o for o in outcomes if isinstance(o, tuple)]
    assert len({view.id for view, _ in answers}) == 1
    assert [created for _, created in answers].count(True) == 1
    assert len(codes_sent(data_dir, PHONE)) == 1
    assert _count_verifications(client) == 1


def test_twenty_concurrent_starts_over_http_are_never_a_server_error(
    app: SignedClient, data_dir: Path
) -> None:
    """The starts that lose the race for the key's unique row answer the winner's verification
    (200, same id); before that was handled, they failed with a 500."""
    with ThreadPoolExecutor(max_workers=20) as pool:
        replies = list(
            pool.map(lambda _: app.start(PHONE, idempotency_key="signup-http"), range(20))
        )
    statuses = [reply.status_code for reply in replies]
    assert all(status < 500 for status in statuses), [r.text for r in replies]
    assert statuses.count(201) == 1
    ids = {reply.json()["id"] for reply in replies if reply.status_code in (200, 201)}
    assert len(ids) == 1
    for reply in replies:
        if reply.status_code >= 400:
            assert reply.json()["error"], reply.text
    assert len(codes_sent(data_dir, PHONE)) == 1
