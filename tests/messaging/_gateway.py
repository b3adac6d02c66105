"""A real HTTP server standing in for an SMS provider: it records requests and answers by path.

It runs `http.server` in a thread on 127.0.0.1 (a free port), one per test session. Paths:
    /send            200 with {"messages": [{"id": "gw-<n>"}]}
    /status/<code>   that status, with a body holding REPLY_MARKER and echoing the request's
                     Authorization header and query (a provider that echoes secrets), so tests
                     can check that neither ever leaks
    /slow            waits 2 s, then 200
    /redirect        302 to /send
    /plain           200 with a text body (no JSON, no id)
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

REPLY_MARKER = "ECHO-9c1d"


@dataclass(frozen=True)
class Recorded:
    """One request as the gateway saw it; header names are lower-case."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Gateway:
    """The running gateway: its base URL and what it received since the last `clear`."""

    port: int
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()

    def only(self) -> Recorded:
        with self.lock:
            assert len(self.requests) == 1, self.requests
            return self.requests[0]


def _handler(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            """Quiet: the default writes every request to stderr."""

        def _reply(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            if status == 302:
                self.send_header("Location", "/send")
            self.end_headers()
            self.wfile.write(body)

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            parts = urlsplit(self.path)
            record = Recorded(
                method=self.command,
                path=parts.path,
                query=parts.query,
                headers={name.lower(): value for name, value in self.headers.items()},
                body=self.rfile.read(length),
            )
            with gateway.lock:
                gateway.requests.append(record)
                number = len(gateway.requests)
            if parts.path == "/send":
                self._reply(200, json.dumps({"messages": [{"id": f"gw-{number}"}]}).encode())
            elif parts.path.startswith("/status/"):
                echo = {"error": REPLY_MARKER, "auth": record.headers.get("authorization", "")}
                echo["query"] = record.query
                self._reply(int(parts.path.rsplit("/", 1)[1]), json.dumps(echo).encode())
            elif parts.path == "/slow":
                time.sleep(2)
                self._reply(200, b"{}")
            elif parts.path == "/redirect":
                self._reply(302, b"")
            else:
                self._reply(200, b"queued", "text/plain")

        do_GET = do_POST = do_PUT = do_PATCH = _handle  # noqa: N815

    return Handler


@pytest.fixture(scope="session")
def _gateway_server() -> Iterator[Gateway]:
    gateway = Gateway(port=0)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(gateway))
    server.daemon_threads = True  # a /slow request in flight must not hold up the teardown
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
def gateway(_gateway_server: Gateway) -> Gateway:
    """The session's gateway with an empty request log."""
    _gateway_server.clear()
    return _gateway_server
