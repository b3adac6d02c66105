"""Billing's public endpoint: Stripe's webhook, which credits paid top-ups (humangate/billing/
payments.py, docs/billing.md). Registered only when HUMANGATE_BILLING is on.

The signature is checked over the raw body before anything parses it. Statuses: 200 for every
signed event, credited or not (Stripe would retry anything else, and a retry changes nothing);
400 `bad-signature` for a missing, malformed, stale or wrong signature and `bad-request` for a
signed body that is not an event; 403 `payments-not-configured` when no webhook secret is set.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from humangate.api.deps import ServicesDep
from humangate.api.error_docs import error_responses
from humangate.billing.payments import (
    BAD_SIGNATURE,
    credit_event,
    parse_event,
    verify_stripe_signature,
)
from humangate.errors import AccessDenied, InvalidInput

router = APIRouter(prefix="/billing", tags=["billing"], include_in_schema=False)


@router.post(
    "/stripe/webhook",
    summary="Stripe's webhook: paid Checkout Sessions top up the owner's balance",
    responses=error_responses(400, 403, 413),
)
async def stripe_webhook(request: Request, services: ServicesDep) -> JSONResponse:
    """Credit a paid `checkout.session.completed` once; answer 200 to every signed event."""
    settings = services.settings
    secret = settings.stripe_webhook_secret.get_secret_value()
    if not secret:
        raise AccessDenied(
            "Stripe payments are not configured here.", code="payments-not-configured"
        )
    body = await request.body()
    header = request.headers.get("stripe-signature")
    if not verify_stripe_signature(body, header, secret, now=time.time()):
        raise InvalidInput(
            "The Stripe-Signature header does not sign this body.", code=BAD_SIGNATURE
        )
    event = parse_event(body)
    async with services.sessions() as session:
        outcome = await credit_event(
            session, event, currency=settings.billing_currency, now=datetime.now(UTC)
        )
    return JSONResponse({"received": True, "outcome": outcome})
