"""Carrier number verification: the operator confirms that a device's SIM has the claimed number.

Two paths: `CamaraVerifier`, the GSMA Open Gateway / CAMARA Number Verification API (OIDC
authorization code from the device, then a server-side check), and `CnOneTapVerifier`, the
Chinese carriers' one-tap login token (本机号码校验). Both implement `NumberVerifier`. Operator
simulators for development: `python -m humangate.verify.carrier.simulator`.
"""

from __future__ import annotations

import httpx

from humangate.verify.carrier.base import (
    DEFAULT_TIMEOUT,
    NumberClaim,
    NumberVerdict,
    NumberVerifier,
)
from humangate.verify.carrier.camara import CamaraConfig, CamaraVerifier
from humangate.verify.carrier.cn_onetap import CnOneTapConfig, CnOneTapVerifier

__all__ = [
    "DEFAULT_TIMEOUT",
    "CamaraConfig",
    "CamaraVerifier",
    "CnOneTapConfig",
    "CnOneTapVerifier",
    "NumberClaim",
    "NumberVerdict",
    "NumberVerifier",
    "verifiers_from_config",
]


def verifiers_from_config(
    camara: CamaraConfig | None,
    cn: CnOneTapConfig | None,
    *,
    client: httpx.AsyncClient | None = None,
) -> dict[str, NumberVerifier]:
    """The configured verifiers by name (`"camara"`, `"cn-onetap"`); none configured: empty.

    Args:
        camara: the CAMARA operator's settings, or None when that path is off.
        cn: the CN one-tap operator's settings, or None when that path is off.
        client: a shared `httpx.AsyncClient` for connection reuse; None: one per call.
    """
    verifiers: dict[str, NumberVerifier] = {}
    if camara is not None:
        verifiers[CamaraVerifier.name] = CamaraVerifier(camara, client=client)
    if cn is not None:
        verifiers[CnOneTapVerifier.name] = CnOneTapVerifier(cn, client=client)
    return verifiers
