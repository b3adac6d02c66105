"""The OpenAPI description of the API's errors: the body every error carries (see
humangate/http_errors.py, which answers them) and the statuses a route declares."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class ErrorBody(BaseModel):
    """Every API error: a code to branch on and a message for people (docs/api.md, "Errors")."""

    model_config = ConfigDict(extra="allow")

    error: str
    message: str


_ERROR_DESCRIPTIONS = {
    400: "`bad-request` (malformed JSON, wrong types, unknown keys, bad text) or the "
    "route's own input error (`invalid-sitekey`, `sitekey-required`, …)",
    401: "The verification API's signature: `missing-signature`, `malformed-signature`, "
    "`unknown-app`, `stale-timestamp`, `bad-signature` or `nonce-reused`",
    403: "`invalid-origin`, `sitekey-disabled`, `access-denied` or `invalid-input-secret`; "
    "the verification API's rules: `app-disabled`, `channel-not-allowed`, "
    "`country-not-allowed`, `carrier-not-allowed`, `prefix-blocked`, `token-required`, "
    "`invalid-token`",
    404: "`not-found` or the route's own (`unknown-token`)",
    410: "`expired-or-used`: the challenge expired or was answered (also `success: false`); "
    "the verification API's `not-pending`",
    413: "`payload-too-large`: a body over the limit (64 KiB by default)",
    429: "`rate-limited` or `locked-out`; the verification API's limits: "
    "`destination-limit`, `network-limit`, `prefix-limit`, `app-limit`, `resend-too-soon`, "
    "`max-sends`; with Retry-After in seconds",
    503: "`storage-unavailable` or `database-unavailable`; the verification API's "
    "`delivery-failed` or `operator-unavailable`; with Retry-After in seconds",
}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "schema": {"type": "integer", "minimum": 0},
    }
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses` of a route's errors, each with the error body's schema."""
    return {
        status: {
            "model": ErrorBody,
            "description": _ERROR_DESCRIPTIONS[status],
            **({"headers": _RETRY_AFTER} if status in (429, 503) else {}),
        }
        for status in statuses
    }
