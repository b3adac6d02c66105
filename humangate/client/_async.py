"""The asyncio client, for ASGI backends (FastAPI, Starlette)."""

from __future__ import annotations

import asyncio
from types import TracebackType

import httpx

from humangate.client._result import (
    Verification,
    backoff_seconds,
    check_on_unreachable,
    is_unreachable_status,
    missing_response,
    new_idempotency_key,
    read_answer,
    request_form,
    siteverify_url,
    unreachable,
)


class AsyncClient:
    """Verifies pass tokens with a HumanGate server.

    A try that ends in a network error, a timeout or a 5xx is retried `retries` times with the
    same idempotency key; if none gives a verdict, `on_unreachable` decides: "closed" (the
    default) refuses with `service-unavailable`, "open" lets the request through. Either way
    the result says `unreachable=True`.
    """

    def __init__(
        self,
        base_url: str,
        secret: str,
        *,
        sitekey: str | None = None,
        timeout: float = 3.0,
        on_unreachable: str = "closed",
        retries: int = 2,
        backoff: float = 0.2,
    ) -> None:
        if retries < 0:
            raise ValueError("retries must be 0 or more")
        self.base_url = base_url.rstrip("/")
        self.sitekey = sitekey
        self._secret = secret
        self._url = siteverify_url(base_url)
        self._on_unreachable = check_on_unreachable(on_unreachable)
        self._retries = retries
        self._backoff = backoff
        self._http = httpx.AsyncClient(timeout=timeout)

    def __repr__(self) -> str:
        return f"AsyncClient({self.base_url!r}, on_unreachable={self._on_unreachable!r})"

    async def verify(
        self,
        token: str | None,
        *,
        remote_ip: str | None = None,
        expected_action: str | None = None,
        idempotency_key: str | None = None,
    ) -> Verification:
        if not token:
            return missing_response()
        form = request_form(
            self._secret,
            token,
            remote_ip=remote_ip,
            expected_action=expected_action,
            idempotency_key=idempotency_key or (new_idempotency_key() if self._retries else None),
            sitekey=self.sitekey,
        )
        reason = ""
        for attempt in range(self._retries + 1):
            if attempt:
                await asyncio.sleep(backoff_seconds(attempt - 1, self._backoff))
            try:
                reply = await self._http.post(self._url, data=form)
            except httpx.TransportError as exc:
                reason = type(exc).__name__
                continue
            if is_unreachable_status(reply.status_code):
                reason = f"HTTP {reply.status_code}"
                continue
            return read_answer(reply.status_code, reply.content)
        return unreachable(self._on_unreachable, self.base_url, reason)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
