"""A serving node's observability: the middleware, /metrics and the jobs that feed them."""

from __future__ import annotations

import os

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.types import ASGIApp

from humangate.config import Settings
from humangate.errors import ConfigError
from humangate.http_errors import error_response
from humangate.jobs.base import PeriodicJob
from humangate.observability.metrics import REGISTRY, merge, render
from humangate.observability.probes import watch_loop
from humangate.observability.requests import RequestObserver
from humangate.observability.shared import SharedSnapshots, SnapshotWriter
from humangate.risk.access import AccessList

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


def install(app: FastAPI, settings: Settings) -> None:
    """Wrap the app's whole middleware stack in the request observer, and add /metrics."""
    build_stack = app.build_middleware_stack

    def observed_stack() -> ASGIApp:
        # Outside even the error middleware: a 500 is counted with its status, carries the
        # request id, and the error's log line has it too.
        return RequestObserver(build_stack(), access_log=settings.access_log)

    app.build_middleware_stack = observed_stack  # type: ignore[method-assign]
    if settings.metrics:
        _add_metrics_route(app, settings)


def node_jobs(settings: Settings) -> list[PeriodicJob]:
    """The loop's lag probe and, with several workers, this worker's snapshot writer."""
    jobs: list[PeriodicJob] = [watch_loop()]
    if settings.metrics_dir is not None:
        jobs.append(SnapshotWriter(SharedSnapshots(settings.metrics_dir)))
    return jobs


def _add_metrics_route(app: FastAPI, settings: Settings) -> None:
    networks = [entry.strip() for entry in settings.metrics_networks.split(",") if entry.strip()]
    try:
        allowed = AccessList.from_strings(allow=networks)
    except ValueError as exc:
        raise ConfigError(f"HUMANGATE_METRICS_NETWORKS: {exc}") from exc
    shared = SharedSnapshots(settings.metrics_dir) if settings.metrics_dir else None

    async def metrics(request: Request) -> Response:
        client = request.client.host if request.client else ""
        if allowed.decide(client) != "allow":
            # Outside the allowed networks the page does not exist, as for any unknown path.
            return error_response(404, "not-found", "Not Found")
        others = shared.others() if shared is not None else {}
        merged = merge(REGISTRY.snapshot(), others, own_worker=os.getpid())
        return PlainTextResponse(render(REGISTRY, merged), media_type=PROMETHEUS_TEXT)

    app.add_api_route("/metrics", metrics, methods=["GET"], include_in_schema=False)
