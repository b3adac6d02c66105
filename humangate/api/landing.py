"""The landing page at `/`: where the demo, the console and the API reference are."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from humangate.api.assets import compress_page
from humangate.api.deps import ServicesDep
from humangate.api.site import templates

router = APIRouter()


@router.get("/", include_in_schema=False)
async def landing_page(request: Request, services: ServicesDep) -> Response:
    page = templates.TemplateResponse(request, "landing.html", {"demo": services.demo is not None})
    return compress_page(request, page)
