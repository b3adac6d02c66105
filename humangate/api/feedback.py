"""Owner feedback: label a verified token as legitimate or abusive after the fact.

Labels stay with the unit's risk events and calibrate that unit's threshold; the calibration
is returned with every label and on request, so the owner sees what their labels changed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import ConfigDict, Field

from humangate.api.deps import ServicesDep
from humangate.api.error_docs import error_responses
from humangate.api.response_docs import CALIBRATION, FEEDBACK, json_answer
from humangate.api.signals import ApiModel
from humangate.db import events as event_db
from humangate.errors import AccessDenied, NotFound
from humangate.risk.assess import default_threshold
from humangate.risk.calibration import calibrate
from humangate.risk.fingerprint import model_fingerprint
from humangate.services import Services
from humangate.tokens import token_key
from humangate.units import UnitView

router = APIRouter(prefix="/api/v1", tags=["feedback"])


class OwnerRequest(ApiModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    secret: str = Field(min_length=1, max_length=256)


class FeedbackRequest(OwnerRequest):
    """A label for the token `response`, which must have been issued by this unit."""

    response: str = Field(min_length=1, max_length=4096)
    label: Literal["legitimate", "abusive"]


async def _owner_unit(services: Services, secret: str) -> UnitView:
    """The unit of `secret`, if its owner's edition has calibration (the enterprise edition's,
    when billing is on: 403 `edition-required` otherwise)."""
    unit = await services.directory.by_secret(secret)
    if unit is None:
        raise AccessDenied("The secret key is not valid.", code="invalid-input-secret")
    await services.editions.require(unit.account_id, "calibration")
    return unit


async def _calibration(services: Services, unit: UnitView, *, store: bool) -> dict[str, Any]:
    async with services.sessions() as session:
        labels = await event_db.labelled_scores(session, unit.id)
        base = default_threshold()
        if unit.score_threshold is not None and unit.threshold_model == model_fingerprint():
            base = unit.score_threshold
        result = calibrate(labels, threshold=base)
        if store and result.suggested_threshold != unit.calibrated_threshold:
            await event_db.set_calibrated_threshold(session, unit.id, result.suggested_threshold)
            services.directory.forget()
    return {"base_threshold": base, **result.as_dict()}


@router.post(
    "/feedback",
    summary="Label a verified token (owner, secret-authenticated)",
    responses={
        200: json_answer(FEEDBACK, "The label is kept; the unit's calibration after it"),
        **error_responses(400, 403, 404, 413, 503),
    },
)
async def post_feedback(body: FeedbackRequest, services: ServicesDep) -> dict[str, Any]:
    """Label the answer that minted `response`. Labels are accepted for tokens this unit issued
    within the risk-event retention period, from about a second after the token was minted."""
    unit = await _owner_unit(services, body.secret)
    await services.events.flush()
    async with services.sessions() as session:
        found = await event_db.label_event(
            session, unit.id, token_key(body.response), body.label, now=datetime.now(UTC)
        )
    if not found:
        raise NotFound("This unit issued no token like this one.", code="unknown-token")
    return {"success": True, "calibration": await _calibration(services, unit, store=True)}


@router.post(
    "/calibration",
    summary="The unit's threshold calibration (owner)",
    responses={
        200: json_answer(CALIBRATION, "The unit's calibration"),
        **error_responses(400, 403, 413, 503),
    },
)
async def get_calibration(body: OwnerRequest, services: ServicesDep) -> dict[str, Any]:
    unit = await _owner_unit(services, body.secret)
    return await _calibration(services, unit, store=False)
