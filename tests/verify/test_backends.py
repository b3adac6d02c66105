"""The verification API on PostgreSQL and Redis: the main flow, and races that only a real
database with concurrent connections can show."""

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
from tests.verify._app import SignedClient, codes_sent, make_app, shifted_clock

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


def _other(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


def test_start_check_and_approve(app: SignedClient, data_dir: Path) -> None:
    started = app.start(PHONE)
    assert started.status_code == 201, started.text
    verification = started.json()
    assert verification["status"] == "pending" and verification["carrier"] == "china-mobile"
    (code,) = codes_sent(data_dir, PHONE)
    denied = app.check(verification["id"], _other(code)).json()
    assert (denied["status"], denied["valid"], denied["attempts_left"]) == ("denied", False, 4)
    approved = app.check(verification["id"], code).json()
    assert (approved["status"], approved["valid"]) == ("approved", True)
    assert app.check(verification["id"], code).json()["status"] == "expired"
    assert app.fetch(verification["id"]).json()["status"] == "approved"


def test_resend_waits_for_the_cool_down(
    client: TestClient, app: SignedClient, data_dir: Path
) -> None:
    clock = shifted_clock(client, app)
    first = app.start(PHONE).json()
    too_soon = app.start(PHONE)
    assert too_soon.status_code == 429 and too_soon.json()["error"] == "resend-too-soon"
    assert 1 <= int(too_soon.headers["Retry-After"]) <= 30
    clock.offset += 31
    again = app.start(PHONE)
    assert again.status_code == 200 and again.json()["id"] == first["id"]
    assert again.json()["sends"] == 2
    old, new = codes_sent(data_dir, PHONE)
    if old != new:
        assert app.check(first["id"], old).json()["status"] == "denied"
    assert app.check(first["id"], new).json()["status"] == "approved"


def test_cancel_stops_the_code(app: SignedClient, data_dir: Path) -> None:
    started = app.start(PHONE).json()
    (code,) = codes_sent(data_dir, PHONE)
    assert app.cancel(started["id"]).json()["status"] == "canceled"
    assert app.check(started["id"], code).json()["status"] == "canceled"
    again = app.cancel(started["id"])
    assert again.status_code == 410 and again.json()["error"] == "not-pending"


def test_an_idempotency_key_answers_the_same_verification(
    app: SignedClient, data_dir: Path
) -> None:
    first = app.start(PHONE, idempotency_key="signup-42")
    second = app.start(PHONE, idempotency_key="signup-42")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    other = app.start("+8613900139000", idempotency_key="signup-42")
    assert other.status_code == 400 and other.json()["error"] == "idempotency-key-reused"
    assert len(codes_sent(data_dir, PHONE)) == 1


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
