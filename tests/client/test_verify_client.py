"""The verification API's clients against a real peer process that checks their signatures."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from humangate.client import AsyncVerifyClient, NumberCheck, VerifyClient, VerifyError
from tests._services import _Watchdog
from tests.client._sockets import closed_port_url, silent_peer
from tests.client._verify_peer import APP_KEY, APP_SECRET, CODE, PREFIX_LIMITED

ROOT = Path(__file__).resolve().parents[2]
BASE = "/api/v1/verify"
VE = "VE" + "0" * 32


@dataclass
class Peer:
    url: str
    log: Path

    def seen(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def last(self) -> dict[str, Any]:
        return self.seen()[-1]


@pytest.fixture(scope="module")
def peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Peer]:
    log = tmp_path_factory.mktemp("verify-peer") / "seen.jsonl"
    log.touch()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.client._verify_peer", str(log)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    watchdog = _Watchdog(f"kill -KILL -{process.pid}")
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        yield Peer(url=f"http://127.0.0.1:{port}", log=log)
    finally:
        watchdog.cancel()
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture
def client(peer: Peer) -> Iterator[VerifyClient]:
    with VerifyClient(peer.url, APP_KEY, APP_SECRET) as verify:
        yield verify


def test_start_sends_a_signed_json_body_and_reads_the_answer(
    peer: Peer, client: VerifyClient
) -> None:
    started = client.start("+8613800138000", locale="zh-CN", idempotency_key="order-17")
    seen = peer.last()
    assert seen["refused"] is None
    assert (seen["method"], seen["target"]) == ("POST", BASE + "/verifications")
    assert seen["content_type"] == "application/json"
    assert json.loads(seen["body"]) == {
        "to": "+8613800138000",
        "channel": "sms",
        "locale": "zh-CN",
        "idempotency_key": "order-17",
    }
    assert started.id == VE and started.status == "pending" and started.channel == "sms"
    assert started.to == "+86 138****8000" and started.attempts_left == 5
    assert started.valid is None
    assert started.expires_at == datetime.fromisoformat("2026-12-07T05:10:00+00:00")
    assert started.raw["sends"] == 1


def test_check_fetch_and_cancel_are_signed_over_their_own_targets(
    peer: Peer, client: VerifyClient
) -> None:
    approved = client.check(VE, CODE)
    denied = client.check(VE, "000000")
    fetched = client.fetch(VE)
    canceled = client.cancel(VE)
    seen = peer.seen()[-4:]
    assert [(s["method"], s["target"], s["body"]) for s in seen] == [
        ("POST", f"{BASE}/verifications/{VE}/check", '{"code":"123456"}'),
        ("POST", f"{BASE}/verifications/{VE}/check", '{"code":"000000"}'),
        ("GET", f"{BASE}/verifications/{VE}", ""),
        ("POST", f"{BASE}/verifications/{VE}/cancel", "{}"),
    ]
    assert all(s["refused"] is None for s in seen)
    assert (approved.status, approved.valid, approved.attempts_left) == ("approved", True, 4)
    assert (denied.status, denied.valid) == ("denied", False)
    assert (fetched.status, fetched.valid) == ("pending", None)
    assert canceled.status == "canceled"


def test_an_id_is_escaped_and_the_escaped_target_is_what_is_signed(
    peer: Peer, client: VerifyClient
) -> None:
    client.fetch("VE/../x y")
    seen = peer.last()
    assert seen["target"] == f"{BASE}/verifications/VE%2F..%2Fx%20y"
    assert seen["refused"] is None


def test_a_path_prefix_in_the_base_url_is_signed(peer: Peer) -> None:
    with VerifyClient(peer.url + "/humangate/", APP_KEY, APP_SECRET) as verify:
        verify.fetch(VE)
    seen = peer.last()
    assert seen["target"] == f"/humangate{BASE}/verifications/{VE}"
    assert seen["refused"] is None


def test_verify_number(peer: Peer, client: VerifyClient) -> None:
    good = client.verify_number(
        "+8613800138000", method="cn-one-tap", evidence="good-token", redirect_uri="https://a/b"
    )
    assert json.loads(peer.last()["body"]) == {
        "phone_number": "+8613800138000",
        "method": "cn-one-tap",
        "evidence": "good-token",
        "redirect_uri": "https://a/b",
    }
    bad = client.verify_number("+8613800138000", method="camara", evidence={"code": "x"})
    assert json.loads(peer.last()["body"])["evidence"] == {"code": "x"}
    assert peer.last()["refused"] is None and peer.last()["target"] == BASE + "/number"
    assert good == NumberCheck(verified=True, raw={}) and bad.verified is False


def test_an_error_answer_becomes_a_verify_error(client: VerifyClient) -> None:
    with pytest.raises(VerifyError) as limited:
        client.start(PREFIX_LIMITED)
    assert (limited.value.code, limited.value.status, limited.value.retry_after) == (
        "prefix-limit",
        429,
        42,
    )
    assert limited.value.message == "Too many codes to this number range."
    with pytest.raises(VerifyError) as missing:
        client.fetch("VEmissing")
    assert (missing.value.code, missing.value.status, missing.value.retry_after) == (
        "not-found",
        404,
        None,
    )


@pytest.mark.parametrize(("ident", "status"), [("VEbroken", 502), ("VEgarbage", 200)])
def test_an_answer_that_is_not_the_apis_json_is_invalid(
    client: VerifyClient, ident: str, status: int
) -> None:
    with pytest.raises(VerifyError) as refused:
        client.fetch(ident)
    assert (refused.value.code, refused.value.status) == ("invalid-answer", status)


def test_a_wrong_secret_or_key_is_refused_and_the_secret_never_shown(peer: Peer) -> None:
    with VerifyClient(peer.url, APP_KEY, "hgs_not-the-secret") as wrong:
        with pytest.raises(VerifyError) as refused:
            wrong.fetch(VE)
        assert "not-the-secret" not in repr(wrong) + str(refused.value)
    assert (refused.value.code, refused.value.status) == ("bad-signature", 401)
    with VerifyClient(peer.url, "hga_" + "u" * 24, APP_SECRET) as unknown:
        with pytest.raises(VerifyError) as refused:
            unknown.fetch(VE)
    assert refused.value.code == "unknown-app"
    assert all("not-the-secret" not in line for line in peer.log.read_text().splitlines())


def test_every_request_has_a_fresh_nonce(peer: Peer, client: VerifyClient) -> None:
    before = len(peer.seen())
    for _ in range(5):
        client.fetch(VE)
    assert [s["refused"] for s in peer.seen()[before:]] == [None] * 5


def test_an_unreachable_api_gives_unreachable() -> None:
    with VerifyClient(closed_port_url(), APP_KEY, APP_SECRET) as verify:
        with pytest.raises(VerifyError) as refused:
            verify.start("+8613800138000")
    assert (refused.value.code, refused.value.status, refused.value.retry_after) == (
        "unreachable",
        0,
        None,
    )
    assert "127.0.0.1" not in str(refused.value)


def test_a_peer_that_never_answers_gives_unreachable() -> None:
    with silent_peer() as url, VerifyClient(url, APP_KEY, APP_SECRET, timeout=0.5) as verify:
        with pytest.raises(VerifyError) as refused:
            verify.fetch(VE)
    assert refused.value.code == "unreachable" and refused.value.status == 0


async def test_the_async_client_does_the_same(peer: Peer) -> None:
    async with AsyncVerifyClient(peer.url, APP_KEY, APP_SECRET) as verify:
        started = await verify.start("a@example.com", "email", client_ip="203.0.113.9")
        assert json.loads(peer.last()["body"]) == {
            "to": "a@example.com",
            "channel": "email",
            "client_ip": "203.0.113.9",
        }
        checked = await verify.check(started.id, CODE)
        fetched = await verify.fetch(started.id)
        canceled = await verify.cancel(started.id)
        number = await verify.verify_number("+8613800138000", method="m", evidence="good-token")
        with pytest.raises(VerifyError) as limited:
            await verify.start(PREFIX_LIMITED)
    assert all(s["refused"] is None for s in peer.seen()[-6:])
    assert started.channel == "email" and checked.valid is True
    assert fetched.status == "pending" and canceled.status == "canceled" and number.verified
    assert (limited.value.code, limited.value.status, limited.value.retry_after) == (
        "prefix-limit",
        429,
        42,
    )
    async with AsyncVerifyClient(closed_port_url(), APP_KEY, APP_SECRET) as away:
        with pytest.raises(VerifyError) as refused:
            await away.fetch(VE)
    assert refused.value.code == "unreachable"
