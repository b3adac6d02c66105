"""The widget script, the demo page and the probes: /livez (the process), /readyz (its
dependencies; /healthz is its former name)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel

from humangate.api.assets import compress_page, widget_src
from humangate.api.deps import ServicesDep
from humangate.api.siteverify import siteverify_json, verify_fields
from humangate.db.engine import ping_database
from humangate.errors import StorageError
from humangate.services import Services

PACKAGE = Path(__file__).resolve().parent.parent
templates = Jinja2Templates(directory=str(PACKAGE / "templates"))
templates.env.globals["widget_src"] = widget_src
router = APIRouter()
# Each dependency's own bound: a probe that waits longer than its caller's timeout says nothing.
READINESS_TIMEOUT = 1.0
Dependency = Literal["store", "database"]


class Liveness(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    """`ok` when every dependency answered within its timeout; `checks` names each one's state,
    and nothing else about it (no address, no error text)."""

    status: Literal["ok", "unavailable"]
    checks: dict[Dependency, Literal["ok", "down"]]


_READINESS_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": Readiness, "description": "The store and the database answer."},
    503: {
        "model": Readiness,
        "description": "At least one dependency is down; `checks` says which.",
    },
}


@router.get(
    "/livez",
    summary="Liveness: the process answers (no I/O)",
    response_model=Liveness,
    responses={200: {"description": "The process runs and its event loop answers."}},
)
async def livez() -> dict[str, str]:
    return {"status": "ok"}


async def _readiness(services: Services) -> JSONResponse:
    store, database = await asyncio.gather(
        _answers(services.store.ping(), expect=True),
        _answers(ping_database(services.sessions), expect=None),
    )
    checks: dict[Dependency, bool] = {"store": store, "database": database}
    ready = all(checks.values())
    body = Readiness(
        status="ok" if ready else "unavailable",
        checks={name: "ok" if up else "down" for name, up in checks.items()},
    )
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


async def _answers(check: Coroutine[Any, Any, object], *, expect: object) -> bool:
    """Whether a dependency answered `expect` within its own timeout.

    A check past its time is cancelled but not awaited: a driver may take seconds to finish
    a cancel (asyncpg asks the frozen server to cancel the statement), and the probe's answer
    must not wait for that.
    """
    task = asyncio.ensure_future(check)
    done, _ = await asyncio.wait({task}, timeout=READINESS_TIMEOUT)
    if not done:
        task.cancel()
        task.add_done_callback(_forget)
        return False
    try:
        return task.result() == expect
    except StorageError:
        return False


def _forget(task: asyncio.Future[object]) -> None:
    if not task.cancelled():
        task.exception()


@router.get(
    "/readyz",
    summary="Readiness: the store and the database answer, each within 1 s",
    responses=_READINESS_RESPONSES,
)
async def readyz(services: ServicesDep) -> JSONResponse:
    return await _readiness(services)


@router.get(
    "/healthz",
    summary="Readiness (the former name of /readyz, kept for existing monitors)",
    responses=_READINESS_RESPONSES,
)
async def healthz(services: ServicesDep) -> JSONResponse:
    return await _readiness(services)


@router.get("/demo", include_in_schema=False)
async def demo_page(request: Request, services: ServicesDep) -> Response:
    if services.demo is None:
        return HTMLResponse("The demo is disabled.", status_code=404)
    context = {"sitekey": services.demo.sitekey, "result": None, "result_json": None}
    page = templates.TemplateResponse(request, "demo.html", {**context, "name": "", "email": ""})
    return compress_page(request, page)


@router.post("/demo", include_in_schema=False)
async def demo_submit(request: Request, services: ServicesDep) -> Response:
    """The sign-up handler a site owner would write: verify the token server-side, then act."""
    demo = services.demo
    if demo is None:
        return HTMLResponse("The demo is disabled.", status_code=404)
    form = await request.form()
    token = form.get("humangate-response")
    verified, sitekey = await verify_fields(
        {"secret": demo.secret, "response": token if isinstance(token, str) else ""},
        directory=services.directory,
        verifier=services.verifier,
        test_keys=False,
    )
    result = siteverify_json(verified, sitekey)
    name = form.get("name")
    email = form.get("email")
    context = {
        "sitekey": demo.sitekey,
        "result": result,
        "result_json": json.dumps(result, indent=2),
        "name": name if isinstance(name, str) else "",
        "email": email if isinstance(email, str) else "",
    }
    status = 200 if result["success"] else 400
    page = templates.TemplateResponse(request, "demo.html", context, status_code=status)
    return compress_page(request, page)
