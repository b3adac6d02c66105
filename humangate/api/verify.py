"""The verification API: an app's backend starts, checks, fetches and cancels verifications of
phone numbers and e-mail addresses, every request signed with the app's secret
(humangate/verify/signing.py, docs/verify.md).

Signatures are checked before the body is parsed (`SignedRoute`), so an unsigned request learns
nothing of what a signed one may send, not even whether its JSON would parse. Statuses: 201 for
a new verification, 200 for every other answer; 401 for a request that does not prove its app;
403 for a rule of the app; 429 for a limit (the code says which); 503 when the code could not
be delivered.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from humangate.api.deps import ServicesDep, get_services
from humangate.api.error_docs import error_responses
from humangate.api.response_docs import json_answer
from humangate.api.signals import ApiModel
from humangate.verify.apps import AppView
from humangate.verify.service import CheckOutcome, StartRequest, VerificationView

VERIFICATION: dict[str, Any] = {
    "type": "object",
    "required": ["id", "status", "channel", "to", "expires_at", "attempts_left", "sends"],
    "properties": {
        "id": {"type": "string", "pattern": "^VE[0-9a-f]{32}$"},
        "status": {
            "type": "string",
            "enum": ["pending", "approved", "canceled", "expired", "max-attempts", "failed"],
        },
        "channel": {"type": "string", "enum": ["sms", "email"]},
        "to": {"type": "string", "description": "The destination, masked"},
        "country": {"type": ["string", "null"]},
        "carrier": {"type": ["string", "null"]},
        "created_at": {"type": "string", "format": "date-time"},
        "expires_at": {"type": "string", "format": "date-time"},
        "attempts_left": {"type": "integer", "minimum": 0},
        "sends": {"type": "integer", "minimum": 1},
        "delivery": {"type": "string", "enum": ["queued", "sent", "retried", "failed"]},
    },
}
CHECKED: dict[str, Any] = {
    **VERIFICATION,
    "required": [*VERIFICATION["required"], "valid"],
    "properties": {
        **VERIFICATION["properties"],
        "status": {
            "type": "string",
            "enum": ["approved", "denied", "expired", "max-attempts", "canceled"],
        },
        "valid": {"type": "boolean"},
    },
}
_SIGNED = (400, 401, 403, 413, 503)
VerificationId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9]+$")]


class SignedRoute(APIRoute):
    """A route whose request must prove its app before anything else reads it: the signature
    is checked over the raw target and body, as sent, before the body is parsed as JSON.

    A route that takes `SignedSession` works in the transaction that holds the request's nonce
    (one commit for both); any other route runs after the nonce is committed.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        shares = any(d.call is _signed_session for d in self.dependant.dependencies)

        async def signed(request: Request) -> Response:
            target = request.scope.get("raw_path", b"").decode("latin-1") or request.url.path
            if request.url.query:
                target += "?" + request.url.query
            body = await request.body()  # kept by the request: the handler reads it again
            verify = get_services(request).verify
            if not shares:
                request.state.verify_app = await verify.authenticate(
                    request.method, target, request.headers, body
                )
                return await handler(request)
            async with verify.signed(request.method, target, request.headers, body) as call:
                request.state.verify_app = call.app
                request.state.verify_session = call.session
                return await handler(request)

        return signed


router = APIRouter(prefix="/api/v1/verify", tags=["verification API"], route_class=SignedRoute)


async def _signed_app(request: Request) -> AppView:
    """The app whose secret signed this request (checked by `SignedRoute`)."""
    app: AppView = request.state.verify_app
    return app


SignedApp = Annotated[AppView, Depends(_signed_app)]


async def _signed_session(request: Request) -> AsyncSession:
    """The session whose open transaction holds this request's nonce (`SignedRoute`)."""
    session: AsyncSession = request.state.verify_session
    return session


SignedSession = Annotated[AsyncSession, Depends(_signed_session)]


class StartBody(ApiModel):
    """Send a one-time code to `to`: a number in E.164 form for `sms`, an address for `email`."""

    to: str = Field(min_length=3, max_length=254)
    channel: Literal["sms", "email"]
    locale: Literal["en", "zh-CN"] = "en"
    humangate_token: str = Field(default="", max_length=4096)
    idempotency_key: str = Field(default="", max_length=128, pattern=r"^[A-Za-z0-9_.:-]*$")
    client_ip: str = Field(default="", max_length=64)


class CheckBody(ApiModel):
    code: str = Field(min_length=1, max_length=16)


class EmptyBody(ApiModel):
    """Nothing: the body is `{}`."""


def _answer(view: VerificationView, status: int = 200) -> JSONResponse:
    return JSONResponse(view.as_json(), status_code=status)


def _checked(outcome: CheckOutcome) -> JSONResponse:
    return JSONResponse(
        {**outcome.verification.as_json(), "status": outcome.status, "valid": outcome.valid}
    )


@router.post(
    "/verifications",
    status_code=201,
    summary="Start a verification: send a one-time code",
    responses={
        200: json_answer(VERIFICATION, "A code sent again, or the answer to a repeated key"),
        201: json_answer(VERIFICATION, "A new verification, its code sent"),
        **error_responses(*_SIGNED, 429),
    },
)
async def start(
    body: StartBody, app: SignedApp, session: SignedSession, services: ServicesDep
) -> JSONResponse:
    view, created = await services.verify.start(
        app,
        StartRequest(
            to=body.to,
            channel=body.channel,
            locale=body.locale,
            humangate_token=body.humangate_token,
            idempotency_key=body.idempotency_key,
            client_ip=body.client_ip,
        ),
        session=session,
    )
    return _answer(view, 201 if created else 200)


@router.get(
    "/verifications/{verification_id}",
    summary="Fetch a verification",
    responses={
        200: json_answer(VERIFICATION, "The verification"),
        **error_responses(*_SIGNED, 404),
    },
)
async def fetch(
    verification_id: VerificationId, app: SignedApp, session: SignedSession, services: ServicesDep
) -> JSONResponse:
    return _answer(await services.verify.fetch(app, verification_id, session=session))


@router.post(
    "/verifications/{verification_id}/check",
    summary="Check a code",
    responses={
        200: json_answer(CHECKED, "The answer; `valid` only when this check approved it"),
        **error_responses(*_SIGNED, 404),
    },
)
async def check(
    verification_id: VerificationId,
    body: CheckBody,
    app: SignedApp,
    session: SignedSession,
    services: ServicesDep,
) -> JSONResponse:
    return _checked(await services.verify.check(app, verification_id, body.code, session=session))


@router.post(
    "/verifications/{verification_id}/cancel",
    summary="Cancel a pending verification",
    responses={
        200: json_answer(VERIFICATION, "The verification, canceled"),
        **error_responses(*_SIGNED, 404, 410),
    },
)
async def cancel(
    verification_id: VerificationId,
    _: EmptyBody,
    app: SignedApp,
    session: SignedSession,
    services: ServicesDep,
) -> JSONResponse:
    return _answer(await services.verify.cancel(app, verification_id, session=session))


class NumberBody(ApiModel):
    """Ask the carrier whether the device's SIM has `phone_number` (E.164).

    `method` `camara`: `evidence` is the authorization code the device brought back from the
    operator, `redirect_uri` the one the authorization used. `cn-onetap`: `evidence` is the
    token the carrier's SDK gave the app on the device.
    """

    phone_number: str = Field(min_length=3, max_length=32)
    method: Literal["camara", "cn-onetap"]
    evidence: str = Field(min_length=1, max_length=4096)
    redirect_uri: str = Field(default="", max_length=2000)
    client_ip: str = Field(default="", max_length=64)


class AuthorizeBody(ApiModel):
    """Where to send the device first on the CAMARA path; the app keeps `state` and `nonce`."""

    redirect_uri: str = Field(min_length=1, max_length=2000, pattern=r"^https?://")
    state: str = Field(min_length=16, max_length=256, pattern=r"^[A-Za-z0-9_.~-]+$")
    nonce: str = Field(min_length=16, max_length=256, pattern=r"^[A-Za-z0-9_.~-]+$")
    phone_number: str = Field(default="", max_length=32)


NUMBER_CHECKED: dict[str, Any] = {
    "type": "object",
    "required": ["verified", "method", "carrier"],
    "properties": {
        "verified": {"type": "boolean"},
        "method": {"type": "string", "enum": ["camara", "cn-onetap"]},
        "carrier": {"type": ["string", "null"]},
        "reason": {"type": "string"},
    },
}
AUTHORIZE: dict[str, Any] = {
    "type": "object",
    "required": ["authorization_url"],
    "properties": {"authorization_url": {"type": "string", "format": "uri"}},
}


@router.post(
    "/number",
    summary="Verify a number with its carrier",
    responses={
        200: json_answer(NUMBER_CHECKED, "The carrier's answer"),
        **error_responses(*_SIGNED, 429),
    },
)
async def verify_number(body: NumberBody, app: SignedApp, services: ServicesDep) -> JSONResponse:
    verdict = await services.verify.verify_number(
        app,
        phone_number=body.phone_number,
        method=body.method,
        evidence=body.evidence,
        redirect_uri=body.redirect_uri or None,
        client_ip=body.client_ip,
    )
    return JSONResponse(
        {
            "verified": verdict.verified,
            "method": body.method,
            "carrier": verdict.carrier,
            "reason": verdict.reason,
        }
    )


@router.post(
    "/number/authorize",
    summary="The operator's authorization URL (CAMARA path)",
    responses={200: json_answer(AUTHORIZE, "Send the device here"), **error_responses(*_SIGNED)},
)
async def authorize(body: AuthorizeBody, app: SignedApp, services: ServicesDep) -> JSONResponse:
    url = services.verify.authorization_url(
        app,
        state=body.state,
        nonce=body.nonce,
        redirect_uri=body.redirect_uri,
        phone_number=body.phone_number,
    )
    return JSONResponse({"authorization_url": url})
