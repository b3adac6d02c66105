"""Verify HumanGate pass tokens from a site's backend.

Imports httpx and the standard library only (no FastAPI, SQLAlchemy or NumPy), so a backend
depends on `humangate` and imports just this. Framework helpers live beside it and are
imported by name: `humangate.client.django`, `humangate.client.flask`,
`humangate.client.fastapi`. The verification API's signing clients are `VerifyClient` and
`AsyncVerifyClient` (humangate/client/verify.py).
"""

from humangate.client._async import AsyncClient
from humangate.client._result import RESPONSE_FIELD, SERVICE_UNAVAILABLE, Verification
from humangate.client._sync import Client
from humangate.client.verify import (
    AsyncVerifyClient,
    NumberCheck,
    OtpVerification,
    VerifyClient,
    VerifyError,
)

__all__ = [
    "RESPONSE_FIELD",
    "SERVICE_UNAVAILABLE",
    "AsyncClient",
    "AsyncVerifyClient",
    "Client",
    "NumberCheck",
    "OtpVerification",
    "Verification",
    "VerifyClient",
    "VerifyError",
]
