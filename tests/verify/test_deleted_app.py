"""A start whose app is deleted while it runs (after its request was authenticated, before its
verification is written): a 401 `unknown-app` as for a request signed by a deleted app, no
code sent, and nothing logged as a server error."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from starlette.testclient import TestClient

from humangate.config import Settings
from humangate.db import verify_apps
from humangate.verify.service import VerifyPolicy, VerifyService
from tests.app_services import replace_services, services_of
from tests.verify._app import SignedClient, codes_sent, make_app, settings_on_both_backends

__all__ = ["settings_on_both_backends"]  # the fixture `settings`, imported

PHONE = "+8613800138000"


def _delete_when_charged(client: TestClient, app: SignedClient) -> None:
    """The verification service, its charge (the last step before the verification is written)
    deleting the app first; no resend cool-down."""
    services = services_of(client)

    async def delete_then_charge(account_id: int | None, item: str) -> int:
        async with services.sessions() as session:
            await verify_apps.delete_app(session, app.app_key)
        return 0

    async def any_token(*_: Any) -> bool:
        return True

    service = VerifyService(
        sessions=services.sessions,
        store=services.store,
        key=services.key,
        channels=services.channels,
        policy=VerifyPolicy(resend_seconds=0),
        check_token=any_token,
        charge=delete_then_charge,
    )
    replace_services(client, verify=service)


def _answer(reply: Any) -> tuple[int, str]:
    return reply.status_code, reply.json().get("error", "")


def _server_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]


def test_a_start_whose_app_is_deleted_meanwhile_is_unknown(
    client: TestClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(client)
    _delete_when_charged(client, app)
    with caplog.at_level(logging.ERROR):
        assert _answer(app.start(PHONE)) == (401, "unknown-app")
    assert codes_sent(settings.data_dir, PHONE) == []
    assert _server_errors(caplog) == []
    assert _answer(app.start(PHONE)) == (401, "unknown-app")  # the node forgot its key


def test_a_resend_whose_app_is_deleted_meanwhile_is_unknown_and_sends_nothing(
    client: TestClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(client)
    started = app.start(PHONE)
    assert started.status_code == 201, started.text
    assert len(codes_sent(settings.data_dir, PHONE)) == 1
    _delete_when_charged(client, app)
    with caplog.at_level(logging.ERROR):
        assert _answer(app.start(PHONE)) == (401, "unknown-app")
    assert len(codes_sent(settings.data_dir, PHONE)) == 1  # no code for a deleted verification
    assert _server_errors(caplog) == []
