"""Clients of the verification API: send one-time codes, check them, verify numbers by carrier.

Every request is signed with the app secret over its method, target and exact body bytes
(humangate/verify/signing.py); the secret itself never leaves the process. There are no
retries: a start that timed out may have sent its code, so a caller that retries passes the
same `idempotency_key`. Any refusal, unreadable answer or network failure raises `VerifyError`.

    with VerifyClient("https://humangate.example", "hga_...", secret) as verify:
        started = verify.start("+8613800138000")
        checked = verify.check(started.id, "123456")
        if checked.valid: ...
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any

import httpx

from humangate.client._verify import (
    NumberCheck,
    OtpVerification,
    Prepared,
    VerifyError,
    number_payload,
    prepare,
    read_number_check,
    read_verification,
    start_payload,
    unreachable,
    verification_path,
)
from humangate.client._verify_async import AsyncVerifyClient

__all__ = ["AsyncVerifyClient", "NumberCheck", "OtpVerification", "VerifyClient", "VerifyError"]


class VerifyClient:
    """The blocking client, for WSGI backends and scripts.

    Args:
        base_url: HumanGate's URL, with any path prefix a proxy keeps (it is signed).
        app_key: the app's key, `hga_...`.
        app_secret: the app's secret; kept in memory, never sent or shown.
        timeout: seconds for each request.
        transport: an httpx transport, for tests or a proxy.
    """

    def __init__(
        self,
        base_url: str,
        app_key: str,
        app_secret: str,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.app_key = app_key
        self._secret = app_secret
        self._http = httpx.Client(timeout=timeout, transport=transport)

    def __repr__(self) -> str:
        return f"VerifyClient({self.base_url!r}, {self.app_key!r})"

    def start(
        self,
        to: str,
        channel: str = "sms",
        *,
        locale: str | None = None,
        humangate_token: str | None = None,
        idempotency_key: str | None = None,
        client_ip: str | None = None,
    ) -> OtpVerification:
        """Send a one-time code to `to` (E.164 number for sms, an address for email)."""
        payload = start_payload(
            to,
            channel,
            locale=locale,
            humangate_token=humangate_token,
            idempotency_key=idempotency_key,
            client_ip=client_ip,
        )
        return read_verification(self._send("POST", "/verifications", payload))

    def check(self, verification_id: str, code: str) -> OtpVerification:
        """Check a code; the answer's `valid` says whether it approved the verification."""
        path = verification_path(verification_id, "/check")
        return read_verification(self._send("POST", path, {"code": code}))

    def fetch(self, verification_id: str) -> OtpVerification:
        """The verification's current state."""
        return read_verification(self._send("GET", verification_path(verification_id), None))

    def cancel(self, verification_id: str) -> OtpVerification:
        """Cancel a pending verification; its code stops working."""
        path = verification_path(verification_id, "/cancel")
        return read_verification(self._send("POST", path, {}))

    def verify_number(
        self,
        phone_number: str,
        *,
        method: str,
        evidence: str | Mapping[str, Any],
        redirect_uri: str | None = None,
    ) -> NumberCheck:
        """Ask the carrier whether the device that produced `evidence` has `phone_number`."""
        payload = number_payload(phone_number, method, evidence, redirect_uri)
        return read_number_check(self._send("POST", "/number", payload))

    def _send(self, method: str, path: str, payload: Mapping[str, object] | None) -> httpx.Response:
        request: Prepared = prepare(
            self.base_url, self.app_key, self._secret, method, path, payload
        )
        try:
            return self._http.request(
                request.method, request.url, content=request.body, headers=request.headers
            )
        except httpx.TransportError as exc:
            raise unreachable(exc) from exc

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> VerifyClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
