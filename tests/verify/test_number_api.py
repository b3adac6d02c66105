"""`POST /api/v1/verify/number` against the operator simulators, as real processes."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from humangate.app import create_app
from humangate.config import Settings
from humangate.db.models import VerifyUsage
from tests.app_services import services_of
from tests.verify._app import SignedClient, make_app
from tests.verify.carrier._simulators import (
    APP_ID,
    APP_KEY,
    CLIENT_ID,
    CLIENT_SECRET,
    DEVICE,
    OTHER,
    closed_url,
    running_simulator,
)

NUMBER = "/api/v1/verify/number"
REDIRECT = "https://shop.example/carrier/back"


@pytest.fixture(scope="module")
def operators() -> Iterator[tuple[str, str]]:
    with (
        running_simulator("camara", "--msisdn", DEVICE) as camara,
        running_simulator("cn-onetap", "--msisdn", DEVICE) as cn,
    ):
        yield camara, cn


def _carrier_settings(camara: str, cn: str) -> dict[str, Any]:
    return {
        "camara_authorize_url": f"{camara}/authorize",
        "camara_token_url": f"{camara}/token",
        "camara_api_url": camara,
        "camara_client_id": CLIENT_ID,
        "camara_client_secret": CLIENT_SECRET,
        "cn_onetap_url": f"{cn}/tokenValidate",
        "cn_onetap_app_id": APP_ID,
        "cn_onetap_app_key": APP_KEY,
        "carrier_timeout": 2.0,
    }


@pytest.fixture
def carrier_client(
    make_settings: Callable[..., Settings], operators: tuple[str, str]
) -> Iterator[TestClient]:
    settings = make_settings(**_carrier_settings(*operators))
    with TestClient(create_app(settings)) as client:
        yield client


def _camara_code(app: SignedClient, phone: str = "") -> str:
    asked = app.request(
        "POST",
        f"{NUMBER}/authorize",
        {
            "redirect_uri": REDIRECT,
            "state": secrets.token_urlsafe(16),
            "nonce": secrets.token_urlsafe(16),
            "phone_number": phone,
        },
    )
    assert asked.status_code == 200, asked.text
    # The device follows the URL over its mobile network; the operator redirects it back.
    redirected = httpx.get(asked.json()["authorization_url"])
    assert redirected.status_code == 302, redirected.text
    return parse_qs(urlsplit(redirected.headers["location"]).query)["code"][0]


def _number(app: SignedClient, phone: str, method: str, evidence: str) -> Any:
    return app.request(
        "POST",
        NUMBER,
        {"phone_number": phone, "method": method, "evidence": evidence, "redirect_uri": REDIRECT},
    )


def test_camara_confirms_the_devices_own_number_only(carrier_client: TestClient) -> None:
    app = make_app(carrier_client, channels=("carrier",))
    own = _number(app, DEVICE, "camara", _camara_code(app, DEVICE))
    assert own.status_code == 200, own.text
    assert own.json()["verified"] is True
    other = _number(app, OTHER, "camara", _camara_code(app))
    assert other.json()["verified"] is False
    code = _camara_code(app)
    assert _number(app, DEVICE, "camara", code).json()["verified"] is True
    replayed = _number(app, DEVICE, "camara", code).json()
    assert replayed["verified"] is False and replayed["reason"] == "invalid-evidence"


def test_cn_one_tap_confirms_and_counts_every_call(
    carrier_client: TestClient, operators: tuple[str, str]
) -> None:
    app = make_app(carrier_client, channels=("carrier",))

    def sdk_token() -> str:
        answer = httpx.post(f"{operators[1]}/_sim/sdk-token", json={"appid": APP_ID})
        return str(answer.json()["token"])

    assert _number(app, DEVICE, "cn-onetap", sdk_token()).json()["verified"] is True
    assert _number(app, OTHER, "cn-onetap", sdk_token()).json()["verified"] is False
    services = services_of(carrier_client)

    async def usage() -> list[tuple[str, str, int, int]]:
        async with services.sessions() as session:
            rows = await session.scalars(select(VerifyUsage))
            return [(row.channel, row.country, row.sent, row.approved) for row in rows]

    assert carrier_client.portal.call(usage) == [("carrier", "CN", 2, 1)]  # type: ignore[union-attr]


def test_the_apps_rules_apply_to_the_carrier_path(carrier_client: TestClient) -> None:
    sms_only = make_app(carrier_client, channels=("sms",))
    refused = _number(sms_only, DEVICE, "cn-onetap", "token")
    assert refused.status_code == 403 and refused.json()["error"] == "channel-not-allowed"
    gb_only = make_app(carrier_client, channels=("carrier",), countries=("GB",))
    refused = _number(gb_only, DEVICE, "cn-onetap", "token")
    assert refused.status_code == 403 and refused.json()["error"] == "country-not-allowed"
    app = make_app(carrier_client, channels=("carrier",))
    bad = app.request(
        "POST", NUMBER, {"phone_number": DEVICE, "method": "sim-swap", "evidence": "x"}
    )
    assert bad.status_code == 400


def test_an_unconfigured_or_unreachable_operator(
    make_settings: Callable[..., Settings], operators: tuple[str, str]
) -> None:
    with TestClient(create_app(make_settings())) as client:
        app = make_app(client, channels=("carrier",))
        refused = _number(app, DEVICE, "camara", "code")
        assert refused.status_code == 403 and refused.json()["error"] == "method-not-configured"
    down = closed_url()
    settings = make_settings(**_carrier_settings(down, down))
    with TestClient(create_app(settings)) as client:
        app = make_app(client, channels=("carrier",))
        failed = _number(app, DEVICE, "cn-onetap", "token")
        assert failed.status_code == 503 and failed.json()["error"] == "operator-unavailable"
        assert int(failed.headers["Retry-After"]) > 0
