"""What a visitor's device left with us: see it and erase it at /privacy/device.

Device ids are HMACs salted per unit, so the server cannot list a visitor's records without the
browser's own facts: the page gathers them with the widget's code and sends them here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from humangate.api.challenges import Environment
from humangate.api.deps import ClientDep
from humangate.api.site import templates
from humangate.db import events as event_db
from humangate.db.models import Unit
from humangate.device import device_id
from humangate.verification import Rejected

router = APIRouter(tags=["privacy"])
LOOKUPS_PER_MINUTE = 30
MAX_UNITS_SEARCHED = 10_000


class DeviceRequest(BaseModel):
    """The browser's facts, and optionally the site key and first-party value from the widget."""

    model_config = ConfigDict(extra="forbid", strict=True)

    env: Environment
    fp: str = Field(default="", max_length=64, pattern=r"^[A-Za-z0-9_-]*$")
    sitekey: str = Field(default="", max_length=64)


@router.get("/privacy/device", include_in_schema=False)
async def device_page(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "privacy_device.html", {})


async def _devices(request: Request, body: DeviceRequest, client: Any) -> dict[int, str]:
    """The device id this browser has on each unit asked about (one, or every unit)."""
    state = request.app.state
    if await state.store.hit("rate", f"privacy:{client.prefix}", 60) > LOOKUPS_PER_MINUTE:
        raise Rejected(429, "rate-limited", "Too many privacy requests from this network; wait.")
    query = select(Unit.id, Unit.device_salt).limit(MAX_UNITS_SEARCHED)
    if body.sitekey:
        query = query.where(Unit.sitekey == body.sitekey)
    async with state.sessions() as session:
        units = (await session.execute(query)).all()
    if body.sitekey and not units:
        raise Rejected(400, "invalid-sitekey", "No verification unit has this site key.")
    env = body.env.model_dump(exclude_none=True)
    key = state.key
    return {
        unit_id: device_id(key, salt, env, client.user_agent, body.fp) for unit_id, salt in units
    }


@router.post("/privacy/device", summary="What is held about this device")
async def device_records(
    body: DeviceRequest, request: Request, client: ClientDep
) -> dict[str, Any]:
    """Every risk event kept for this browser: when, what kind, the outcome, score, reasons,
    features and the truncated network. Raw traces and full addresses are never kept."""
    devices = await _devices(request, body, client)
    await request.app.state.events.flush()
    async with request.app.state.sessions() as session:
        rows = await event_db.device_events(session, devices)
        opted_out = await event_db.is_opted_out(session, devices)
    return {
        "opted_out": opted_out,
        "events": [
            {
                "at": row.created_at.isoformat(timespec="seconds"),
                "kind": row.kind,
                "outcome": row.outcome,
                "score": row.score,
                "reasons": row.reasons,
                "features": row.features,
                "network": row.ip_prefix,
                "labelled": row.label is not None,
            }
            for row in rows
        ],
    }


@router.post("/privacy/device/erase", summary="Erase what is held about this device")
async def erase_device(body: DeviceRequest, request: Request, client: ClientDep) -> dict[str, int]:
    devices = await _devices(request, body, client)
    await request.app.state.events.flush()
    async with request.app.state.sessions() as session:
        erased = await event_db.erase_device(session, devices)
    return {"erased": erased}


def _one_site(body: DeviceRequest) -> None:
    if not body.sitekey:
        raise Rejected(
            400,
            "sitekey-required",
            "Open this page from the HumanGate link in a site's widget: an opt-out is per site.",
        )


@router.post("/privacy/device/opt-out", summary="Keep no records of this device on this site")
async def opt_out(body: DeviceRequest, request: Request, client: ClientDep) -> dict[str, Any]:
    """From now on no risk event is kept for this browser on this site, and the ones held are
    erased. Verification works as before; only its record goes. Needs the site key: device ids
    differ per site. A browser whose facts change (an update, another screen) gets a new device
    id, which is recorded again until it opts out too."""
    _one_site(body)
    devices = await _devices(request, body, client)
    await request.app.state.events.flush()
    async with request.app.state.sessions() as session:
        erased = await event_db.opt_out(session, devices, datetime.now(UTC))
    return {"opted_out": True, "erased": erased}


@router.post("/privacy/device/opt-in", summary="Keep records of this device on this site again")
async def opt_in(body: DeviceRequest, request: Request, client: ClientDep) -> dict[str, Any]:
    _one_site(body)
    devices = await _devices(request, body, client)
    async with request.app.state.sessions() as session:
        await event_db.opt_in(session, devices)
    return {"opted_out": False}
