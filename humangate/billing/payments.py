"""Top-ups paid through a payment provider: a `PaymentProvider` interface and Stripe Checkout,
its one implementation (docs/billing.md, "Top-ups, vouchers and payments").

An owner's top-up opens a Checkout Session (`create_checkout`): Stripe's hosted page takes the
payment and then calls the webhook (`POST /billing/stripe/webhook`, humangate/api/billing.py).
The webhook's `Stripe-Signature` header is checked exactly as Stripe documents it
(`verify_stripe_signature`), and a paid `checkout.session.completed` credits the owner's cash
once per event id (a `PaymentEvent` row, unique per provider) and once per session (the ledger
reference `stripe:<session id>`), however often and concurrently Stripe delivers it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

import httpx
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from humangate.billing import ledger
from humangate.billing.plans import MAX_AMOUNT, open_billing_account
from humangate.config import Settings
from humangate.db.models import Account, PaymentEvent
from humangate.errors import InvalidInput, UpstreamUnavailable
from humangate.text import is_ascii_digits

log = logging.getLogger(__name__)

STRIPE = "stripe"
SIGNATURE_TOLERANCE = 300  # seconds either side of the signed timestamp, Stripe's default
PROVIDER_UNAVAILABLE = "payment-provider-unavailable"
BAD_SIGNATURE = "bad-signature"
_CREDITED_TYPES = frozenset(
    {"checkout.session.completed", "checkout.session.async_payment_succeeded"}
)
_MAX_HEADER = 4096
WebhookOutcome = Literal[
    "credited", "duplicate", "ignored", "unknown-account", "wrong-currency", "unpaid"
]


@dataclass(frozen=True, slots=True)
class CheckoutSession:
    """A provider's payment page for one top-up: its id, and where to send the owner."""

    id: str
    url: str


class PaymentProvider(Protocol):
    """A way for owners to pay top-ups; the money arrives through the provider's webhook."""

    name: str

    async def create_checkout(
        self,
        *,
        account_id: int,
        amount: int,
        currency: str,
        success_url: str,
        cancel_url: str,
        request_id: str,
    ) -> CheckoutSession:
        """Open a payment page for `amount` minor units of `currency`, paid to `account_id`.

        Raises:
            InvalidInput: a bad amount or currency.
            UpstreamUnavailable: the provider failed or did not answer in time.
        """
        ...


def stripe_signature(secret: str, timestamp: int, body: bytes) -> str:
    """The `v1` signature of `body` sent at `timestamp`: HMAC-SHA256 of "{t}.{body}", hex."""
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def verify_stripe_signature(
    body: bytes,
    header: str | None,
    secret: str,
    *,
    now: float,
    tolerance: int = SIGNATURE_TOLERANCE,
) -> bool:
    """Whether `header` (Stripe-Signature: `t=<unix time>,v1=<hex>[,v1=…][,v0=…]`) signs the
    raw `body` with the endpoint's `secret`, within `tolerance` seconds of `now`.

    Every `v1` is tried (Stripe sends two while a rolled secret overlaps the old one), each
    compared in constant time; other schemes are ignored. A missing or repeated `t`, no `v1`,
    an empty secret or a stale timestamp refuse.
    """
    if not secret or not header or len(header) > _MAX_HEADER or not header.isascii():
        return False
    timestamps: list[str] = []
    signatures: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            timestamps.append(value)
        elif key == "v1":
            signatures.append(value)
    if len(timestamps) != 1 or not signatures:
        return False
    stamp = timestamps[0]
    if not stamp.isdigit() or len(stamp) > 12:
        return False
    timestamp = int(stamp)
    if abs(now - timestamp) > tolerance:
        return False
    expected = stripe_signature(secret, timestamp, body)
    found = False
    for signature in signatures:
        found |= hmac.compare_digest(expected, signature)
    return found


def check_top_up(amount: int, currency: str) -> None:
    if not ledger.is_minor_units(amount):
        raise InvalidInput(
            f"A top-up is 1 to {MAX_AMOUNT} minor units.",
            code="bad-amount",
            params={"max": MAX_AMOUNT},
        )
    if not (len(currency) == 3 and currency.isascii() and currency.isalpha()):
        raise InvalidInput("A currency is a three-letter ISO 4217 code.", code="bad-currency")


class StripeCheckout:
    """Stripe Checkout through its REST API (form-encoded, the secret key as a bearer token).

    Args:
        api_url: https://api.stripe.com, or a stand-in for tests.
        secret_key: the account's secret key (sk_…); never logged.
        webhook_secret: the webhook endpoint's signing secret (whsec_…).
        client: an HTTP client to reuse; None makes one per call.
        timeout: seconds for the whole call.
    """

    name = STRIPE

    def __init__(
        self,
        *,
        api_url: str,
        secret_key: str,
        webhook_secret: str,
        client: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._api_url = api_url.rstrip("/")
        self._secret_key = secret_key
        self.webhook_secret = webhook_secret
        self._client = client
        self._timeout = timeout

    async def create_checkout(
        self,
        *,
        account_id: int,
        amount: int,
        currency: str,
        success_url: str,
        cancel_url: str,
        request_id: str,
    ) -> CheckoutSession:
        check_top_up(amount, currency)
        form = {
            "mode": "payment",
            "client_reference_id": str(account_id),
            "success_url": success_url,
            "cancel_url": cancel_url,
            "line_items[0][quantity]": "1",
            "line_items[0][price_data][currency]": currency.lower(),
            "line_items[0][price_data][unit_amount]": str(amount),
            "line_items[0][price_data][product_data][name]": "HumanGate balance top-up",
            "metadata[account_id]": str(account_id),
            "metadata[purpose]": "top-up",
        }
        headers = {
            "Authorization": f"Bearer {self._secret_key}",
            # Stripe answers a retried request with the session it made the first time.
            "Idempotency-Key": f"humangate-top-up-{request_id}",
        }
        response = await self._post("/v1/checkout/sessions", form, headers)
        if response.status_code != 200:
            raise _unavailable(f"it answered HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise _unavailable("its answer is not a JSON object")
        session_id, url = data.get("id"), data.get("url")
        if not isinstance(session_id, str) or not isinstance(url, str):
            raise _unavailable("its answer has no session id or URL")
        return CheckoutSession(id=session_id, url=url)

    async def _post(
        self, path: str, form: dict[str, str], headers: dict[str, str]
    ) -> httpx.Response:
        """POST a form; redirects are not followed, so the key goes nowhere else."""
        url = self._api_url + path
        try:
            async with asyncio.timeout(self._timeout):
                if self._client is not None:
                    return await self._client.post(
                        url, data=form, headers=headers, follow_redirects=False
                    )
                async with httpx.AsyncClient(timeout=self._timeout) as client:
                    return await client.post(
                        url, data=form, headers=headers, follow_redirects=False
                    )
        except (TimeoutError, httpx.TimeoutException):
            raise _unavailable("no answer in time") from None
        except httpx.HTTPError as exc:
            raise _unavailable(f"connection failed: {type(exc).__name__}") from None


def payment_provider(settings: Settings) -> StripeCheckout | None:
    """Stripe Checkout when HUMANGATE_STRIPE_SECRET_KEY and HUMANGATE_PUBLIC_URL are set, else
    None (no online top-up). The return addresses Stripe sends the owner to are built from the
    public URL only: a request's Host header is the client's to forge."""
    key = settings.stripe_secret_key.get_secret_value()
    if not key or not settings.public_url:
        return None
    return StripeCheckout(
        api_url=settings.stripe_api_url,
        secret_key=key,
        webhook_secret=settings.stripe_webhook_secret.get_secret_value(),
    )


def _unavailable(what: str) -> UpstreamUnavailable:
    log.warning("payments: Stripe Checkout failed: %s", what)
    return UpstreamUnavailable(
        f"The payment provider is unavailable ({what}).", code=PROVIDER_UNAVAILABLE
    )


def parse_event(body: bytes) -> dict[str, Any]:
    """The event object of a verified webhook body.

    Raises:
        InvalidInput: the body is not a JSON object with a string `id` and `type`.
    """
    try:
        event = json.loads(body)
    except (ValueError, RecursionError):
        event = None
    if (
        not isinstance(event, dict)
        or not isinstance(event.get("id"), str)
        or not isinstance(event.get("type"), str)
    ):
        raise InvalidInput("The body is not a Stripe event.")
    return event


@dataclass(frozen=True, slots=True)
class _Payment:
    session_id: str
    account_id: int | None
    amount: int
    currency: str
    paid: bool


def _payment(event: Mapping[str, Any]) -> _Payment | None:
    """The Checkout Session an event is about, or None when the event is not one to credit."""
    data = event.get("data")
    session = data.get("object") if isinstance(data, dict) else None
    if event.get("type") not in _CREDITED_TYPES or not isinstance(session, dict):
        return None
    session_id, amount = session.get("id"), session.get("amount_total")
    currency, reference = session.get("currency"), session.get("client_reference_id")
    if not isinstance(session_id, str) or not 0 < len(session_id) <= 100:
        return None
    if not ledger.is_minor_units(amount):
        return None
    account_id = None
    if isinstance(reference, str) and is_ascii_digits(reference):
        account_id = int(reference) if len(reference) <= 12 else None
    return _Payment(
        session_id=session_id,
        account_id=account_id,
        amount=amount,
        currency=currency.upper()[:3] if isinstance(currency, str) else "",
        paid=session.get("payment_status") == "paid",
    )


async def credit_event(
    session: AsyncSession, event: Mapping[str, Any], *, currency: str, now: datetime
) -> WebhookOutcome:
    """Credit a paid Checkout Session's amount to the owner it names, once; commits.

    Every event about a session is kept as a `PaymentEvent` (unique per event id), with what
    became of it as its status; the credit's ledger reference is the session id, so a second
    event for the same session (`completed`, then `async_payment_succeeded`) credits nothing.

    Returns:
        What happened: `credited`, `duplicate` (this event, or this session, credited before),
        `ignored` (not a Checkout Session event), `unpaid`, `unknown-account` or
        `wrong-currency` (kept, not credited).
    """
    payment = _payment(event)
    if payment is None:
        return "ignored"
    outcome: WebhookOutcome = "credited"
    if not payment.paid:
        outcome = "unpaid"
    elif payment.currency != currency:
        outcome = "wrong-currency"
    elif payment.account_id is None or await session.get(Account, payment.account_id) is None:
        outcome = "unknown-account"
    if outcome == "credited" and payment.account_id is not None:
        try:
            await open_billing_account(session, payment.account_id, now=now)
        except IntegrityError:  # the account was erased since it was read
            await session.rollback()
            outcome = "unknown-account"
    row = PaymentEvent(
        provider=STRIPE,
        event_id=str(event["id"])[:255],
        account_id=payment.account_id if outcome == "credited" else None,
        amount=payment.amount,
        currency=payment.currency[:3],
        status=outcome,
        created_at=now,
    )
    try:
        session.add(row)
        await session.flush()
        if outcome == "credited" and payment.account_id is not None:
            moved = await ledger.top_up(
                session,
                payment.account_id,
                payment.amount,
                reference=f"stripe:{payment.session_id}"[:120],
                actor=STRIPE,
                now=now,
                memo=f"Stripe Checkout {payment.session_id}"[:500],
            )
            if not moved:
                row.status = outcome = "duplicate"
        await session.commit()
    except IntegrityError:  # this event (or session) written by a delivery running at once
        await session.rollback()
        return "duplicate"
    if outcome not in ("credited", "duplicate"):
        log.warning("payments: a Stripe payment was not credited: %s", outcome)
    return outcome
