"""A second little HTTP server that serves host pages from another origin than HumanGate's.

Its origin is http://127.0.0.1:<port>, so the pages are cross-origin to HumanGate: the script must
find its server from its own src and the API must answer CORS preflights. (A page that Playwright
fulfils itself counts as public, and Chromium then refuses it any request to a loopback address.)
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count

RECORDER = """<script>
window.events = [];
function onToken(t) { events.push(["ok", t]); }
function onExpired() { events.push(["expired"]); }
function onError(code) { events.push(["error", code]); }
</script>"""

_seq = count()


class HostSite:
    """Serves `pages` (path -> bytes) on 127.0.0.1 from a thread until `close()`."""

    def __init__(self) -> None:
        self.pages: dict[str, bytes] = {}
        self.headers: dict[str, dict[str, str]] = {}  # extra response headers by path
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                body = site.pages.get(self.path)
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body or b"")))
                for name, value in site.headers.get(self.path, {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def page(
        self,
        hg_url: str,
        body: str,
        *,
        script_query: str = "",
        script_attrs: str = "",
        head: str = "",
    ) -> str:
        """Publish a page with `body`, the event recorder and the widget's script; its URL."""
        path = f"/page-{next(_seq)}.html"
        self.pages[path] = (
            "<!doctype html><html lang=en><meta charset=utf-8><title>host</title>"
            f"<meta name=viewport content='width=device-width, initial-scale=1'>{head}<body>"
            f"{RECORDER}{body}<script src='{hg_url}/humangate.js{script_query}' "
            f"{script_attrs} async></script></body></html>"
        ).encode()
        return self.url + path

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
