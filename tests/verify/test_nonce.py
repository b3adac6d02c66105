"""A signed request's nonce on SQLite and on PostgreSQL: a request refused for any reason keeps
it, and the same request again, sent after it or at the same moment, is refused as a replay and
changes nothing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from humangate.app import create_app
from humangate.config import Settings
from humangate.db import verifications as rows
from humangate.db import verify_apps
from humangate.db.models import VerifyUsage
from humangate.errors import InvalidInput
from humangate.verify.signing import signature_headers
from tests.app_services import services_of
from tests.conftest import ORIGIN
from tests.verify._app import BACKENDS, START, SignedClient, backend_settings, codes_sent, make_app

PHONE = "+8613800138000"
UNKNOWN = f"VE{'0' * 32}"
NOWHERE = f"{START}/{UNKNOWN}"


@pytest.fixture(params=BACKENDS)
def settings(request: pytest.FixtureRequest, make_settings: Callable[..., Settings]) -> Settings:
    return backend_settings(request, make_settings)


@pytest.fixture(params=BACKENDS)
def cached_settings(
    request: pytest.FixtureRequest, make_settings: Callable[..., Settings]
) -> Settings:
    """A node that keeps an app's key (HUMANGATE_UNIT_CACHE_SECONDS) longer than a test runs."""
    return backend_settings(request, make_settings, unit_cache_seconds=600.0)


@pytest.fixture
def app(client: TestClient) -> SignedClient:
    return make_app(client)


@pytest.fixture
def verification(app: SignedClient, settings: Settings) -> tuple[str, str]:
    """A pending verification's id and its code."""
    started = app.start(PHONE)
    assert started.status_code == 201, started.text
    (code,) = codes_sent(settings.data_dir, PHONE)
    return started.json()["id"], code


class Signed:
    """One request signed once, so that it can be sent again exactly as it was."""

    def __init__(self, app: SignedClient, method: str, path: str, body: Any = None) -> None:
        self.method, self.path = method, path
        self.content = b"" if body is None else json.dumps(body).encode()
        self.headers = signature_headers(app.app_key, app.secret, method, path, self.content)
        if self.content:
            self.headers["Content-Type"] = "application/json"

    def send(self, client: TestClient) -> Any:
        return client.request(self.method, self.path, content=self.content, headers=self.headers)

    def send_at_once(self, client: TestClient, times: int) -> list[httpx.Response]:
        """`times` copies sent together to the running app, each on its own connection."""

        async def burst() -> list[httpx.Response]:
            transport = httpx.ASGITransport(app=client.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                sent = (
                    http.request(self.method, self.path, content=self.content, headers=self.headers)
                    for _ in range(times)
                )
                return list(await asyncio.gather(*sent))

        return list(client.portal.call(burst))  # type: ignore[union-attr]


def _wrong(code: str) -> str:
    return "0" * len(code) if code != "0" * len(code) else "1" * len(code)


def _error(reply: Any) -> tuple[int, str]:
    return reply.status_code, reply.json().get("error", "")


def _refusals(verification_id: str, code: str) -> list[tuple[str, str, Any, tuple[int, str]]]:
    check = f"{START}/{verification_id}/check"
    return [
        ("POST", check, {"code": "abc"}, (400, "invalid-code")),
        ("POST", check, {"digits": code}, (400, "bad-request")),
        ("POST", f"{NOWHERE}/check", {"code": code}, (404, "not-found")),
        ("GET", NOWHERE, None, (404, "not-found")),
        ("POST", f"{NOWHERE}/cancel", {}, (404, "not-found")),
        ("POST", START, {"to": PHONE, "channel": "sms"}, (429, "resend-too-soon")),
        ("POST", START, {"to": "nobody", "channel": "sms"}, (400, "invalid-destination")),
    ]


def test_a_refused_request_keeps_its_nonce(
    client: TestClient, app: SignedClient, verification: tuple[str, str], settings: Settings
) -> None:
    verification_id, code = verification
    for method, path, body, refused in _refusals(verification_id, code):
        request = Signed(app, method, path, body)
        assert _error(request.send(client)) == refused, (path, body)
        assert _error(request.send(client)) == (401, "nonce-reused"), (path, body)
    assert app.fetch(verification_id).json()["attempts_left"] == 5
    assert len(codes_sent(settings.data_dir, PHONE)) == 1


@pytest.mark.parametrize("refusal", range(7))
def test_the_same_refused_request_sent_at_once_is_answered_once(
    client: TestClient, app: SignedClient, verification: tuple[str, str], refusal: int
) -> None:
    verification_id, code = verification
    method, path, body, refused = _refusals(verification_id, code)[refusal]
    replies = [_error(reply) for reply in Signed(app, method, path, body).send_at_once(client, 6)]
    assert sorted(replies) == sorted([refused] + [(401, "nonce-reused")] * 5), replies


def test_the_same_check_sent_at_once_counts_one_attempt(
    client: TestClient, app: SignedClient, verification: tuple[str, str]
) -> None:
    verification_id, code = verification
    check = f"{START}/{verification_id}/check"
    denied = Signed(app, "POST", check, {"code": _wrong(code)}).send_at_once(client, 6)
    assert sorted(reply.status_code for reply in denied) == [200] + [401] * 5
    assert app.fetch(verification_id).json()["attempts_left"] == 4
    approved = Signed(app, "POST", check, {"code": code}).send_at_once(client, 6)
    assert sorted(_error(reply) for reply in approved) == [(200, "")] + [(401, "nonce-reused")] * 5
    assert app.fetch(verification_id).json()["status"] == "approved"


def test_a_block_that_fails_after_writing_loses_its_writes_and_keeps_the_nonce(
    client: TestClient, app: SignedClient
) -> None:
    services = services_of(client)
    request = Signed(app, "GET", NOWHERE)
    day = date(2026, 1, 2)

    async def fail_after_writing() -> None:
        verify = services.verify
        async with verify.signed(request.method, request.path, request.headers, b"") as call:
            await rows.add_usage(call.session, call.app.id, day=day, channel="sms", country="CN")
            raise InvalidInput("Refused after a write.", code="late-refusal")

    async def usage_rows() -> int:
        async with services.sessions() as session:
            counted = select(func.count()).select_from(VerifyUsage).where(VerifyUsage.day == day)
            return int(await session.scalar(counted) or 0)

    with pytest.raises(InvalidInput):
        client.portal.call(fail_after_writing)  # type: ignore[union-attr]
    assert client.portal.call(usage_rows) == 0  # type: ignore[union-attr]
    assert _error(request.send(client)) == (401, "nonce-reused")


def test_an_app_deleted_while_its_key_is_cached_is_unknown(cached_settings: Settings) -> None:
    """A request the app signed after it was deleted, on a node that still has its key, is
    refused as an unknown app, not a server error."""
    with TestClient(create_app(cached_settings), headers={"Origin": ORIGIN}) as client:
        app = make_app(client)
        assert _error(app.fetch(UNKNOWN)) == (404, "not-found")  # its key is cached now
        services = services_of(client)

        async def delete() -> None:
            async with services.sessions() as session:
                await verify_apps.delete_app(session, app.app_key)

        client.portal.call(delete)  # type: ignore[union-attr]
        assert _error(app.fetch(UNKNOWN)) == (401, "unknown-app")
        assert _error(app.start(PHONE)) == (401, "unknown-app")
