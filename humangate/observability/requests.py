"""Every HTTP request: its id (taken from a sane X-Request-ID or made), echoed in the answer and
put in every log line of the request; its count and duration by route template; an access line.

A pure ASGI middleware: a few dict operations per request, no per-request objects of a
framework's middleware base.
"""

from __future__ import annotations

import itertools
import logging
import re
import secrets
import time
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from humangate.observability.metrics import HTTP_REQUESTS, HTTP_SECONDS

REQUEST_ID: ContextVar[str] = ContextVar("humangate_request_id", default="")
_HEADER = b"x-request-id"
_SANE_ID = re.compile(rb"[A-Za-z0-9._:-]{1,64}")
_PREFIX = secrets.token_hex(4)
_COUNT = itertools.count(1)
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # the route label of a path no route holds (bounded: never the path)

access_logger = logging.getLogger("humangate.access")


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    """The client's X-Request-ID when it is short and plain, else a new random one."""
    for name, value in headers:
        if name == _HEADER:
            if _SANE_ID.fullmatch(value):
                return value.decode("ascii")
            break
    return new_request_id()


def new_request_id() -> str:
    """Unique per process (a random prefix, then a count): cheaper than fresh random bytes, and
    an id names a request, it grants nothing."""
    return f"{_PREFIX}{next(_COUNT):08x}"


def route_of(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class RequestObserver:
    def __init__(self, app: ASGIApp, *, access_log: bool) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(scope["headers"])
        # Each request runs in its own task, so the id needs no reset: it ends with the task.
        REQUEST_ID.set(request_id)
        echoed = (_HEADER, request_id.encode("ascii"))
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), echoed]
            await send(message)

        start = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            status = status or 500  # the error middleware outside answers 500
            raise
        finally:
            seconds = time.perf_counter() - start
            method = scope["method"] if scope["method"] in _METHODS else "other"
            labels = (method, route_of(scope), str(status))
            HTTP_REQUESTS.inc(labels)
            HTTP_SECONDS.observe(seconds, labels)
            if self.access_log:
                access_logger.info(
                    "%s %s %s",
                    *labels,
                    extra={
                        "method": labels[0],
                        "route": labels[1],
                        "status": status,
                        "duration_ms": round(seconds * 1000, 2),
                    },
                )
