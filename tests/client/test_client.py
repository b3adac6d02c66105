"""humangate.client against a real server, and against the failures between a site and it."""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import datetime

import pytest

from humangate.client import AsyncClient, Client, Verification
from tests.client._sockets import (
    answer_losing_proxy,
    closed_port_url,
    gateway_answering,
    silent_peer,
)
from tests.client.conftest import Site


def test_importing_the_client_loads_no_server_framework() -> None:
    code = (
        "import sys, humangate.client\n"
        "heavy = [m for m in ('fastapi', 'starlette', 'sqlalchemy', 'numpy', 'redis', 'PIL')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_a_fresh_token_passes_once_with_its_fields(site: Site) -> None:
    token = site.token(action="signup")
    with Client(site.url, site.secret, sitekey=site.sitekey) as client:
        first = client.verify(token, remote_ip="127.0.0.1", expected_action="signup")
        replay = client.verify(token)
    assert first.success is True and first.unreachable is False
    assert first.error_codes == ()
    assert first.hostname == "localhost" and first.action == "signup"
    assert first.sitekey == site.sitekey
    assert isinstance(first.score, float) and 0.0 <= first.score <= 1.0
    assert isinstance(first.challenge_ts, datetime) and first.challenge_ts.tzinfo is not None
    assert replay == Verification(success=False, error_codes=("timeout-or-duplicate",))


async def test_the_async_client_gives_the_same_verdicts(site: Site) -> None:
    token = site.token()
    async with AsyncClient(site.url, site.secret) as client:
        first = await client.verify(token)
        replay = await client.verify(token)
        forged = await client.verify("forged")
    assert first.success is True and first.hostname == "localhost"
    assert replay.error_codes == ("timeout-or-duplicate",)
    assert forged.success is False and forged.error_codes == ("invalid-input-response",)


def test_a_wrong_action_or_secret_fails_and_is_no_outage(site: Site) -> None:
    with Client(site.url, site.secret) as client:
        wrong_action = client.verify(site.token(action="login"), expected_action="signup")
    with Client(site.url, "not-the-secret", on_unreachable="open") as wrong:
        wrong_secret = wrong.verify(site.token())
    assert wrong_action.error_codes == ("action-mismatch",) and not wrong_action.success
    assert wrong_secret.success is False and wrong_secret.unreachable is False
    assert wrong_secret.error_codes == ("invalid-input-secret",)


def test_an_empty_token_fails_without_asking_even_when_failing_open() -> None:
    with Client(closed_port_url(), "secret", on_unreachable="open") as client:
        for token in ("", None):
            result = client.verify(token)
            assert result.success is False and result.unreachable is False
            assert result.error_codes == ("missing-input-response",)


def test_unreachable_fails_closed_by_default(caplog: pytest.LogCaptureFixture) -> None:
    with Client(closed_port_url(), "secret", retries=1, backoff=0.01) as client:
        result = client.verify("some-token")
    assert result == Verification(
        success=False, error_codes=("service-unavailable",), unreachable=True
    )
    assert any(r.levelno == logging.WARNING and "refusing" in r.message for r in caplog.records)


async def test_failing_open_is_explicit_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    async with AsyncClient(closed_port_url(), "secret", on_unreachable="open", retries=0) as c:
        result = await c.verify("some-token")
    assert result.success is True and result.unreachable is True and result.score is None
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("on_unreachable=open" in r.message for r in warnings)
    with pytest.raises(ValueError):
        Client("http://127.0.0.1", "secret", on_unreachable="maybe")


@pytest.mark.parametrize("status", [502, 503, 500])
def test_a_5xx_is_no_verdict_and_is_retried(status: int) -> None:
    with gateway_answering(status) as (url, seen), Client(url, "s", retries=2, backoff=0) as c:
        result = c.verify("some-token")
    assert result.unreachable is True and result.error_codes == ("service-unavailable",)
    assert len(seen.forms) == 3
    keys = {form["idempotency_key"] for form in seen.forms}
    assert len(keys) == 1 and len(keys.pop()) >= 16


async def test_a_peer_that_never_answers_times_out_closed() -> None:
    with silent_peer() as url:
        async with AsyncClient(url, "s", timeout=0.3, retries=1, backoff=0) as client:
            result = await client.verify("some-token")
    assert result.success is False and result.unreachable is True


def test_an_answer_that_is_no_verdict_fails_closed_even_when_open() -> None:
    with (
        gateway_answering(200, b"<html>a login page</html>") as (url, _),
        Client(url, "s", on_unreachable="open") as client,
    ):
        result = client.verify("some-token")
    assert result.success is False and result.unreachable is False
    assert result.error_codes == ("invalid-answer",)


def test_a_retry_after_a_lost_answer_gets_the_first_verdict(site: Site) -> None:
    token = site.token()
    with (
        answer_losing_proxy(site.url, lose=1) as (url, seen),
        Client(url, site.secret, retries=2, backoff=0) as client,
    ):
        result = client.verify(token)
    assert len(seen.forms) == 2
    assert seen.forms[0]["idempotency_key"] == seen.forms[1]["idempotency_key"]
    # The server spent the token on the lost try; the retry is told it passed, not replayed.
    assert result.success is True and result.unreachable is False
    with Client(site.url, site.secret) as client:
        assert client.verify(token).error_codes == ("timeout-or-duplicate",)


def test_a_given_idempotency_key_repeats_the_verdict(site: Site) -> None:
    token = site.token()
    with Client(site.url, site.secret, retries=0) as client:
        first = client.verify(token, idempotency_key="order-17")
        again = client.verify(token, idempotency_key="order-17")
        other = client.verify(token, idempotency_key="order-18")
    assert first.success is True and again == first
    assert other.error_codes == ("timeout-or-duplicate",)


def test_neither_secret_nor_token_is_logged(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    token = site.token()
    with Client(site.url, site.secret) as client:
        client.verify(token)
        client.verify(token)
    with (
        gateway_answering(503) as (url, _),
        Client(url, site.secret, on_unreachable="open", backoff=0) as client,
    ):
        client.verify(token)
    assert caplog.records
    logged = caplog.text + repr(client)
    assert site.secret not in logged and token not in logged
