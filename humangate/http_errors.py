"""The one place where errors become HTTP: JSON with an error code for the API, a page for the
console. Nothing from input becomes a 5xx; a failed dependency becomes a 503 with a code.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from humangate.console.web import redirect, render
from humangate.errors import (
    AccessDenied,
    DatabaseUnavailable,
    Expired,
    InvalidInput,
    LoginRequired,
    NotFound,
    PaymentRequired,
    RateLimited,
    Refusal,
    StorageError,
    TermsRequired,
    Unauthenticated,
    UpstreamUnavailable,
)

logger = logging.getLogger("humangate")

CONSOLE_PREFIX = "/console"
# A store outage is a restart or a failover: seconds, not minutes.
STORAGE_RETRY_AFTER = 2
# So is a database's (a restart, a failover, a pool that drains).
DATABASE_RETRY_AFTER = 5
# A gateway that failed twice in a row (one retry) is not back in a second.
UPSTREAM_RETRY_AFTER = 30

# The most specific class first: LockedOut is a RateLimited, BadSiteverify an InvalidInput.
STATUS: tuple[tuple[type[Refusal], int], ...] = (
    (InvalidInput, 400),
    (Unauthenticated, 401),
    (PaymentRequired, 402),
    (AccessDenied, 403),
    (NotFound, 404),
    (Expired, 410),
    (RateLimited, 429),
)

_HTTP_CODES = {
    400: "bad-request",
    404: "not-found",
    405: "method-not-allowed",
    413: "payload-too-large",
    415: "unsupported-media-type",
}


def status_of(refusal: Refusal) -> int:
    """The HTTP status of a refusal; a refusal of no more specific kind is a 400."""
    for kind, status in STATUS:
        if isinstance(refusal, kind):
            return status
    return 400


def error_response(status: int, code: str, message: str, **extra: object) -> JSONResponse:
    return JSONResponse({"error": code, "message": message, **extra}, status_code=status)


def refusal_response(refusal: Refusal) -> JSONResponse:
    """A refusal as the API answers it."""
    status = status_of(refusal)
    # A 410 says what a failed answer says, so the widget handles both alike.
    extra: dict[str, object] = {"success": False, "next": None} if status == 410 else {}
    response = error_response(status, refusal.code, refusal.message, **extra)
    if isinstance(refusal, RateLimited) and refusal.retry_after is not None:
        response.headers["Retry-After"] = str(refusal.retry_after)
    return response


def _is_console(request: Request) -> bool:
    path = request.url.path
    return path == CONSOLE_PREFIX or path.startswith(CONSOLE_PREFIX + "/")


def install_error_handlers(app: FastAPI) -> None:
    """Map the error tree, FastAPI's own errors and anything unexpected, once for the app."""
    install_openapi(app)

    @app.exception_handler(Refusal)
    async def _refused(request: Request, exc: Refusal) -> Response:
        if _is_console(request):
            return _console_page(request, status_of(exc), exc.message)
        return refusal_response(exc)

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        return _console_redirect(request, "/console/login?next=" + quote(exc.next_path, safe="/"))

    @app.exception_handler(TermsRequired)
    async def _terms_required(request: Request, exc: TermsRequired) -> Response:
        return _console_redirect(request, "/console/terms?next=" + quote(exc.next_path, safe="/"))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": [str(part) for part in err.get("loc", ())], "msg": str(err.get("msg", ""))}
            for err in exc.errors()
        ]
        return error_response(400, "bad-request", "The request body is not valid.", details=details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        response = error_response(exc.status_code, code, str(exc.detail))
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:
            response.headers["Allow"] = allowed_methods(request)
        return response

    @app.exception_handler(StorageError)
    async def _storage(_: Request, exc: StorageError) -> JSONResponse:
        logger.error("storage failure: %s", exc)
        response = error_response(503, "storage-unavailable", "The service is briefly unavailable.")
        response.headers["Retry-After"] = str(STORAGE_RETRY_AFTER)
        return response

    @app.exception_handler(UpstreamUnavailable)
    async def _upstream(_: Request, exc: UpstreamUnavailable) -> JSONResponse:
        logger.error("upstream failure (%s): %s", exc.code, exc)
        response = error_response(503, exc.code, "The service is briefly unavailable.")
        response.headers["Retry-After"] = str(UPSTREAM_RETRY_AFTER)
        return response

    @app.exception_handler(DatabaseUnavailable)
    async def _database(request: Request, exc: DatabaseUnavailable) -> Response:
        logger.error("database failure: %s", exc)
        message = "The service is briefly unavailable."
        response = (
            _console_page(request, 503, message + " Please try again in a moment.")
            if _is_console(request)
            else error_response(503, "database-unavailable", message)
        )
        response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
        return response

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        logger.exception("unexpected error: %s", type(exc).__name__)
        return error_response(500, "internal-error", "An internal error occurred.")


def allowed_methods(request: Request) -> str:
    """Every method some route takes at this path: the router's own 405 names only the first
    route it matched (a page's GET beside its form's POST)."""
    methods: set[str] = set()
    for context in iter_route_contexts(request.app.routes):  # included routers' routes too
        path, taken = context.path, context.methods
        if path and taken and compile_path(path)[0].match(request.scope["path"]):
            methods |= taken
    return ", ".join(sorted(methods))


def install_openapi(app: FastAPI) -> None:
    """The document says what the handlers answer: a failed validation is a 400 with the error
    body (`_invalid` above), never FastAPI's 422."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                routes=app.routes,
            )
            for operations in document.get("paths", {}).values():
                for operation in operations.values():
                    operation.get("responses", {}).pop("422", None)
            schemas = document.get("components", {}).get("schemas", {})
            for unused in ("HTTPValidationError", "ValidationError"):
                schemas.pop(unused, None)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _console_page(request: Request, status: int, message: str) -> Response:
    viewer = getattr(request.state, "viewer", None)
    context = {"status": status, "message": message}
    return render(request, "error.html", context, viewer=viewer, status=status)


def _console_redirect(request: Request, path: str) -> Response:
    return redirect(request, path)
