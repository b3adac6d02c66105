"""The widget script, the demo page and the health check."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.templating import Jinja2Templates

from humangate.api.deps import ServicesDep
from humangate.api.siteverify import siteverify_json, verify_fields

PACKAGE = Path(__file__).resolve().parent.parent
templates = Jinja2Templates(directory=str(PACKAGE / "templates"))
router = APIRouter()


@router.get("/humangate.js", include_in_schema=False)
async def widget_script() -> FileResponse:
    return FileResponse(
        PACKAGE / "static" / "humangate.js",
        media_type="application/javascript",
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.get("/livez", summary="Liveness: the process answers (no I/O)")
async def livez() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/healthz", summary="Readiness: the hot-state store answers")
async def healthz(services: ServicesDep) -> JSONResponse:
    ok = await services.store.ping()
    return JSONResponse({"status": "ok" if ok else "degraded"}, status_code=200 if ok else 503)


@router.get("/demo", include_in_schema=False)
async def demo_page(request: Request, services: ServicesDep) -> HTMLResponse:
    if services.demo is None:
        return HTMLResponse("The demo is disabled.", status_code=404)
    context = {"sitekey": services.demo.sitekey, "result": None, "result_json": None}
    return templates.TemplateResponse(request, "demo.html", {**context, "name": "", "email": ""})


@router.post("/demo", include_in_schema=False)
async def demo_submit(request: Request, services: ServicesDep) -> HTMLResponse:
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
    return templates.TemplateResponse(request, "demo.html", context, status_code=status)
