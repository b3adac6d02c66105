"""Resends of one verification that fail before their message is sent (billing on): each was
charged, so each is given back once, and the verification's cost stays its delivered code's."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import func, select, text
from starlette.testclient import TestClient

from humangate.app import create_app
from humangate.config import Settings
from humangate.db.models import Verification, Voucher
from tests.app_services import services_of
from tests.billing._metering import make_owner
from tests.conftest import ORIGIN
from tests.verify._app import BACKENDS, backend_settings, codes_sent, make_app, shifted_clock

PHONE = "+8613800138000"
PRICE = 4

# The database refuses every resend (a second send of a verification): a fault after the charge
# and before the message, whatever the database.
_REFUSE_RESENDS = {
    "sqlite": [
        "CREATE TRIGGER refuse_resends BEFORE UPDATE OF sends ON verifications"
        " WHEN NEW.sends > 1 BEGIN SELECT RAISE(ABORT, 'resends refused'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_resends() RETURNS trigger AS $$ BEGIN"
        " RAISE EXCEPTION 'resends refused' USING ERRCODE = 'check_violation'; END $$"
        " LANGUAGE plpgsql",
        "CREATE TRIGGER refuse_resends BEFORE UPDATE OF sends ON verifications FOR EACH ROW"
        " WHEN (NEW.sends > 1) EXECUTE FUNCTION refuse_resends()",
    ],
}


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, make_settings: Callable[..., Settings]) -> Settings:
    return backend_settings(request, make_settings, billing=True)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    # The injected fault is a server error; the test reads its answer instead of re-raising it.
    app = create_app(settings)
    with TestClient(app, headers={"Origin": ORIGIN}, raise_server_exceptions=False) as test_client:
        yield test_client


def test_every_resend_that_fails_before_sending_is_credited(
    client: TestClient, settings: Settings
) -> None:
    services = services_of(client)
    portal = client.portal
    assert portal is not None
    owner = portal.call(
        lambda: make_owner(
            services.sessions, prices={"sms:CN": PRICE}, balance=100, edition="enterprise"
        )
    )
    app = make_app(client, account_id=owner)
    clock = shifted_clock(client, app)
    started = app.start(PHONE)
    assert started.status_code == 201, started.text

    async def refuse_resends() -> None:
        async with services.sessions() as session:
            for statement in _REFUSE_RESENDS[session.get_bind().dialect.name]:
                await session.execute(text(statement))
            await session.commit()

    portal.call(refuse_resends)
    for _ in range(2):
        clock.offset += 31  # past the resend cool-down
        assert app.start(PHONE).status_code >= 500
    assert len(codes_sent(settings.data_dir, PHONE)) == 1

    async def credit_notes() -> list[int]:
        async with services.sessions() as session:
            found = await session.scalars(
                select(Voucher.amount).where(
                    Voucher.account_id == owner, Voucher.batch == "credit-note"
                )
            )
            return list(found)

    async def cost() -> int | None:
        async with services.sessions() as session:
            return await session.scalar(
                select(func.max(Verification.cost)).where(Verification.id == started.json()["id"])
            )

    assert portal.call(credit_notes) == [PRICE, PRICE]  # one per failed resend
    assert portal.call(cost) == PRICE  # the delivered code's price alone
