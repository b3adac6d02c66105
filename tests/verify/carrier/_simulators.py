"""The operator simulators as real processes, and one harness per kind for the contract suite.

Each harness knows how its device gets evidence (the CAMARA authorize redirect, the CN SDK
token) and how to configure a verifier against a given operator URL.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx

from humangate.verify.carrier import (
    CamaraConfig,
    CamaraVerifier,
    CnOneTapConfig,
    CnOneTapVerifier,
    NumberClaim,
)
from tests._services import _Watchdog
from tests.live import free_port

DEVICE = "+8613800138000"
OTHER = "+8613900139000"
CLIENT_ID = "hg-test-client"
CLIENT_SECRET = "camara-secret-7f3a9c"
APP_ID = "300012345678"
APP_KEY = "cn-app-key-5b2e81"
REDIRECT_URI = "https://app.example/carrier/callback"


@contextmanager
def running_simulator(kind: str, *args: str) -> Iterator[str]:
    """Start `python -m humangate.verify.carrier.simulator` on a free port; yield its URL."""
    port = free_port()
    command = [sys.executable, "-m", "humangate.verify.carrier.simulator"]
    command += ["--kind", kind, "--port", str(port), *args]
    if kind == "camara":
        command += ["--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET]
    else:
        command += ["--app-id", APP_ID, "--app-key", APP_KEY]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    watchdog = _Watchdog(f"kill -KILL {process.pid}")
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, process)
        yield url
    finally:
        watchdog.cancel()
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait()
        if process.stderr is not None:
            process.stderr.close()


def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
            raise RuntimeError(f"the simulator exited with {process.returncode}:\n{stderr}")
        try:
            if httpx.get(f"{url}/_sim/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"the simulator did not answer on {url}")


def closed_url() -> str:
    """A 127.0.0.1 URL nobody listens on: an operator that is down."""
    return f"http://127.0.0.1:{free_port()}"


@dataclass(frozen=True)
class CamaraHarness:
    """The CAMARA path: the device follows the authorize URL; the code is the evidence."""

    url: str
    kind: str = "camara"

    def config(self, base: str | None = None, /, **changes: object) -> CamaraConfig:
        base = base or self.url
        fields: dict[str, object] = {
            "authorize_url": f"{base}/authorize",
            "token_url": f"{base}/token",
            "api_base_url": base,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }
        return CamaraConfig(**{**fields, **changes})  # type: ignore[arg-type]

    def verifier(self, base: str | None = None, /, **changes: object) -> CamaraVerifier:
        return CamaraVerifier(self.config(base, **changes))

    def evidence(self, *, redirect_uri: str = REDIRECT_URI) -> str:
        state = secrets.token_urlsafe(8)
        url = self.verifier().authorization_url(state, secrets.token_urlsafe(8), redirect_uri)
        answer = httpx.get(url)
        assert answer.status_code == 302, answer.text
        query = parse_qs(urlsplit(answer.headers["location"]).query)
        assert query["state"] == [state]
        return query["code"][0]

    def claim(self, number: str, evidence: str) -> NumberClaim:
        return NumberClaim(number, evidence, REDIRECT_URI)


@dataclass(frozen=True)
class CnHarness:
    """The CN one-tap path: the carrier SDK on the device gets a token; it is the evidence."""

    url: str
    kind: str = "cn-onetap"

    def config(self, base: str | None = None, /, **changes: object) -> CnOneTapConfig:
        fields: dict[str, object] = {
            "url": f"{base or self.url}/tokenValidate",
            "app_id": APP_ID,
            "app_key": APP_KEY,
        }
        return CnOneTapConfig(**{**fields, **changes})  # type: ignore[arg-type]

    def verifier(self, base: str | None = None, /, **changes: object) -> CnOneTapVerifier:
        return CnOneTapVerifier(self.config(base, **changes))

    def evidence(self, *, app_id: str = APP_ID) -> str:
        answer = httpx.post(f"{self.url}/_sim/sdk-token", json={"appid": app_id})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["token"])

    def claim(self, number: str, evidence: str) -> NumberClaim:
        return NumberClaim(number, evidence)


Harness = CamaraHarness | CnHarness
