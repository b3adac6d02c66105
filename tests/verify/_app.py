"""Helpers for the verification API's tests: an app made through the real database functions,
signed requests, and the codes the development outbox received."""

from __future__ import annotations

import dataclasses
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from humangate.config import Settings
from humangate.db import verify_apps
from humangate.messaging.outbox import read_outbox
from humangate.services import open_verify_service
from humangate.store import MemoryStore
from humangate.verify.apps import AppChanges
from humangate.verify.signing import signature_headers
from tests.app_services import ShiftedClock, replace_services, services_of

START = "/api/v1/verify/verifications"


@dataclass
class SignedClient:
    """Sends requests signed as one app."""

    client: TestClient
    app_key: str
    secret: str
    # Signs with this time: a test that moves the service's clock moves this one too.
    clock: Callable[[], float] = time.time

    def request(self, method: str, path: str, body: Any = None, *, raw: bytes | None = None) -> Any:
        data = raw if raw is not None else b"" if body is None else json.dumps(body).encode()
        headers = signature_headers(
            self.app_key, self.secret, method, path, data, timestamp=int(self.clock())
        )
        if data:
            headers["Content-Type"] = "application/json"
        return self.client.request(method, path, content=data, headers=headers)

    def start(self, to: str, channel: str = "sms", **extra: Any) -> Any:
        return self.request("POST", START, {"to": to, "channel": channel, **extra})

    def check(self, verification_id: str, code: str) -> Any:
        return self.request("POST", f"{START}/{verification_id}/check", {"code": code})

    def fetch(self, verification_id: str) -> Any:
        return self.request("GET", f"{START}/{verification_id}")

    def cancel(self, verification_id: str) -> Any:
        return self.request("POST", f"{START}/{verification_id}/cancel", {})


def make_app(client: TestClient, *, account_id: int | None = None, **changes: Any) -> SignedClient:
    """An app (the operator's, or `account_id`'s) allowed CN and GB numbers, no pass token asked
    unless `require_token` says so."""
    services = services_of(client)
    settings: dict[str, Any] = {
        "name": "Shop",
        "countries": ("CN", "GB"),
        "require_token": False,
        **changes,
    }

    async def work() -> verify_apps.CreatedApp:
        async with services.sessions() as session:
            return await verify_apps.create_app(
                session,
                AppChanges(**settings),
                account_id=account_id,
                server_key=services.key,
                now=_now(),
            )

    created = client.portal.call(work)  # type: ignore[union-attr]
    return SignedClient(client, created.app.app_key, created.secret)


def _now() -> datetime:
    return datetime.now(UTC)


def shifted_clock(client: TestClient, *signers: SignedClient) -> ShiftedClock:
    """Give the verification service, and the apps that sign, a clock a test can move on; the
    service's counters move to a memory store on that clock."""
    services = services_of(client)
    clock = ShiftedClock()
    # The guard's windows expire on the same clock (the embedded store takes one).
    core = dataclasses.replace(services, store=MemoryStore(clock=clock))
    replace_services(
        client, verify=open_verify_service(core, services.directory, services.verifier, clock=clock)
    )
    for signer in signers:
        signer.clock = clock
    return clock


def codes_sent(data_dir: Path, to: str) -> list[str]:
    """The codes the outbox holds for `to`, oldest first."""
    return [
        match.group(1)
        for entry in read_outbox(data_dir)
        if entry.to == to
        for match in [re.search(r"(?<!\d)(\d{4,10})(?!\d)", entry.text)]
        if match
    ]


BACKENDS = ["embedded", "postgres-redis"]


def backend_settings(
    request: pytest.FixtureRequest, make_settings: Callable[..., Settings], **changes: Any
) -> Settings:
    """Settings with `changes` on the backend a fixture parametrized by BACKENDS names."""
    if request.param == "embedded":
        return make_settings(**changes)
    return make_settings(
        database_url=request.getfixturevalue("fresh_postgres_url"),
        redis_url=request.getfixturevalue("redis_url"),
        **changes,
    )


@pytest.fixture(name="settings", params=BACKENDS)
def settings_on_both_backends(
    request: pytest.FixtureRequest, make_settings: Callable[..., Settings]
) -> Settings:
    """`settings` on the embedded default and on PostgreSQL with Redis: a module imports it to
    run each of its tests on both."""
    return backend_settings(request, make_settings)
