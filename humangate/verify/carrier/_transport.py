"""One HTTP call to an operator, with its failures turned into `UpstreamUnavailable`."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from humangate.errors import UpstreamUnavailable

log = logging.getLogger("humangate.verify.carrier")

OPERATOR_UNAVAILABLE = "operator-unavailable"


def unavailable(operator: str, what: str) -> UpstreamUnavailable:
    """The error for an operator that failed; `what` must hold no reply and no credential."""
    log.warning("carrier verification: %s %s", operator, what)
    return UpstreamUnavailable(
        f"The {operator} number verification service is unavailable ({what}).",
        code=OPERATOR_UNAVAILABLE,
    )


async def send(
    client: httpx.AsyncClient | None,
    operator: str,
    timeout: float,
    **request: Any,
) -> httpx.Response:
    """Send one request; redirects are not followed, so credentials stay with the operator.

    Without `client`, a short-lived one is made. `timeout` bounds each phase (httpx) and the
    whole call, so an operator that trickles bytes is cut off too.

    Raises:
        UpstreamUnavailable: the connection failed or timed out.
    """
    try:
        async with asyncio.timeout(timeout):
            if client is not None:
                return await client.request(**request, timeout=timeout, follow_redirects=False)
            async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as own:
                return await own.request(**request)
    except TimeoutError:
        raise unavailable(operator, "no answer in time") from None
    except httpx.TimeoutException:
        raise unavailable(operator, "no answer in time") from None
    except httpx.HTTPError as exc:
        raise unavailable(operator, f"connection failed: {type(exc).__name__}") from None


def json_object(response: httpx.Response, operator: str) -> dict[str, Any]:
    """The reply's JSON object.

    Raises:
        UpstreamUnavailable: the reply is not a JSON object.
    """
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise unavailable(
            operator, f"a reply that is not a JSON object (HTTP {response.status_code})"
        )
    return data
