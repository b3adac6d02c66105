"""FastAPI: a dependency that returns the Verification of the posted token or answers 403.

client = AsyncClient(HUMANGATE_URL, SECRET)
Human = Annotated[Verification, Depends(require_humangate(client))]

@app.post("/signup")
async def signup(human: Human) -> ...
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Request

from humangate.client._async import AsyncClient
from humangate.client._result import RESPONSE_FIELD, Verification

FAILED = "human-check-failed"


def require_humangate(
    client: AsyncClient, *, action: str | None = None, field: str = RESPONSE_FIELD
) -> Callable[[Request], Awaitable[Verification]]:
    """The token is read from a form field or a JSON body's key named `field`. A failure
    answers 403 with one code that never says why."""

    async def dependency(request: Request) -> Verification:
        token = await _token(request, field)
        remote_ip = request.client.host if request.client else None
        verification = await client.verify(token, remote_ip=remote_ip, expected_action=action)
        if not verification.success:
            raise HTTPException(status_code=403, detail=FAILED)
        return verification

    return dependency


async def _token(request: Request, field: str) -> str | None:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        try:
            body = json.loads(await request.body())
        except ValueError:
            return None
        value = body.get(field) if isinstance(body, dict) else None
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        value = (await request.form()).get(field)
    else:
        return None
    return value if isinstance(value, str) else None
