"""Signed requests to the verification API over HTTP (embedded default): every way a request can
fail to prove its app is refused with 401 and its code, and changes nothing."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from starlette.testclient import TestClient

from humangate.app import create_app
from humangate.config import Settings
from humangate.db import verify_apps
from humangate.db.models import Verification
from humangate.messaging.outbox import read_outbox
from humangate.services import open_verify_service
from humangate.verify.apps import AppChanges
from humangate.verify.keys import seal_secret, unseal_secret
from humangate.verify.signing import HEADERS, sign, signature_headers
from tests.app_services import replace_services, services_of
from tests.conftest import ORIGIN
from tests.verify._app import START, SignedClient, make_app, shifted_clock

PHONE = "+8613800138000"
BODY = json.dumps({"to": PHONE, "channel": "sms"}).encode()
NOW = 1_800_000_000


class FrozenClock:
    """A clock that stands still, so a skew of exactly 300 or 301 seconds is what it says."""

    def __init__(self, at: float) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at


@pytest.fixture
def app(client: TestClient) -> SignedClient:
    return make_app(client)


@pytest.fixture
def frozen(client: TestClient, app: SignedClient) -> FrozenClock:
    """The verification service's clock, and the app's, stopped at NOW."""
    services = services_of(client)
    clock = FrozenClock(NOW)
    replace_services(
        client,
        verify=open_verify_service(services, services.directory, services.verifier, clock=clock),
    )
    app.clock = clock
    return clock


def _post(
    client: TestClient, headers: dict[str, str], body: bytes = BODY, target: str = START
) -> Any:
    return client.post(
        target, content=body, headers={**headers, "Content-Type": "application/json"}
    )


def _refused(reply: Any, code: str, status: int = 401) -> None:
    assert (reply.status_code, reply.json()["error"]) == (status, code), reply.text


def _count_verifications(client: TestClient) -> int:
    services = services_of(client)

    async def count() -> int:
        async with services.sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(Verification)) or 0)

    return int(client.portal.call(count))  # type: ignore[union-attr]


def _run(client: TestClient, work: Callable[[], Any]) -> Any:
    return client.portal.call(work)  # type: ignore[union-attr]


def test_a_request_without_its_headers_is_missing_its_signature(
    client: TestClient, app: SignedClient
) -> None:
    _refused(_post(client, {}), "missing-signature")
    full = signature_headers(app.app_key, app.secret, "POST", START, BODY)
    for left_out in HEADERS:
        headers = {name: value for name, value in full.items() if name != left_out}
        _refused(_post(client, headers), "missing-signature")
    _refused(_post(client, {**full, HEADERS[2]: ""}), "missing-signature")
    assert _count_verifications(client) == 0


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("X-HumanGate-App", "app_not-a-key"),
        ("X-HumanGate-App", "hga_" + "a" * 61),
        ("X-HumanGate-Timestamp", "01800000000"),
        ("X-HumanGate-Timestamp", "-5"),
        ("X-HumanGate-Timestamp", "1" * 13),
        ("X-HumanGate-Nonce", "short"),
        ("X-HumanGate-Nonce", "n" * 65),
        ("X-HumanGate-Nonce", "nonce with spaces!!"),
        ("X-HumanGate-Signature", "A" * 64),
        ("X-HumanGate-Signature", "a" * 63),
    ],
)
def test_a_header_out_of_shape_is_malformed(
    client: TestClient, app: SignedClient, header: str, value: str
) -> None:
    headers = signature_headers(app.app_key, app.secret, "POST", START, BODY)
    _refused(_post(client, {**headers, header: value}), "malformed-signature")


def test_an_unknown_app_and_a_wrong_secret_are_refused(
    client: TestClient, app: SignedClient
) -> None:
    stranger = "hga_" + secrets.token_urlsafe(18)
    _refused(
        _post(client, signature_headers(stranger, app.secret, "POST", START, BODY)), "unknown-app"
    )
    wrong = signature_headers(app.app_key, "hgs_" + "w" * 40, "POST", START, BODY)
    _refused(_post(client, wrong), "bad-signature")
    assert _count_verifications(client) == 0


@pytest.mark.parametrize("skew", [-301, 301])
def test_a_timestamp_301_seconds_off_is_stale(
    client: TestClient, app: SignedClient, frozen: FrozenClock, skew: int
) -> None:
    headers = signature_headers(app.app_key, app.secret, "POST", START, BODY, timestamp=NOW + skew)
    _refused(_post(client, headers), "stale-timestamp")
    assert _count_verifications(client) == 0


@pytest.mark.parametrize("skew", [-300, 300])
def test_a_timestamp_300_seconds_off_still_passes(
    client: TestClient, app: SignedClient, frozen: FrozenClock, skew: int
) -> None:
    headers = signature_headers(app.app_key, app.secret, "POST", START, BODY, timestamp=NOW + skew)
    assert _post(client, headers).status_code == 201


def test_the_same_signed_request_twice_is_a_reused_nonce(
    client: TestClient, app: SignedClient, settings: Settings
) -> None:
    headers = signature_headers(app.app_key, app.secret, "POST", START, BODY)
    assert _post(client, headers).status_code == 201
    _refused(_post(client, headers), "nonce-reused")
    assert _count_verifications(client) == 1
    assert len(read_outbox(settings.data_dir)) == 1


# --- one change to a valid request --------------------------------------------------------------

_NONCE = st.text(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", min_size=16, max_size=64
)
_MUTATIONS = st.one_of(
    st.tuples(st.just("method"), st.sampled_from(["GET", "PUT", "PATCH", "DELETE", "post "])),
    st.tuples(
        st.just("path"),
        st.sampled_from(
            [
                START + "/",
                "/api/v1/verify/verification",
                "/api/v1/verify/number",
                "/api/v1/verify/VERIFICATIONS",
                START + "/VE" + "0" * 32 + "/cancel",
            ]
        ),
    ),
    st.tuples(
        st.just("query"),
        st.text("abcdefghijklmnopqrstuvwxyz0123456789=&_-.", min_size=1, max_size=20),
    ),
    st.tuples(
        st.just("body"),
        st.tuples(st.integers(0, len(BODY) - 1), st.integers(1, 255)),
    ),
    st.tuples(st.just("timestamp"), st.integers(-300, 300).filter(bool)),
    st.tuples(st.just("nonce"), _NONCE),
    st.tuples(st.just("signature"), st.tuples(st.integers(0, 63), st.integers(1, 15))),
)


def _mutated(app: SignedClient, change: tuple[str, Any]) -> tuple[str, bytes, dict[str, str]]:
    """A valid signed start with one change: the target sent, the body and the headers."""
    what, how = change
    nonce = secrets.token_urlsafe(18)
    timestamp = NOW
    target, body = START, BODY
    headers = signature_headers(
        app.app_key, app.secret, "POST", START, BODY, timestamp=NOW, nonce=nonce
    )
    if what == "method":  # signed as another method, sent as POST
        headers["X-HumanGate-Signature"] = sign(app.secret, how, START, timestamp, nonce, BODY)
    elif what == "path":  # signed for another path, sent to the start
        headers["X-HumanGate-Signature"] = sign(app.secret, "POST", how, timestamp, nonce, BODY)
    elif what == "query":  # a query string added on the way
        target = f"{START}?{how}"
    elif what == "body":
        index, delta = how
        changed = bytearray(BODY)
        changed[index] = (changed[index] + delta) % 256
        body = bytes(changed)
    elif what == "timestamp":
        headers["X-HumanGate-Timestamp"] = str(timestamp + how)
    elif what == "nonce":
        if how == nonce:
            how = how[::-1] + "x" if how[::-1] == nonce else how[::-1]
        headers["X-HumanGate-Nonce"] = how
    else:
        index, delta = how
        signature = headers["X-HumanGate-Signature"]
        flipped = format((int(signature[index], 16) + delta) % 16, "x")
        headers["X-HumanGate-Signature"] = signature[:index] + flipped + signature[index + 1 :]
    return target, body, headers


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(change=_MUTATIONS)
def test_any_one_change_to_a_signed_start_is_refused_and_sends_nothing(
    client: TestClient,
    app: SignedClient,
    frozen: FrozenClock,
    settings: Settings,
    change: tuple[str, Any],
) -> None:
    target, body, headers = _mutated(app, change)
    reply = _post(client, headers, body, target)
    # Even a body that no longer parses as JSON is refused for its signature, before parsing.
    assert reply.status_code == 401, (change, reply.text)
    assert reply.json()["error"] in ("bad-signature", "nonce-reused"), (change, reply.text)
    assert _count_verifications(client) == 0
    assert read_outbox(settings.data_dir) == []


def test_a_body_that_is_not_json_is_refused_as_unsigned(client: TestClient) -> None:
    _refused(
        client.post(START, content=b"{", headers={"Content-Type": "application/json"}),
        "missing-signature",
    )


def test_the_unmutated_request_passes(
    client: TestClient, app: SignedClient, frozen: FrozenClock
) -> None:
    """The control for the property above: without a change the same request is accepted."""
    nonce = secrets.token_urlsafe(18)
    headers = signature_headers(
        app.app_key, app.secret, "POST", START, BODY, timestamp=NOW, nonce=nonce
    )
    assert _post(client, headers).status_code == 201


# --- secrets: rotation, the server key, a disabled app ----------------------------------------


def _rotate(client: TestClient, app: SignedClient, grace_hours: float) -> str:
    services = services_of(client)

    async def work() -> str:
        async with services.sessions() as session:
            return await verify_apps.rotate_app_secret(
                session,
                app.app_key,
                server_key=services.key,
                now=datetime.fromtimestamp(app.clock(), UTC),
                grace_hours=grace_hours,
            )

    return str(_run(client, work))


def _as(app: SignedClient, secret: str) -> SignedClient:
    return SignedClient(app.client, app.app_key, secret, app.clock)


def test_a_rotated_secret_overlaps_then_stops(client: TestClient, app: SignedClient) -> None:
    clock = shifted_clock(client, app)
    new = _as(app, _rotate(client, app, grace_hours=1))
    assert app.start(PHONE).status_code == 201
    assert new.fetch(app.start("+8613900139000").json()["id"]).status_code == 200
    clock.offset += 3601
    _refused(app.start("+8613700137000"), "bad-signature")
    assert new.start("+8613700137000").status_code == 201


def test_a_rotation_without_overlap_stops_the_old_secret_at_once(
    client: TestClient, app: SignedClient
) -> None:
    new = _as(app, _rotate(client, app, grace_hours=0))
    _refused(app.start(PHONE), "bad-signature")
    assert new.start(PHONE).status_code == 201


def test_a_secret_sealed_under_another_server_key_does_not_open(
    client: TestClient, app: SignedClient, make_settings: Callable[..., Settings]
) -> None:
    sealed = seal_secret(services_of(client).key, app.app_key, app.secret)
    assert unseal_secret(services_of(client).key, app.app_key, sealed) == app.secret
    assert unseal_secret(b"another server key" * 2, app.app_key, sealed) is None
    assert unseal_secret(services_of(client).key, "hga_" + "x" * 24, sealed) is None
    # The same database served with another secret key: the app is there, its secret is not.
    other_settings = make_settings(secret_key="test-" + "o" * 40)
    with TestClient(create_app(other_settings), headers={"Origin": ORIGIN}) as other:
        _refused(SignedClient(other, app.app_key, app.secret).start(PHONE), "bad-signature")
    assert app.start(PHONE).status_code == 201


def test_a_disabled_app_is_forbidden(
    client: TestClient, app: SignedClient, settings: Settings
) -> None:
    services = services_of(client)

    async def disable() -> None:
        async with services.sessions() as session:
            await verify_apps.update_app(session, app.app_key, AppChanges(disabled=True))

    _run(client, disable)
    _refused(app.start(PHONE), "app-disabled", 403)
    _refused(app.fetch("VE" + "0" * 32), "app-disabled", 403)
    assert _count_verifications(client) == 0
    assert read_outbox(settings.data_dir) == []
