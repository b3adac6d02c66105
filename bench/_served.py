"""The apps the speed benches serve, and the ASGI servers that serve them.

    python -m bench._served APP [--server uvicorn|granian]

APP is `ceiling` (a plain ASGI app answering every request with a small JSON body: the most any
app can get from the server, the bench's ceiling), `starlette` (the same through a bare Starlette
router) or `humangate` (humangate.app.create_worker_app, what `humangate serve` runs in each
worker). Host, port, workers and log level come from the HUMANGATE_ settings, as for `humangate
serve`, and uvicorn gets the options `humangate serve` gives it; the database is migrated and the
unit created beforehand by the bench (the CLI).

Every app is wrapped in `LagProbe`: a task that sleeps `TICK` seconds at a time and records how
late each wake-up came. A late wake-up is a stall of the event loop (sync work, a collection, the
CPU taken by another process); `GET /_bench/lag` answers the lags since the last call (ms) and
starts a new window. Only the bench serves this path.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import time
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

TICK = 0.005  # seconds between the probe's wake-ups
LAG_PATH = "/_bench/lag"
HELLO = b'{"status":"ok"}'
_JSON_HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"15")]


class LagProbe:
    """ASGI wrapper: measures the event loop's lag from the first request on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.lags: list[float] = []
        self.cpu_lags: list[float] = []  # the part of each lag the loop's own thread ran
        self.collections: list[float] = []  # pauses of the garbage collector's full collections
        self._task: asyncio.Task[None] | None = None
        self._collecting = 0.0
        gc.callbacks.append(self._on_collection)

    def _on_collection(self, phase: str, info: dict[str, int]) -> None:
        if info["generation"] < 2:
            return
        if phase == "start":
            self._collecting = time.perf_counter()
        else:
            self.collections.append(time.perf_counter() - self._collecting)

    async def _watch(self) -> None:
        clock, cpu = time.perf_counter, time.thread_time
        while True:
            started, cpu_started = clock(), cpu()
            await asyncio.sleep(TICK)
            lag = clock() - started - TICK
            self.lags.append(lag)
            # The thread's CPU time does not run while the kernel runs other processes: a late
            # wake-up the loop itself caused (its own work past the tick) shows here, one that a
            # neighbour on the machine caused does not.
            self.cpu_lags.append(min(lag, max(0.0, cpu() - cpu_started - TICK)))

    def window(self) -> dict[str, float]:
        """Count, p50, p99 and max of the lags (ms) since the last window; starts a new one."""
        lags, self.lags = sorted(self.lags), []
        cpu_lags, self.cpu_lags = sorted(self.cpu_lags), []
        collections, self.collections = self.collections, []

        def at(values: list[float], q: float) -> float:
            return 1000 * values[min(len(values) - 1, int(q * len(values)))] if values else 0.0

        return {
            "ticks": len(lags),
            "p50": at(lags, 0.5),
            "p99": at(lags, 0.99),
            "max": at(lags, 1.0),
            "cpu_p99": at(cpu_lags, 0.99),
            "cpu_max": at(cpu_lags, 1.0),
            "gc2": len(collections),
            "gc2_max": 1000 * max(collections, default=0.0),
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if self._task is None:
                self._task = asyncio.get_running_loop().create_task(self._watch())
            if scope["path"] == LAG_PATH:
                body = json.dumps(self.window()).encode()
                headers = [_JSON_HEADERS[0], (b"content-length", str(len(body)).encode())]
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


async def hello(scope: Scope, receive: Receive, send: Send) -> None:
    """The ceiling: the least an ASGI app can do for a request (lifespan accepted)."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            kind = message["type"].rsplit(".", 1)[-1]  # startup or shutdown
            await send({"type": f"lifespan.{kind}.complete"})
            if kind == "shutdown":
                return
    await send({"type": "http.response.start", "status": 200, "headers": _JSON_HEADERS})
    await send({"type": "http.response.body", "body": HELLO})


def _frozen(app: ASGIApp) -> ASGIApp:
    """The ceilings keep their imports out of the collector, as humangate's lifespan does."""
    gc.collect()
    gc.freeze()
    return app


def ceiling_app() -> ASGIApp:
    return _frozen(LagProbe(hello))


def starlette_app() -> ASGIApp:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def root(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    routes = [Route(path, root, methods=["GET", "POST"]) for path in ("/", "/livez")]
    return _frozen(LagProbe(Starlette(routes=routes)))


def humangate_app() -> ASGIApp:
    from humangate.app import create_worker_app

    return LagProbe(create_worker_app())


APPS = {"ceiling": ceiling_app, "starlette": starlette_app, "humangate": humangate_app}


def serve(app: str, server: str) -> None:
    from humangate.config import load_settings

    settings = load_settings()
    target = f"bench._served:{APPS[app].__name__}"
    if server == "uvicorn":
        import uvicorn

        # The options of `humangate serve` (humangate/cli/serve.py).
        uvicorn.run(
            target,
            factory=True,
            workers=settings.workers,
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level,
            access_log=False,
            proxy_headers=True,
            forwarded_allow_ips=settings.forwarded_allow_ips,
        )
        return
    from granian.constants import Interfaces, Loops
    from granian.log import LogLevels
    from granian.server import Server

    options: dict[str, Any] = {"log_level": LogLevels(settings.log_level), "log_access": False}
    Server(
        target,
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        workers=settings.workers,
        loop=Loops.uvloop,
        factory=True,
        **options,
    ).serve()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench._served")
    parser.add_argument("app", choices=sorted(APPS))
    parser.add_argument("--server", choices=("uvicorn", "granian"), default="uvicorn")
    args = parser.parse_args()
    serve(args.app, args.server)


if __name__ == "__main__":
    main()
