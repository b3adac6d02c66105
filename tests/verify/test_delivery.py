"""A code's delivery through real local channels: an HTTP SMS gateway that answers as each test
scripts it (one retry on a temporary failure, none on a permanent one), and an SMTP server."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from humangate.app import create_app
from humangate.config import Settings
from humangate.db.models import Verification, VerifyUsage
from tests.app_services import services_of
from tests.conftest import ORIGIN
from tests.messaging._smtp import SmtpServer, start_smtp_server
from tests.verify._app import SignedClient, make_app

PHONE = "+8613800138000"


@dataclass
class ScriptedGateway:
    """An SMS provider on 127.0.0.1 that answers each request with the next status of its
    script, then with `then`; it keeps the JSON bodies it received."""

    script: list[int] = field(default_factory=list)
    then: int = 200
    bodies: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0

    def answer(self, body: bytes) -> int:
        with self.lock:
            self.bodies.append(json.loads(body))
            return self.script.pop(0) if self.script else self.then


def _handler(gateway: ScriptedGateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            """Quiet: the default writes every request to stderr."""

        def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
            length = int(self.headers.get("Content-Length") or 0)
            status = gateway.answer(self.rfile.read(length))
            reply = json.dumps({"id": "gw-1"} if status < 300 else {"error": "busy"}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

    return Handler


@pytest.fixture
def sms_gateway() -> Iterator[ScriptedGateway]:
    gateway = ScriptedGateway()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(gateway))
    server.daemon_threads = True
    gateway.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield gateway
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def settings(make_settings: Callable[..., Settings], sms_gateway: ScriptedGateway) -> Settings:
    return make_settings(sms_url=f"http://127.0.0.1:{sms_gateway.port}/send", sms_from="Shop")


@pytest.fixture
def app(client: TestClient) -> SignedClient:
    return make_app(client)


def _code_in(text: str) -> str:
    match = re.search(r"(?<!\d)(\d{4,10})(?!\d)", text)
    assert match, text
    return match.group(1)


def _rows(client: TestClient) -> tuple[list[Verification], list[VerifyUsage]]:
    services = services_of(client)

    async def read() -> tuple[list[Verification], list[VerifyUsage]]:
        async with services.sessions() as session:
            verifications = list(await session.scalars(select(Verification)))
            usage = list(await session.scalars(select(VerifyUsage)))
            return verifications, usage

    verifications, usage = client.portal.call(read)  # type: ignore[union-attr]
    return verifications, usage


def test_a_gateway_that_fails_once_is_retried(
    app: SignedClient, sms_gateway: ScriptedGateway
) -> None:
    sms_gateway.script = [503]
    started = app.start(PHONE)
    assert started.status_code == 201, started.text
    assert started.json()["delivery"] == "retried"
    first, second = sms_gateway.bodies
    assert first == second and first["to"] == PHONE
    code = _code_in(second["text"])
    assert app.check(started.json()["id"], code).json()["status"] == "approved"


def test_a_gateway_that_keeps_failing_fails_the_verification(
    client: TestClient, app: SignedClient, sms_gateway: ScriptedGateway
) -> None:
    sms_gateway.then = 503
    refused = app.start(PHONE)
    assert refused.status_code == 503 and refused.json()["error"] == "delivery-failed"
    assert int(refused.headers["Retry-After"]) > 0
    assert str(sms_gateway.port) not in refused.text
    assert len(sms_gateway.bodies) == 2
    (verification,), (usage,) = _rows(client)
    assert (verification.status, verification.delivery) == ("failed", "failed")
    assert verification.finished_at is not None
    assert (usage.channel, usage.country, usage.sent, usage.failed) == ("sms", "CN", 0, 1)
    assert app.fetch(verification.id).json()["status"] == "failed"


def test_a_permanent_refusal_is_not_retried(
    client: TestClient, app: SignedClient, sms_gateway: ScriptedGateway
) -> None:
    sms_gateway.then = 400
    refused = app.start(PHONE)
    assert refused.status_code == 503 and refused.json()["error"] == "delivery-failed"
    assert len(sms_gateway.bodies) == 1
    (verification,), (usage,) = _rows(client)
    assert verification.status == "failed" and usage.failed == 1


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    with start_smtp_server(tmp_path / "smtp") as server:
        yield server


def test_a_code_by_email_arrives_through_smtp_and_approves(
    make_settings: Callable[..., Settings], smtp: SmtpServer
) -> None:
    settings = make_settings(
        smtp_url=f"smtp://127.0.0.1:{smtp.port}?starttls=0", mail_from="codes@example.test"
    )
    with TestClient(create_app(settings), headers={"Origin": ORIGIN}) as client:
        app = make_app(client, name="Acme Shop")
        started = app.start("Person@Example.COM", channel="email")
        assert started.status_code == 201, started.text
        assert started.json()["delivery"] == "sent"
        (message,) = smtp.received()
        assert message.rcpt_tos == ["Person@example.com"]
        assert "Acme Shop" in str(message.mime["Subject"])
        body = message.mime.get_body(preferencelist=("plain",))
        assert body is not None
        text = body.get_content()
        assert "Acme Shop" in text
        code = _code_in(text)
        assert app.check(started.json()["id"], code).json()["status"] == "approved"
