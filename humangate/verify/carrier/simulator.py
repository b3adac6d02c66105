"""Operator simulators for development and tests: real HTTP servers speaking the contracts.

    python -m humangate.verify.carrier.simulator --port 9300 --kind camara \\
        --client-id humangate-dev --client-secret dev-secret --msisdn +8613800138000
    python -m humangate.verify.carrier.simulator --port 9301 --kind cn-onetap \\
        --app-id 300011112222 --app-key dev-app-key --msisdn +8613800138000

Every client of a local simulator is 127.0.0.1, so the "network" cannot tell devices apart: it
holds the number of the one simulated SIM, set by `--msisdn` or `POST /_sim/device
{"msisdn": "+86..."}`. Development endpoints, both kinds:

    GET  /_sim/health                  200 {"kind": ...}
    POST /_sim/device {"msisdn": ...}  the SIM in the device (E.164), 200
    POST /_sim/clock {"advance": s}    moves the operator's clock forward (expiry without waiting)

CAMARA: `GET /authorize` (OIDC, answers with a redirect), `POST /token` (client_secret_basic;
codes single use, 60 s), `POST /number-verification/<version>/verify` (bearer, single use,
needs a verify scope). CN one-tap: `POST /_sim/sdk-token` (what the carrier SDK gets on the
device; single use, 120 s) and `POST /tokenValidate` (see `cn_onetap`). With `--hang`, the
operator's own endpoints (token, verify, tokenValidate) accept the request and never answer.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from humangate.verify.carrier._simstate import E164, Answer, CamaraOperator, CnOperator, Network

_MAX_BODY = 64 * 1024
_HANGING = frozenset({"/token", "/tokenValidate"})


def _parse_body(content_type: str, raw: bytes) -> Any:
    if not raw:
        return None
    try:
        if content_type.startswith("application/x-www-form-urlencoded"):
            return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=True))
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None


class Simulator:
    """One operator behind `/`, plus the development endpoints under `/_sim/`."""

    def __init__(self, kind: str, operator: CamaraOperator | CnOperator, *, hang: bool) -> None:
        self.kind = kind
        self.operator = operator
        self.network = operator.network
        self.hang = hang

    def hangs(self, path: str) -> bool:
        return self.hang and (path in _HANGING or path.startswith("/number-verification/"))

    def handle(self, method: str, target: str, headers: dict[str, str], body: Any) -> Answer:
        path = urlsplit(target).path
        if path == "/_sim/health":
            return 200, {"kind": self.kind}, {}
        if method == "POST" and path == "/_sim/device":
            msisdn = body.get("msisdn") if isinstance(body, dict) else None
            if not isinstance(msisdn, str) or not E164.fullmatch(msisdn):
                return 400, {"error": "msisdn must be an E.164 number"}, {}
            with self.network.lock:
                self.network.msisdn = msisdn
            return 200, {"msisdn": msisdn}, {}
        if method == "POST" and path == "/_sim/clock":
            advance = body.get("advance") if isinstance(body, dict) else None
            if not isinstance(advance, int | float) or isinstance(advance, bool) or advance < 0:
                return 400, {"error": "advance must be a number of seconds >= 0"}, {}
            with self.network.lock:
                self.network.offset += float(advance)
            return 200, {"offset": self.network.offset}, {}
        return self.operator.handle(method, target, headers, body)


def _handler(simulator: Simulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            """Quiet: the default writes every request to stderr."""

        def _reply(self, status: int, data: dict[str, Any], headers: dict[str, str]) -> None:
            body = json.dumps(data).encode("utf-8") if data or status != 302 else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _handle(self) -> None:
            try:
                length = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                length = -1
            if not 0 <= length <= _MAX_BODY:
                self.close_connection = True
                self._reply(413 if length > 0 else 400, {"error": "bad Content-Length"}, {})
                return
            raw = self.rfile.read(length)
            if simulator.hangs(urlsplit(self.path).path):
                threading.Event().wait()  # the operator took the request and never answers
            headers = {name.lower(): value for name, value in self.headers.items()}
            body = _parse_body(headers.get("content-type", ""), raw)
            try:
                answer = simulator.handle(self.command, self.path, headers, body)
            except Exception:  # a simulator bug must still answer, as a real operator would
                answer = (500, {"error": "internal"}, {})
            self._reply(*answer)

        do_GET = do_POST = _handle  # noqa: N815

    return Handler


def build(argv: Sequence[str] | None = None) -> tuple[ThreadingHTTPServer, Simulator]:
    """Parse the command line and bind the server (not yet serving)."""
    parser = argparse.ArgumentParser(prog="python -m humangate.verify.carrier.simulator")
    parser.add_argument("--kind", choices=("camara", "cn-onetap"), required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--client-id", default="humangate-dev")
    parser.add_argument("--client-secret", default="dev-secret")
    parser.add_argument("--app-id", default="300011112222")
    parser.add_argument("--app-key", default="dev-app-key")
    parser.add_argument("--operator-type", choices=("CM", "CU", "CT"), default="CM")
    parser.add_argument("--msisdn", help="the SIM's number, E.164")
    parser.add_argument("--hang", action="store_true", help="operator endpoints never answer")
    args = parser.parse_args(argv)
    if args.msisdn is not None and not E164.fullmatch(args.msisdn):
        parser.error("--msisdn must be an E.164 number such as +8613800138000")
    network = Network(msisdn=args.msisdn)
    operator: CamaraOperator | CnOperator
    if args.kind == "camara":
        operator = CamaraOperator(network, args.client_id, args.client_secret)
    else:
        operator = CnOperator(network, args.app_id, args.app_key, args.operator_type)
    simulator = Simulator(args.kind, operator, hang=args.hang)
    server = ThreadingHTTPServer((args.host, args.port), _handler(simulator))
    server.daemon_threads = True  # a hanging request must not hold up the exit
    return server, simulator


def main(argv: Sequence[str] | None = None) -> None:
    server, simulator = build(argv)
    host, port = server.server_address[:2]
    print(f"{simulator.kind} simulator on http://{host!s}:{port}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
