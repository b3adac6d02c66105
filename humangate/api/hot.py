"""The hot routes (liveness and the three siteverify paths) answered without the router.

FastAPI's routing and its per-route wrapper (matching every route of the API and the console,
solving dependencies, validating the answer) cost a siteverify more CPU than the verification
itself, and /livez ten times what the server spends on the request (docs/benchmarks.md). These
routes take nothing but the request, so `HotRoutes`, the innermost of the app's middleware, sends
a request for one of them, by exact method and path, straight to the route's own endpoint,
through the app's own exception handlers; every other request goes on to the router. The routes
stay declared where they are (their OpenAPI entries, their tests); metrics see the same route.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

HOT = frozenset(
    {
        ("GET", "/livez"),
        ("POST", "/siteverify"),
        ("POST", "/recaptcha/api/siteverify"),
        ("POST", "/turnstile/v0/siteverify"),
    }
)
Endpoint = Callable[..., Awaitable[Any]]


def hot_endpoints(app: FastAPI) -> dict[tuple[str, str], tuple[APIRoute, Endpoint]]:
    """The routes of HOT whose endpoint takes no dependency: no argument, or the request only.

    A hot route that comes to need a dependency simply stays with the router.
    """
    found: dict[tuple[str, str], tuple[APIRoute, Endpoint]] = {}
    for context in iter_route_contexts(app.routes):  # included routers' routes, as matched
        route = context.original_route
        if not isinstance(route, APIRoute) or not inspect.iscoroutinefunction(route.endpoint):
            continue
        parameters = list(inspect.signature(route.endpoint, eval_str=True).parameters.values())
        plain = not parameters or (len(parameters) == 1 and parameters[0].annotation is Request)
        for method in route.methods or ():
            key = (method, context.path or "")
            if key in HOT and plain:
                found.setdefault(key, (route, route.endpoint))
    return found


class HotRoutes:
    """ASGI middleware: HOT's routes straight to their endpoints, the rest to `app`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._routes: dict[tuple[str, str], tuple[APIRoute, ASGIApp]] | None = None

    def _build(self, fastapi: FastAPI) -> dict[tuple[str, str], tuple[APIRoute, ASGIApp]]:
        # The handlers the framework's ExceptionMiddleware gets: all but the 500 one, which the
        # outermost error middleware keeps for this path too.
        handlers: Mapping[Any, Any] = {
            key: handler
            for key, handler in fastapi.exception_handlers.items()
            if key not in (500, Exception)
        }
        return {
            key: (route, ExceptionMiddleware(_endpoint_app(endpoint), handlers=handlers))
            for key, (route, endpoint) in hot_endpoints(fastapi).items()
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            routes = self._routes
            if routes is None:
                routes = self._routes = self._build(scope["app"])
            hot = routes.get((scope["method"], scope["path"]))
            if hot is not None:
                scope["route"] = hot[0]  # as the router would set it: metrics label by route
                await hot[1](scope, receive, send)
                return
        await self.app(scope, receive, send)


def _endpoint_app(endpoint: Endpoint) -> ASGIApp:
    takes_request = bool(inspect.signature(endpoint).parameters)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        try:
            answer = await (endpoint(request) if takes_request else endpoint())
            response = answer if isinstance(answer, Response) else JSONResponse(answer)
            await response(scope, receive, send)
        finally:
            await request.close()  # a multipart body's spooled parts

    return app
