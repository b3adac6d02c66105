"""What a visitor's device left with us: see it and erase it at /privacy/device.

Device ids are HMACs salted per unit, so the server cannot list a visitor's records without the
browser's own facts: the page gathers them with the widget's code and sends them here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import ConfigDict, Field

from humangate.api.deps import Client, ClientDep, ServicesDep
from humangate.api.error_docs import error_responses
from humangate.api.response_docs import (
    DEVICE_RECORDS,
    ERASED,
    OPTED_IN,
    OPTED_OUT,
    json_answer,
)
from humangate.api.signals import ApiModel, Environment
from humangate.api.site import templates
from humangate.db import events as event_db
from humangate.device import device_id
from humangate.errors import InvalidInput
from humangate.loop.limits import count_privacy_lookup
from humangate.services import Services

router = APIRouter(tags=["privacy"])
MAX_UNITS_SEARCHED = 10_000


class DeviceRequest(ApiModel):
    """The browser's facts, and optionally the site key and first-party value from the widget."""

    model_config = ConfigDict(extra="forbid", strict=True)

    env: Environment
    fp: str = Field(default="", max_length=64, pattern=r"^[A-Za-z0-9_-]*$")
    sitekey: str = Field(default="", max_length=64)


@router.get(
    "/privacy/device",
    summary="The page where a visitor sees, erases or opts out of what is held (HTML)",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}},
)
async def device_page(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "privacy_device.html", {})


async def _devices(services: Services, body: DeviceRequest, client: Client) -> dict[int, str]:
    """The device id this browser has on each unit asked about (one, or every unit)."""
    await count_privacy_lookup(services.store, client.prefix)
    async with services.sessions() as session:
        units = await event_db.device_salts(session, sitekey=body.sitekey, limit=MAX_UNITS_SEARCHED)
    if body.sitekey and not units:
        raise InvalidInput("No verification unit has this site key.", code="invalid-sitekey")
    env = body.env.model_dump(exclude_none=True)
    return {
        unit_id: device_id(services.key, salt, env, client.user_agent, body.fp)
        for unit_id, salt in units
    }


@router.post(
    "/privacy/device",
    summary="What is held about this device",
    responses={
        200: json_answer(DEVICE_RECORDS, "Whether the device opted out, and its recorded events"),
        **error_responses(400, 413, 429, 503),
    },
)
async def device_records(
    body: DeviceRequest, services: ServicesDep, client: ClientDep
) -> dict[str, Any]:
    """Every risk event kept for this browser: when, what kind, the outcome and the truncated
    network. Scores and reasons are the owner's: to a client they would be a tuning oracle.
    Raw traces, their measurements and full addresses are never kept."""
    devices = await _devices(services, body, client)
    await services.events.flush()
    async with services.sessions() as session:
        rows = await event_db.device_events(session, devices)
        opted_out = await event_db.is_opted_out(session, devices)
    return {
        "opted_out": opted_out,
        "events": [
            {
                "at": row.created_at.isoformat(timespec="seconds"),
                "kind": row.kind,
                "outcome": row.outcome,
                "network": row.ip_prefix,
                "labelled": row.label is not None,
            }
            for row in rows
        ],
    }


@router.post(
    "/privacy/device/erase",
    summary="Erase what is held about this device",
    responses={
        200: json_answer(ERASED, "How many records were erased"),
        **error_responses(400, 413, 429, 503),
    },
)
async def erase_device(
    body: DeviceRequest, services: ServicesDep, client: ClientDep
) -> dict[str, int]:
    devices = await _devices(services, body, client)
    await services.events.flush()
    async with services.sessions() as session:
        erased = await event_db.erase_device(session, devices)
    return {"erased": erased}


def _one_site(body: DeviceRequest) -> None:
    if not body.sitekey:
        raise InvalidInput(
            "Open this page from the HumanGate link in a site's widget: an opt-out is per site.",
            code="sitekey-required",
        )


@router.post(
    "/privacy/device/opt-out",
    summary="Keep no records of this device on this site",
    responses={
        200: json_answer(OPTED_OUT, "Opted out, and how many records were erased"),
        **error_responses(400, 413, 429, 503),
    },
)
async def opt_out(body: DeviceRequest, services: ServicesDep, client: ClientDep) -> dict[str, Any]:
    """From now on no risk event is kept for this browser on this site, and the ones held are
    erased. Verification works as before; only its record goes. Needs the site key: device ids
    differ per site. A browser whose facts change (an update, another screen) gets a new device
    id, which is recorded again until it opts out too."""
    _one_site(body)
    devices = await _devices(services, body, client)
    await services.events.flush()
    async with services.sessions() as session:
        erased = await event_db.opt_out(session, devices, datetime.now(UTC))
    return {"opted_out": True, "erased": erased}


@router.post(
    "/privacy/device/opt-in",
    summary="Keep records of this device on this site again",
    responses={
        200: json_answer(OPTED_IN, "Opted in again"),
        **error_responses(400, 413, 429, 503),
    },
)
async def opt_in(body: DeviceRequest, services: ServicesDep, client: ClientDep) -> dict[str, Any]:
    _one_site(body)
    devices = await _devices(services, body, client)
    async with services.sessions() as session:
        await event_db.opt_in(session, devices)
    return {"opted_out": False}
