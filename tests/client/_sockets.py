"""Real sockets that misbehave as networks and proxies do: a gateway answering 5xx, a peer that
never answers, and a proxy that loses the upstream's answer after the upstream acted on it."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import httpx

from tests.live import free_port


@dataclass
class Seen:
    """The siteverify forms a fake peer received, in order."""

    forms: list[dict[str, str]] = field(default_factory=list)


def closed_port_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


@contextmanager
def _serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _read_form(handler: BaseHTTPRequestHandler) -> tuple[bytes, dict[str, str]]:
    body = handler.rfile.read(int(handler.headers.get("Content-Length", "0")))
    return body, dict(parse_qsl(body.decode()))


@contextmanager
def gateway_answering(
    status: int, body: bytes = b"<html>Bad gateway</html>"
) -> Iterator[tuple[str, Seen]]:
    """A reverse proxy in front of a dead HumanGate: every request gets `status`."""
    seen = Seen()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.forms.append(_read_form(self)[1])
            self.send_response(status)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    with _serving(Handler) as url:
        yield url, seen


@contextmanager
def silent_peer() -> Iterator[str]:
    """Accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()


@contextmanager
def answer_losing_proxy(upstream: str, *, lose: int) -> Iterator[tuple[str, Seen]]:
    """Forwards each request to `upstream`; for the first `lose` ones the upstream's answer is
    dropped and the connection closed, as a network failing after the request arrived."""
    seen = Seen()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body, form = _read_form(self)
            with lock:
                seen.forms.append(form)
                drop = len(seen.forms) <= lose
            reply = httpx.post(
                upstream + self.path,
                content=body,
                headers={"Content-Type": self.headers.get("Content-Type", "")},
                timeout=10,
            )
            if drop:
                self.close_connection = True
                return
            self.send_response(reply.status_code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply.content)))
            self.end_headers()
            self.wfile.write(reply.content)

        def log_message(self, *args: object) -> None:
            pass

    with _serving(Handler) as url:
        yield url, seen
