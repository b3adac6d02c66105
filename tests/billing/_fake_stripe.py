"""A stand-in for Stripe's API, run as its own process by the payment tests: it answers
`POST /v1/checkout/sessions` with a session JSON and appends each request it received (path,
headers that matter, the decoded form) to the JSON-lines file named on the command line.

A form whose unit amount is 13 is answered with HTTP 402 and an error body, as Stripe answers a
refused request. The first line on stdout is the port it listens on (127.0.0.1).
"""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl


class Handler(BaseHTTPRequestHandler):
    log_path = ""
    made = 0

    def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode()
        form = dict(parse_qsl(body, keep_blank_values=True))
        record = {
            "path": self.path,
            "authorization": self.headers.get("Authorization"),
            "idempotency_key": self.headers.get("Idempotency-Key"),
            "content_type": self.headers.get("Content-Type"),
            "form": form,
        }
        with open(self.log_path, "a", encoding="utf-8") as log:
            log.write(json.dumps(record) + "\n")
        if self.path != "/v1/checkout/sessions":
            self._answer(404, {"error": {"message": "Unrecognized request URL"}})
        elif form.get("line_items[0][price_data][unit_amount]") == "13":
            self._answer(402, {"error": {"message": "declined", "type": "card_error"}})
        else:
            Handler.made += 1
            session_id = f"cs_test_{Handler.made:04d}"
            self._answer(
                200,
                {
                    "id": session_id,
                    "object": "checkout.session",
                    "url": f"https://checkout.stripe.test/c/pay/{session_id}",
                    "client_reference_id": form.get("client_reference_id"),
                    "amount_total": int(form.get("line_items[0][price_data][unit_amount]", 0)),
                    "payment_status": "unpaid",
                },
            )

    def _answer(self, status: int, data: dict[str, object]) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Quiet: the requests are in the log file."""


def main() -> None:
    Handler.log_path = sys.argv[1]
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
