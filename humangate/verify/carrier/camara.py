"""GSMA Open Gateway / CAMARA Number Verification: the device proves its number to the network.

The contract (camaraproject/NumberVerification, `number-verification` OpenAPI, with the CAMARA
Security and Interoperability Profile for the OIDC part):

1. The app sends the device's browser (on mobile data, not Wi-Fi) to the operator's authorize
   endpoint (`authorization_url`): OIDC authorization code flow, `prompt=none`, scope
   `openid dpv:FraudPreventionAndDetection#number-verification-verify-read`. The network
   recognises the SIM and redirects to `redirect_uri?code=...&state=...` without user
   interaction.
2. The app hands the code to its backend, which calls `verify`: the code is exchanged at the
   token endpoint (`grant_type=authorization_code`, client authentication
   `client_secret_basic`), then `POST {api}/number-verification/v0/verify` with the bearer
   access token and `{"hashedPhoneNumber": sha256 hex of the E.164 number with its plus}` (or
   `{"phoneNumber": ...}`), and the answer's boolean `devicePhoneNumberVerified` is the verdict.

Limits: the authorize step only works on the operator's mobile network (or with a TS.43 token,
a CIBA flow this module does not implement); each access token is single use, so one code
verifies one number once. Operators at API version v2 use the path `.../v2/verify` and may
want the scope `openid number-verification:verify`: both are `CamaraConfig` fields.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx

from humangate.errors import ConfigError, InvalidInput
from humangate.verify.carrier._transport import json_object, send, unavailable
from humangate.verify.carrier.base import DEFAULT_TIMEOUT, NumberClaim, NumberVerdict

SCOPE = "openid dpv:FraudPreventionAndDetection#number-verification-verify-read"
_OPERATOR = "CAMARA operator"


def hash_phone_number(phone_number: str) -> str:
    """`hashedPhoneNumber`: lowercase hex SHA-256 of the E.164 number, plus sign included."""
    return hashlib.sha256(phone_number.encode("ascii")).hexdigest()


@dataclass(frozen=True, slots=True)
class CamaraConfig:
    """One operator's (or aggregator's) CAMARA endpoints and HumanGate's client there.

    `api_base_url` is the API root, without `/number-verification/...`. `hashed`: send the
    number as `hashedPhoneNumber` (the default; the operator never sees a number it does not
    already know) or as plain `phoneNumber`. `operator` is put in verdicts as `carrier`.

    Raises:
        ConfigError: a URL is not http(s) with a host, or the client id or secret is empty.
    """

    authorize_url: str
    token_url: str
    api_base_url: str
    client_id: str
    client_secret: str = field(repr=False)
    timeout: float = DEFAULT_TIMEOUT
    hashed: bool = True
    scope: str = SCOPE
    api_version: str = "v0"
    operator: str | None = None

    def __post_init__(self) -> None:
        _check_url(self.authorize_url, "HUMANGATE_CAMARA_AUTHORIZE_URL")
        _check_url(self.token_url, "HUMANGATE_CAMARA_TOKEN_URL")
        _check_url(self.api_base_url, "HUMANGATE_CAMARA_API_URL")
        if not self.client_id or not self.client_secret:
            raise ConfigError("HUMANGATE_CAMARA_CLIENT_ID and _CLIENT_SECRET must both be set.")
        if not self.timeout > 0:
            raise ConfigError("The CAMARA timeout must be a positive number of seconds.")

    @property
    def verify_url(self) -> str:
        return f"{self.api_base_url.rstrip('/')}/number-verification/{self.api_version}/verify"


def _check_url(value: str, setting: str) -> None:
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL:
        raise ConfigError(f"{setting} is not a valid URL.") from None
    if url.scheme not in {"http", "https"} or not url.host:
        raise ConfigError(f"{setting} must be an http:// or https:// URL with a host.")


class CamaraVerifier:
    """Number verification through one CAMARA operator; see the module docstring for the flow.

    Without an injected `client`, each call gets a short-lived `httpx.AsyncClient`.
    """

    name = "camara"

    def __init__(self, config: CamaraConfig, *, client: httpx.AsyncClient | None = None) -> None:
        self._config = config
        self._client = client

    def __repr__(self) -> str:
        return f"CamaraVerifier({httpx.URL(self._config.token_url).host})"

    def authorization_url(
        self, state: str, nonce: str, redirect_uri: str, login_hint: str | None = None
    ) -> str:
        """Where the device's browser goes first: the OIDC authorization request.

        Args:
            state: an unguessable value the app checks when the redirect comes back.
            nonce: the OIDC nonce, bound to the ID token the operator may issue.
            redirect_uri: the app's registered redirect URI; `verify` needs it again.
            login_hint: optional, as CAMARA allows it (`tel:+8613800138000`, `ipport:...`).
        """
        params = {
            "response_type": "code",
            "client_id": self._config.client_id,
            "redirect_uri": redirect_uri,
            "scope": self._config.scope,
            "state": state,
            "nonce": nonce,
            "prompt": "none",
        }
        if login_hint:
            params["login_hint"] = login_hint
        separator = "&" if "?" in self._config.authorize_url else "?"
        return f"{self._config.authorize_url}{separator}{urlencode(params)}"

    async def verify(self, claim: NumberClaim) -> NumberVerdict:
        """Exchange the claim's code for an access token, then ask whether the number matches.

        Raises:
            InvalidInput: the claim has no `redirect_uri` (code `missing-redirect-uri`).
            UpstreamUnavailable: the operator failed, timed out, or refused HumanGate's client
                credentials (code `operator-unavailable`).
        """
        if not claim.redirect_uri:
            raise InvalidInput(
                "CAMARA verification needs the redirect_uri of the authorization request.",
                code="missing-redirect-uri",
            )
        token = await self._exchange(claim.evidence, claim.redirect_uri)
        if token is None:
            return self._verdict(False, "invalid-evidence")
        return await self._check(token, claim.phone_number)

    def _verdict(self, verified: bool, reason: str) -> NumberVerdict:
        return NumberVerdict(verified=verified, carrier=self._config.operator, reason=reason)

    async def _exchange(self, code: str, redirect_uri: str) -> str | None:
        config = self._config
        response = await send(
            self._client,
            _OPERATOR,
            config.timeout,
            method="POST",
            url=config.token_url,
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
            auth=httpx.BasicAuth(config.client_id, config.client_secret),
            headers={"Accept": "application/json"},
        )
        if response.status_code == 400:
            # RFC 6749 5.2: invalid_grant is a code that is wrong, expired, used or bound to
            # another redirect URI: the device's evidence, not our fault.
            error = json_object(response, _OPERATOR).get("error")
            if error == "invalid_grant":
                return None
            raise unavailable(_OPERATOR, "token endpoint refused the request (HTTP 400)")
        if response.status_code in {401, 403}:
            raise unavailable(_OPERATOR, "token endpoint refused HumanGate's client credentials")
        if response.status_code != 200:
            raise unavailable(_OPERATOR, f"token endpoint failed (HTTP {response.status_code})")
        token = json_object(response, _OPERATOR).get("access_token")
        if not isinstance(token, str) or not token:
            raise unavailable(_OPERATOR, "token endpoint answered without an access token")
        return token

    async def _check(self, token: str, phone_number: str) -> NumberVerdict:
        body: dict[str, Any]
        if self._config.hashed:
            body = {"hashedPhoneNumber": hash_phone_number(phone_number)}
        else:
            body = {"phoneNumber": phone_number}
        response = await send(
            self._client,
            _OPERATOR,
            self._config.timeout,
            method="POST",
            url=self._config.verify_url,
            json=body,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )
        if response.status_code in {401, 403}:
            # A token just issued yet refused: the authentication was not by mobile network
            # (NUMBER_VERIFICATION.USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK) or already spent.
            return self._verdict(False, "invalid-evidence")
        if response.status_code != 200:
            raise unavailable(_OPERATOR, f"verify endpoint failed (HTTP {response.status_code})")
        verified = json_object(response, _OPERATOR).get("devicePhoneNumberVerified")
        if not isinstance(verified, bool):
            raise unavailable(_OPERATOR, "verify endpoint answered without a boolean verdict")
        return self._verdict(verified, "match" if verified else "mismatch")
