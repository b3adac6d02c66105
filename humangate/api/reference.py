"""`/docs`: the OpenAPI document rendered on the server, with no third-party assets."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from humangate.api.site import templates

router = APIRouter(include_in_schema=False)
_METHODS = ("get", "post", "put", "patch", "delete")


def _operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for path, item in spec.get("paths", {}).items():
        for method in _METHODS:
            if method not in item:
                continue
            operation = item[method]
            body = operation.get("requestBody", {}).get("content", {})
            found.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "request": {
                        media: json.dumps(c.get("schema", {}), indent=2)
                        for media, c in body.items()
                    },
                    "responses": sorted(operation.get("responses", {})),
                }
            )
    return found


@router.get("/docs")
async def api_docs(request: Request) -> HTMLResponse:
    spec = request.app.openapi()
    schemas = json.dumps(spec.get("components", {}).get("schemas", {}), indent=2)
    context = {"info": spec["info"], "operations": _operations(spec), "schemas": schemas}
    return templates.TemplateResponse(request, "api_docs.html", context)
