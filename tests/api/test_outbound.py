"""A verification round makes no outbound connection: with the embedded defaults (SQLite, the
in-memory store), an app started under a socket guard serves the widget script, issues and
answers challenges through the risk engine, verifies the tokens and writes its events and
statistics, while every connection, datagram or name look-up leaving the machine is refused and
recorded."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from humangate.app import create_app
from humangate.challenges.pow import solve_pow
from humangate.config import Settings
from tests.api.helpers import create_unit, issue, pass_pow, siteverify
from tests.api.test_risk import CHROME_UA, VISITOR_IP, human_pass
from tests.app_services import services_of
from tests.conftest import ORIGIN

_LOCAL_NAMES = {"localhost", "testserver"}


class OutboundRefused(OSError):
    """The test's guard refused a connection or look-up leaving the machine."""


def _is_local(address: Any) -> bool:
    if isinstance(address, (str, bytes)):  # a unix socket path
        return True
    host = address[0] if isinstance(address, tuple) and address else None
    if isinstance(host, bytes):
        host = host.decode()
    if not isinstance(host, str):
        return False
    if host in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


class SocketGuard:
    """Refuses, and records, every outbound connect, sendto and name look-up."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.attempts: list[str] = []
        connect, connect_ex, sendto = (
            socket.socket.connect,
            socket.socket.connect_ex,
            socket.socket.sendto,
        )

        def guarded_connect(sock: socket.socket, address: Any) -> None:
            self._check("connect", address)
            connect(sock, address)

        def guarded_connect_ex(sock: socket.socket, address: Any) -> int:
            self._check("connect_ex", address)
            return connect_ex(sock, address)

        def guarded_sendto(sock: socket.socket, data: bytes, *args: Any) -> int:
            self._check("sendto", args[-1])
            return sendto(sock, data, *args)  # type: ignore[arg-type]

        monkeypatch.setattr(socket.socket, "connect", guarded_connect)
        monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
        monkeypatch.setattr(socket.socket, "sendto", guarded_sendto)
        for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr"):
            monkeypatch.setattr(socket, name, self._lookup(name, getattr(socket, name)))
        monkeypatch.setattr(socket, "getnameinfo", self._lookup_info(socket.getnameinfo))

    def _check(self, what: str, address: Any) -> None:
        if not _is_local(address):
            self.attempts.append(f"{what} {address!r}")
            raise OutboundRefused(f"outbound {what} to {address!r} refused by the test")

    def _lookup(self, name: str, real: Any) -> Any:
        def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
            self._check(name, (host,))
            return real(host, *args, **kwargs)

        return guarded

    def _lookup_info(self, real: Any) -> Any:
        def guarded(address: Any, flags: int) -> Any:
            self._check("getnameinfo", address)
            return real(address, flags)

        return guarded


@pytest.fixture
def guard(monkeypatch: pytest.MonkeyPatch) -> SocketGuard:
    return SocketGuard(monkeypatch)


@pytest.fixture
def chrome(settings: Settings, guard: SocketGuard) -> Iterator[TestClient]:
    """Desktop Chrome from a routable address, on an app started under the guard."""
    headers = {"Origin": ORIGIN, "User-Agent": CHROME_UA, "Accept-Language": "en-US,en;q=0.9"}
    with TestClient(create_app(settings), headers=headers, client=(VISITOR_IP, 50000)) as client:
        yield client


def test_the_guard_refuses_what_leaves_the_machine(guard: SocketGuard) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        with pytest.raises(OutboundRefused):
            sock.connect(("192.0.2.1", 443))  # TEST-NET-1: refused before any packet
    with pytest.raises(OutboundRefused):
        socket.getaddrinfo("example.com", 443)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        with pytest.raises(OutboundRefused):
            udp.sendto(b"x", ("192.0.2.53", 53))
    assert len(guard.attempts) == 3
    # Loopback stays open, so that the guard itself breaks nothing local.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=5):
            pass
    assert len(guard.attempts) == 3


def test_a_whole_verification_round_stays_on_the_machine(
    chrome: TestClient, guard: SocketGuard
) -> None:
    assert chrome.get("/humangate.js").status_code == 200
    # Proof of work, then siteverify on each of its paths.
    sitekey, secret = create_unit(chrome)
    token = pass_pow(chrome, sitekey, action="login")
    assert siteverify(chrome, secret, token).json()["success"] is True
    # Managed mode: environment and gesture through the risk engine.
    managed, managed_secret = create_unit(chrome, mode="managed")
    assert siteverify(chrome, managed_secret, human_pass(chrome, managed)).json()["success"]
    # A visual challenge generated, failed, and followed by the next one.
    visual_key, _ = create_unit(chrome, mode="interactive", kinds=("slide", "text"))
    visual = issue(chrome, visual_key)
    failed = chrome.post(
        f"/api/v1/challenges/{visual['id']}/answer", json={"answer": {"x": -1}, "trajectory": []}
    ).json()
    assert failed["success"] is False and failed["next"]["kind"] == "text"
    pow_challenge = issue(chrome, sitekey)
    answered = chrome.post(
        f"/api/v1/challenges/{pow_challenge['id']}/answer",
        json={"pow": {"number": solve_pow(pow_challenge["pow"])}},
    )
    assert answered.json()["success"] is True
    # The batched writers reach the database too.
    state = services_of(chrome)
    assert chrome.portal.call(state.events.flush) > 0  # type: ignore[union-attr]
    assert chrome.portal.call(state.counters.flush) > 0  # type: ignore[union-attr]
    assert guard.attempts == []
