"""What a verification cost when several resends of it fail at once (billing on): each failed
send takes back its own price from the cost as it stands, so none overwrites another's."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from humangate.app import create_app
from humangate.config import Settings
from humangate.db.models import Verification
from humangate.verify.signing import signature_headers
from tests.app_services import services_of
from tests.billing._metering import make_owner
from tests.verify._app import (
    BACKENDS,
    START,
    SignedClient,
    backend_settings,
    make_app,
    shifted_clock,
)
from tests.verify.test_delivery import ScriptedGateway, sms_gateway  # noqa: F401 - a fixture

PHONE = "+8613800138000"
PRICE = 4
RESENDS = 4


@pytest.fixture(params=BACKENDS)
def settings(
    request: pytest.FixtureRequest,
    make_settings: Callable[..., Settings],
    sms_gateway: ScriptedGateway,  # noqa: F811 - the fixture imported above
) -> Settings:
    gateway = {"sms_url": f"http://127.0.0.1:{sms_gateway.port}/send", "sms_from": "Shop"}
    return backend_settings(request, make_settings, billing=True, **gateway)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def _starts_at_once(client: TestClient, app: SignedClient, times: int) -> list[httpx.Response]:
    """`times` starts to PHONE, each signed on its own, sent together to the running app."""
    body = json.dumps({"to": PHONE, "channel": "sms"}).encode()

    async def burst() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            sent = []
            for _ in range(times):
                headers = signature_headers(
                    app.app_key, app.secret, "POST", START, body, timestamp=int(app.clock())
                )
                headers["Content-Type"] = "application/json"
                sent.append(http.post(START, content=body, headers=headers))
            return list(await asyncio.gather(*sent))

    return list(client.portal.call(burst))  # type: ignore[union-attr]


def test_failed_resends_at_once_each_take_back_their_own_price(
    client: TestClient,
    sms_gateway: ScriptedGateway,  # noqa: F811 - the fixture imported above
) -> None:
    services = services_of(client)
    owner = client.portal.call(  # type: ignore[union-attr]
        lambda: make_owner(
            services.sessions, prices={"sms:CN": PRICE}, balance=100, edition="enterprise"
        )
    )
    app = make_app(client, account_id=owner)
    clock = shifted_clock(client, app)
    started = app.start(PHONE)
    assert started.status_code == 201, started.text
    clock.offset += 31  # past the resend cool-down
    sms_gateway.then = 400  # the gateway refuses every message from now on (no retry)
    replies: list[Any] = _starts_at_once(client, app, RESENDS)
    errors = [reply.json()["error"] for reply in replies]
    # A start that read the verification after another's resend waits out the cool-down; one
    # that read it after a resend failed starts a verification of its own.
    assert set(errors) <= {"delivery-failed", "resend-too-soon"}, errors
    assert "delivery-failed" in errors

    async def costs() -> dict[str, int | None]:
        async with services.sessions() as session:
            return {row.id: row.cost for row in await session.scalars(select(Verification))}

    # Every send was charged PRICE and every failed one given back PRICE: what the verifications
    # cost together is the one code delivered, whichever send wrote last.
    found = client.portal.call(costs)  # type: ignore[union-attr]
    assert found[started.json()["id"]] == PRICE, found
    assert sum(cost or 0 for cost in found.values()) == PRICE, found
