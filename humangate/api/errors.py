"""The loop's `Rejected` until it raises the error tree (humangate/http_errors.py maps that)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from humangate.http_errors import error_response
from humangate.verification import Rejected


def install_legacy_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Rejected)
    async def _rejected(_: Request, exc: Rejected) -> JSONResponse:
        extra = {"success": False, "next": None} if exc.status == 410 else {}
        return error_response(exc.status, exc.code, exc.message, **extra)
