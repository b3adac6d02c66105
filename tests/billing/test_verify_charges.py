"""With billing on, the verification API charges its owner for each code sent and refuses with
402 `insufficient-balance`, sending nothing, once the balance cannot pay (SQLite, memory store).
Each verification keeps what it cost: its sends' prices less the credit notes given back."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from humangate.app import create_app
from humangate.billing import ledger
from humangate.billing.settlement import SettlementJob
from humangate.config import Settings
from humangate.db.models import Verification, Voucher
from humangate.messaging.outbox import read_outbox
from tests.app_services import services_of
from tests.billing._metering import balance_of, make_owner, usage_of
from tests.live import free_port
from tests.verify._app import make_app, shifted_clock

PHONE = "+8613800138000"


def costs_of(client: TestClient) -> dict[str, int | None]:
    """Each verification's cost, by its masked destination."""
    sessions = services_of(client).sessions

    async def read() -> dict[str, int | None]:
        async with sessions() as session:
            rows = (await session.scalars(select(Verification))).all()
            return {row.destination_masked: row.cost for row in rows}

    return client.portal.call(read)  # type: ignore[union-attr]


@pytest.fixture
def client(make_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    settings = make_settings(billing=True)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_codes_are_charged_and_refused_at_zero_before_sending(
    client: TestClient, tmp_path: Path
) -> None:
    services = services_of(client)
    owner = client.portal.call(  # type: ignore[union-attr]
        lambda: make_owner(
            services.sessions, prices={"sms:CN": 5, "email": 3}, balance=8, edition="enterprise"
        )
    )
    app = make_app(client, account_id=owner)
    sms = app.start(PHONE)
    assert sms.status_code == 201
    email = app.start("someone@example.com", channel="email")
    assert email.status_code == 201
    refused = app.start("+8613900139000")
    assert refused.status_code == 402, refused.text
    assert refused.json()["error"] == "insufficient-balance"
    assert len(read_outbox(services.settings.data_dir)) == 2  # the third was never sent
    # Each verification cost its channel's price; the refused one left no row.
    assert costs_of(client) == {sms.json()["to"]: 5, email.json()["to"]: 3}

    assert services.billing is not None
    job = SettlementJob(services.billing.store, services.sessions, interval=1)
    client.portal.call(job.run_round)  # type: ignore[union-attr]
    assert client.portal.call(usage_of, services.sessions, owner) == (2, 8)  # type: ignore[union-attr]
    assert client.portal.call(balance_of, services.sessions, owner) == 0  # type: ignore[union-attr]


def test_a_code_that_could_not_be_delivered_is_credited_back(
    make_settings: Callable[..., Settings],
) -> None:
    """The SMS gateway is down (nothing listens): the start answers 503 delivery-failed after
    its retry, and the owner gets the message's price back."""
    settings = make_settings(billing=True, sms_url=f"http://127.0.0.1:{free_port()}/send")
    with TestClient(create_app(settings)) as client:
        services = services_of(client)
        owner = client.portal.call(  # type: ignore[union-attr]
            lambda: make_owner(
                services.sessions, prices={"sms:CN": 5}, balance=0, edition="enterprise"
            )
        )

        async def grant(amount: int) -> None:  # the owner's money is a voucher's
            async with services.sessions() as session:
                now = datetime.now(UTC)
                voucher = Voucher(
                    amount=amount, expires_at=now + timedelta(days=30), created_at=now
                )
                session.add(voucher)
                await session.flush()
                await ledger.grant_voucher(session, voucher, owner, actor="system", now=now)
                await session.commit()

        client.portal.call(grant, 20)  # type: ignore[union-attr]
        app = make_app(client, account_id=owner)
        failed = app.start(PHONE)
        assert failed.status_code == 503 and failed.json()["error"] == "delivery-failed"
        assert list(costs_of(client).values()) == [0]  # charged 5, credited 5
        assert services.billing is not None
        job = SettlementJob(services.billing.store, services.sessions, interval=1)
        client.portal.call(job.run_round)  # type: ignore[union-attr]
        assert client.portal.call(usage_of, services.sessions, owner) == (1, 5)  # type: ignore[union-attr]
        assert client.portal.call(balance_of, services.sessions, owner) == 20  # type: ignore[union-attr]

        async def books() -> tuple[int, list[int]]:
            async with services.sessions() as session:
                held = await ledger.balance(session, owner, now=datetime.now(UTC))
            return held.cash, [voucher.remaining for voucher in held.vouchers]

        # The credit is a credit note (a voucher, valid a year), not cash: what the voucher paid
        # never becomes money a refund pays out.
        assert client.portal.call(books) == (0, [15, 5])  # type: ignore[union-attr]


def test_a_resend_adds_its_price_and_a_free_plan_costs_zero(client: TestClient) -> None:
    services = services_of(client)

    async def owner_of(prices: dict[str, int]) -> int:
        return await make_owner(services.sessions, prices=prices, balance=100, edition="enterprise")

    owner = client.portal.call(owner_of, {"sms:*": 4})  # type: ignore[union-attr]
    free = client.portal.call(owner_of, {})  # type: ignore[union-attr]
    app, free_app = make_app(client, account_id=owner), make_app(client, account_id=free)
    clock = shifted_clock(client, app, free_app)
    first = app.start(PHONE)
    assert first.status_code == 201
    clock.offset += 31  # after the resend cool-down
    again = app.start(PHONE)
    assert again.status_code == 200 and again.json()["sends"] == 2
    other = free_app.start("+8613900139000")
    assert other.status_code == 201
    assert costs_of(client) == {first.json()["to"]: 8, other.json()["to"]: 0}


def test_with_billing_off_a_verification_has_no_cost(
    make_settings: Callable[..., Settings],
) -> None:
    with TestClient(create_app(make_settings(billing=False))) as client:
        started = make_app(client).start(PHONE)
        assert started.status_code == 201
        assert costs_of(client) == {started.json()["to"]: None}
