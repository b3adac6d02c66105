"""Payments (humangate/billing/payments.py, humangate/api/billing.py): Stripe's webhook signature
checked as Stripe documents it (hypothesis: any changed byte, timestamp or secret refuses),
webhook events signed here credit a paid Checkout Session once per event and once per session
on SQLite and PostgreSQL, and a session is created against a local process standing in for
Stripe's API."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from humangate.app import create_app
from humangate.billing import ledger
from humangate.billing.payments import (
    StripeCheckout,
    credit_event,
    payment_provider,
    stripe_signature,
    verify_stripe_signature,
)
from humangate.config import Settings
from humangate.db.models import PaymentEvent
from humangate.errors import InvalidInput, UpstreamUnavailable
from tests.billing._db import NOW, db_url, make_owner, sessions

__all__ = ["db_url", "sessions"]
SECRET = "whsec_test_" + "s" * 32
HOOK = "/billing/stripe/webhook"
T0 = 1_800_000_000


def sign(body: bytes, *, secret: str = SECRET, at: int | None = None) -> dict[str, str]:
    stamp = int(time.time()) if at is None else at
    return {
        "Stripe-Signature": f"t={stamp},v1={stripe_signature(secret, stamp, body)}",
        "Content-Type": "application/json",
    }


def completed(
    event_id: str, session_id: str, account_id: int | str | None, amount: int = 5_000, **extra: Any
) -> bytes:
    kind = extra.pop("type", "checkout.session.completed")
    session = {
        "id": session_id,
        "object": "checkout.session",
        "amount_total": amount,
        "currency": "cny",
        "client_reference_id": None if account_id is None else str(account_id),
        "payment_status": "paid",
        **extra,
    }
    event = {
        "id": event_id,
        "type": kind,
        "data": {"object": session},
    }
    return json.dumps(event).encode()


# --- the signature, pure -------------------------------------------------------------------


def test_a_header_as_stripe_sends_it_is_accepted() -> None:
    body = b'{"id":"evt_1","type":"ping"}'
    good = stripe_signature(SECRET, T0, body)
    other = stripe_signature("whsec_old", T0, body)
    assert verify_stripe_signature(body, f"t={T0},v1={good}", SECRET, now=T0)
    # A rolled secret: two v1 signatures, and a v0 that is ignored, in any order, with spaces.
    header = f"t={T0}, v1={other}, v1={good}, v0=deadbeef"
    assert verify_stripe_signature(body, header, SECRET, now=T0 + 300)
    assert verify_stripe_signature(body, header, SECRET, now=T0 - 300)
    assert not verify_stripe_signature(body, header, SECRET, now=T0 + 301)
    assert not verify_stripe_signature(body, header, SECRET, now=T0 - 301)
    for bad in (
        None,
        "",
        f"v1={good}",
        f"t={T0}",
        f"t={T0},v0={good}",
        f"t={T0},t={T0},v1={good}",
        f"t=-{T0},v1={good}",
        f"t={T0}.0,v1={good}",
        f"t={T0},v1={good.upper()}",
        f"t={T0},v1={good}\u00e9",
    ):
        assert not verify_stripe_signature(body, bad, SECRET, now=T0), bad
    assert not verify_stripe_signature(body, f"t={T0},v1={good}", "", now=T0)


@given(
    body=st.binary(max_size=200),
    index=st.integers(min_value=0),
    flip=st.integers(1, 255),
    shift=st.integers(-(10**6), 10**6).filter(bool),
    secret=st.text(min_size=1, max_size=40),
)
def test_any_changed_byte_timestamp_or_secret_is_refused(
    body: bytes, index: int, flip: int, shift: int, secret: str
) -> None:
    header = f"t={T0},v1={stripe_signature(SECRET, T0, body)}"
    assert verify_stripe_signature(body, header, SECRET, now=T0)
    if body:
        changed = bytearray(body)
        changed[index % len(body)] ^= flip
        assert not verify_stripe_signature(bytes(changed), header, SECRET, now=T0)
    assert not verify_stripe_signature(body + b" ", header, SECRET, now=T0)
    moved = header.replace(f"t={T0}", f"t={T0 + shift}")
    assert not verify_stripe_signature(body, moved, SECRET, now=T0 + shift)
    if secret != SECRET:
        assert not verify_stripe_signature(body, header, secret, now=T0)
    # A signature changed in any one hex digit.
    digest = stripe_signature(SECRET, T0, body)
    position = index % len(digest)
    other = "0" if digest[position] != "0" else "1"
    forged = digest[:position] + other + digest[position + 1 :]
    assert not verify_stripe_signature(body, f"t={T0},v1={forged}", SECRET, now=T0)


# --- the webhook, on SQLite and PostgreSQL ---------------------------------------------------


@pytest.fixture
def billing_client(
    make_settings: Callable[..., Settings],
    db_url: str,
    sessions: async_sessionmaker[AsyncSession],
) -> Iterator[TestClient]:
    settings = make_settings(
        database_url=db_url, billing=True, stripe_webhook_secret=SECRET, billing_currency="CNY"
    )
    with TestClient(create_app(settings)) as client:
        yield client


def post(client: TestClient, body: bytes, **signing: Any) -> Any:
    return client.post(HOOK, content=body, headers=sign(body, **signing))


async def _cash(sessions: async_sessionmaker[AsyncSession], owner: int) -> int:
    async with sessions() as session:
        return (await ledger.balance(session, owner, now=NOW)).cash


async def test_a_paid_session_is_credited_once(
    billing_client: TestClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    owner = await make_owner(sessions)
    body = completed("evt_1", "cs_1", owner)
    first = post(billing_client, body)
    assert first.status_code == 200 and first.json()["outcome"] == "credited"
    assert post(billing_client, body).json()["outcome"] == "duplicate"  # redelivered
    # Another event about the same session (a delayed method's success) credits nothing.
    again = completed("evt_2", "cs_1", owner, type="checkout.session.async_payment_succeeded")
    assert post(billing_client, again).json()["outcome"] == "duplicate"
    assert await _cash(sessions, owner) == 5_000
    # A second session is a second top-up.
    assert post(billing_client, completed("evt_3", "cs_2", owner, 700)).json() == {
        "received": True,
        "outcome": "credited",
    }
    assert await _cash(sessions, owner) == 5_700
    async with sessions() as session:
        events = list(await session.scalars(select(PaymentEvent).order_by(PaymentEvent.id)))
    assert [(e.event_id, e.status, e.amount, e.currency) for e in events] == [
        ("evt_1", "credited", 5_000, "CNY"),
        ("evt_2", "duplicate", 5_000, "CNY"),
        ("evt_3", "credited", 700, "CNY"),
    ]


async def test_events_it_does_not_credit_are_answered_200(
    billing_client: TestClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    owner = await make_owner(sessions)
    cases = {
        "ignored": [
            json.dumps({"id": "evt_a", "type": "payment_intent.created", "data": {}}).encode(),
            json.dumps({"id": "evt_b", "type": "checkout.session.completed"}).encode(),
            completed("evt_c", "cs_c", owner, amount=0),
            completed("evt_d", "cs_d", owner, amount="100"),  # type: ignore[arg-type]
            completed("evt_e", 42, owner),  # type: ignore[arg-type]
        ],
        "unpaid": [completed("evt_f", "cs_f", owner, payment_status="unpaid")],
        "wrong-currency": [completed("evt_g", "cs_g", owner, currency="usd")],
        "unknown-account": [
            completed("evt_h", "cs_h", None),
            completed("evt_i", "cs_i", 999_999),
            completed("evt_j", "cs_j", "#1"),
            completed("evt_k", "cs_k", "9" * 40),
        ],
    }
    for outcome, bodies in cases.items():
        for body in bodies:
            answer = post(billing_client, body)
            assert answer.status_code == 200, answer.text
            assert answer.json()["outcome"] == outcome, body
    assert await _cash(sessions, owner) == 0


async def test_bad_signatures_and_bodies_get_400_and_credit_nothing(
    billing_client: TestClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    owner = await make_owner(sessions)
    body = completed("evt_x", "cs_x", owner)
    stale = int(time.time()) - 301
    answers = [
        billing_client.post(HOOK, content=body),
        billing_client.post(HOOK, content=body, headers={"Stripe-Signature": "garbage"}),
        post(billing_client, body, secret="whsec_other"),
        post(billing_client, body, at=stale),
        billing_client.post(HOOK, content=body + b" ", headers=sign(body)),
    ]
    for answer in answers:
        assert answer.status_code == 400 and answer.json()["error"] == "bad-signature"
        assert SECRET not in answer.text
    for junk in (b"", b"not json", b"[1, 2]", b'{"id": 1, "type": "x"}', b"\xff\xfe", b"[" * 5000):
        answer = post(billing_client, junk)
        assert answer.status_code == 400 and answer.json()["error"] == "bad-request", junk
    assert await _cash(sessions, owner) == 0


def test_the_route_exists_only_with_billing_on_and_a_secret(
    make_settings: Callable[..., Settings],
) -> None:
    body = b'{"id": "evt_1", "type": "ping"}'
    with TestClient(create_app(make_settings(stripe_webhook_secret=SECRET))) as off:
        assert post(off, body).status_code == 404
    with TestClient(create_app(make_settings(billing=True))) as unset:
        answer = post(unset, body)
        assert answer.status_code == 403 and answer.json()["error"] == "payments-not-configured"


# --- creating a Checkout Session, against a local stand-in for Stripe's API -----------------


@pytest.fixture
def fake_stripe(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    log = tmp_path / "stripe-requests.jsonl"
    log.touch()
    script = Path(__file__).with_name("_fake_stripe.py")
    process = subprocess.Popen(
        [sys.executable, str(script), str(log)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        yield f"http://127.0.0.1:{port}", log
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def _requests(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


async def test_a_checkout_session_is_created_as_stripe_expects(
    fake_stripe: tuple[str, Path],
) -> None:
    url, log = fake_stripe
    stripe = StripeCheckout(api_url=url + "/", secret_key="sk_test_abc", webhook_secret=SECRET)
    made = await stripe.create_checkout(
        account_id=42,
        amount=5_000,
        currency="CNY",
        success_url="https://hg.example/console/billing?paid=1",
        cancel_url="https://hg.example/console/billing",
        request_id="req-000001",
    )
    assert made.id == "cs_test_0001" and made.url.endswith("/cs_test_0001")
    [request] = _requests(log)
    assert request["path"] == "/v1/checkout/sessions"
    assert request["authorization"] == "Bearer sk_test_abc"
    assert request["idempotency_key"] == "humangate-top-up-req-000001"
    assert request["content_type"] == "application/x-www-form-urlencoded"
    assert request["form"] == {
        "mode": "payment",
        "client_reference_id": "42",
        "success_url": "https://hg.example/console/billing?paid=1",
        "cancel_url": "https://hg.example/console/billing",
        "line_items[0][quantity]": "1",
        "line_items[0][price_data][currency]": "cny",
        "line_items[0][price_data][unit_amount]": "5000",
        "line_items[0][price_data][product_data][name]": "HumanGate balance top-up",
        "metadata[account_id]": "42",
        "metadata[purpose]": "top-up",
    }


async def test_a_refusing_or_absent_provider_is_unavailable_without_secrets(
    fake_stripe: tuple[str, Path],
) -> None:
    url, _ = fake_stripe
    refusing = StripeCheckout(api_url=url, secret_key="sk_test_abc", webhook_secret=SECRET)
    fields: dict[str, Any] = {
        "account_id": 1,
        "currency": "CNY",
        "success_url": "https://hg.example/ok",
        "cancel_url": "https://hg.example/no",
        "request_id": "req-000002",
    }
    with pytest.raises(UpstreamUnavailable) as declined:
        await refusing.create_checkout(amount=13, **fields)
    assert declined.value.code == "payment-provider-unavailable"
    assert "sk_test_abc" not in str(declined.value) and "declined" not in str(declined.value)
    closed = StripeCheckout(
        api_url="http://127.0.0.1:9", secret_key="sk_test_abc", webhook_secret=SECRET
    )
    with pytest.raises(UpstreamUnavailable):
        await closed.create_checkout(amount=100, **fields)
    for amount in (0, -1, 10**13):
        with pytest.raises(InvalidInput):
            await refusing.create_checkout(amount=amount, **fields)


async def test_concurrent_deliveries_credit_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    owner = await make_owner(sessions)
    # No billing account yet: the first uses race to open it (and the default plan) too.
    # The same event five times, and five other events about the same session, all at once.
    events = [json.loads(completed("evt_same", "cs_race", owner, 900))] * 5 + [
        json.loads(completed(f"evt_{n}", "cs_race", owner, 900)) for n in range(5)
    ]

    async def deliver(event: dict[str, Any]) -> str:
        async with sessions() as session:
            return await credit_event(session, event, currency="CNY", now=NOW)

    outcomes = await asyncio.gather(*(deliver(event) for event in events))
    # Every delivery gets an answer (no error, so no 5xx), and one of them credits.
    assert sorted(outcomes) == ["credited"] + ["duplicate"] * 9, outcomes
    assert await _cash(sessions, owner) == 900


def test_stripe_is_the_provider_only_with_a_secret_key_and_a_public_url(
    make_settings: Callable[..., Settings],
) -> None:
    assert payment_provider(make_settings()) is None
    keys = {"stripe_secret_key": "sk_test_abc", "stripe_webhook_secret": SECRET}
    # Return addresses come from the public URL only, never from a request's Host header.
    assert payment_provider(make_settings(**keys)) is None
    provider = payment_provider(make_settings(public_url="https://hg.example", **keys))
    assert isinstance(provider, StripeCheckout) and provider.name == "stripe"
    assert provider.webhook_secret == SECRET and "sk_test_abc" not in repr(provider)
