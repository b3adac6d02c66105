"""A stand-in for HumanGate's verification API, run as its own process by the client's tests.

It checks every request's signature with `humangate.verify.signing` over the target and body
it received, as the server does (unknown app, stale time, reused nonce, wrong signature: 401),
writes what it saw to a JSON-lines log, and answers canned JSON per endpoint. Some ids and
destinations choose an error answer.

    python -m tests.client._verify_peer LOG   # prints its port, then serves until killed
"""

from __future__ import annotations

import json
import re
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from humangate.errors import Unauthenticated
from humangate.verify.signing import read_signature, signature_matches, timestamp_fresh

APP_KEY = "hga_" + "k" * 24
APP_SECRET = "hgs_peer-secret-0123456789"
PREFIX_LIMITED = "+15005550000"
CODE = "123456"

_ROUTE = re.compile(
    r"(?:/[^?]*)?/api/v1/verify(/verifications(?:/([^/?]+)(/check|/cancel)?)?|/number)"
)


def verification(ident: str, status: str = "pending", **extra: object) -> dict[str, object]:
    return {
        "id": ident,
        "status": status,
        "channel": "sms",
        "to": "+86 138****8000",
        "expires_at": "2026-12-07T05:10:00+00:00",
        "attempts_left": 5,
        "sends": 1,
        **extra,
    }


class Handler(BaseHTTPRequestHandler):
    log_path: Path
    nonces: set[tuple[str, str]] = set()

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        seen: dict[str, Any] = {
            "method": self.command,
            "target": self.path,
            "body": body.decode("utf-8", "replace"),
            "content_type": self.headers.get("Content-Type"),
            "refused": self._refusal(body),
        }
        with self.log_path.open("a") as log:
            log.write(json.dumps(seen) + "\n")
        if seen["refused"]:
            self._answer(401, {"error": seen["refused"], "message": "Not signed by a known app."})
            return
        self._route(body)

    def _refusal(self, body: bytes) -> str | None:
        try:
            signed = read_signature(dict(self.headers.items()))
        except Unauthenticated as refused:
            return refused.code
        if signed.app_key != APP_KEY:
            return "unknown-app"
        if not timestamp_fresh(signed.timestamp, time.time()):
            return "stale-timestamp"
        if (signed.app_key, signed.nonce) in self.nonces:
            return "nonce-reused"
        self.nonces.add((signed.app_key, signed.nonce))
        if not signature_matches(APP_SECRET, signed, self.command, self.path, body):
            return "bad-signature"
        return None

    def _route(self, body: bytes) -> None:
        matched = _ROUTE.fullmatch(self.path)
        fields: dict[str, Any] = json.loads(body) if body else {}
        if matched is None:
            self._answer(404, {"error": "not-found", "message": "No such route."})
        elif matched.group(1) == "/number":
            self._answer(200, {"verified": fields.get("evidence") == "good-token"})
        elif matched.group(2) is None:
            self._start(fields)
        else:
            self._verification(matched.group(2), matched.group(3), fields)

    def _start(self, fields: dict[str, Any]) -> None:
        if fields.get("to") == PREFIX_LIMITED:
            limited = {"error": "prefix-limit", "message": "Too many codes to this number range."}
            self._answer(429, limited, {"Retry-After": "42"})
            return
        self._answer(201, verification("VE" + "0" * 32, channel=fields.get("channel")))

    def _verification(self, ident: str, action: str | None, fields: dict[str, Any]) -> None:
        if ident == "VEmissing":
            self._answer(404, {"error": "not-found", "message": "No such verification."})
        elif ident == "VEbroken":
            self._raw(502, b"<html>Bad gateway</html>", "text/html")
        elif ident == "VEgarbage":
            self._raw(200, b"[1, 2", "application/json")
        elif action == "/check":
            good = fields.get("code") == CODE
            status = "approved" if good else "denied"
            self._answer(200, verification(ident, status, valid=good, attempts_left=4))
        elif action == "/cancel":
            self._answer(200, verification(ident, "canceled"))
        else:
            self._answer(200, verification(ident))

    def _answer(self, status: int, answer: object, headers: dict[str, str] | None = None) -> None:
        self._raw(status, json.dumps(answer).encode(), "application/json", headers)

    def _raw(
        self, status: int, body: bytes, kind: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    Handler.log_path = Path(sys.argv[1])
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
