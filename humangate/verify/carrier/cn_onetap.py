"""Chinese carriers' one-tap login (本机号码一键登录 / 本机号码校验): the SDK's token, checked.

On the device, the carrier's SDK (China Mobile, China Unicom or China Telecom, or an
aggregator's SDK in front of all three) talks to the carrier over mobile data and returns a
short-lived, single-use token. The app sends the token to its backend, whose `verify` posts it
to the operator's validate endpoint; the operator answers with the device's number, encrypted
for the app, and the backend compares it with the number the user claimed.

The contract modelled here (HumanGate's reading, not a certified client of any carrier):

- Request: `POST {url}`, JSON, with the field names of China Mobile's 号码认证 server API
  (`tokenValidate`): `version` "2.0", `msgid` (a fresh 32-hex id), `systemtime`
  (`yyyyMMddHHmmssSSS`, Beijing time), `strictcheck` "0", `appid`, `token`,
  `encryptionalgorithm` "AES", and `sign`.
- `sign`: lowercase hex HMAC-SHA256 keyed with the app key over appid + msgid + systemtime +
  strictcheck + token + version (see `_cnsign`).
- Answer: HTTP 200 with `resultCode`; "103000" is success, with `inresponseto` (our msgid),
  `msisdn` (AES-128-CBC, key MD5(app key), random IV in front, base64) and, when the operator
  says, `operatorType` "CM", "CU" or "CT". "104201" (token invalid, expired or used) and
  "103113" (token malformed) mean the device's evidence is bad; every other code (103101 bad
  signature, 103119 unknown appid, 103111 clock skew, ...) is a fault on HumanGate's side or the
  operator's.

Limits: China Mobile's own API signs with MD5 or RSA depending on `version`, and returns the
number plain or RSA-encrypted; China Unicom and China Telecom, and aggregators (闪验, 极光,
阿里云号码认证), each have their own field names and ciphers. An operator whose document differs
needs an adapter of its own; this module and its simulator fix one consistent variant. Only
mainland numbers (+86, 11 digits) can be verified this way.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from humangate.errors import ConfigError
from humangate.verify.carrier import _cnsign
from humangate.verify.carrier._transport import json_object, send, unavailable
from humangate.verify.carrier.base import DEFAULT_TIMEOUT, NumberClaim, NumberVerdict

SUCCESS = "103000"
EVIDENCE_REJECTED = frozenset({"104201", "103113"})
CARRIERS = {"CM": "china-mobile", "CU": "china-unicom", "CT": "china-telecom"}
_KNOWN_FAULTS = {
    "103101": "it refused HumanGate's signature (check the app key)",
    "103119": "it does not know HumanGate's appid",
    "103111": "it refused HumanGate's clock",
}
_OPERATOR = "CN one-tap operator"


@dataclass(frozen=True, slots=True)
class CnOneTapConfig:
    """The operator's validate endpoint and the app's credentials there.

    Raises:
        ConfigError: the URL is not http(s) with a host, or the app id or key is empty.
    """

    url: str = field(repr=False)
    app_id: str
    app_key: str = field(repr=False)
    timeout: float = DEFAULT_TIMEOUT

    def __post_init__(self) -> None:
        try:
            url = httpx.URL(self.url)
        except httpx.InvalidURL:
            raise ConfigError("HUMANGATE_CN_ONETAP_URL is not a valid URL.") from None
        if url.scheme not in {"http", "https"} or not url.host:
            raise ConfigError("HUMANGATE_CN_ONETAP_URL must be an http:// or https:// URL.")
        if not self.app_id or not self.app_key:
            raise ConfigError("HUMANGATE_CN_ONETAP_APP_ID and _APP_KEY must both be set.")
        if not self.timeout > 0:
            raise ConfigError("The CN one-tap timeout must be a positive number of seconds.")


def national_number(phone_number: str) -> str | None:
    """The 11-digit mainland number of an E.164 `+86...` number, else None."""
    if phone_number.startswith("+86") and len(phone_number) == 14 and phone_number[3] == "1":
        return phone_number[3:]
    return None


def _normalise(msisdn: str) -> str:
    digits = msisdn.removeprefix("+")
    return digits[2:] if len(digits) == 13 and digits.startswith("86") else digits


class CnOneTapVerifier:
    """Number verification with a Chinese carrier SDK's token; see the module docstring."""

    name = "cn-onetap"

    def __init__(self, config: CnOneTapConfig, *, client: httpx.AsyncClient | None = None) -> None:
        self._config = config
        self._client = client

    def __repr__(self) -> str:
        return f"CnOneTapVerifier({httpx.URL(self._config.url).host}, appid={self._config.app_id})"

    def request_body(self, token: str, *, now: datetime | None = None) -> dict[str, str]:
        """The signed validate request for `token` (public so the contract can be checked)."""
        fields = {
            "version": "2.0",
            "msgid": secrets.token_hex(16),
            "systemtime": _cnsign.systemtime(now or datetime.now(UTC)),
            "strictcheck": "0",
            "appid": self._config.app_id,
            "token": token,
            "encryptionalgorithm": "AES",
        }
        fields["sign"] = _cnsign.sign(self._config.app_key, fields)
        return fields

    async def verify(self, claim: NumberClaim) -> NumberVerdict:
        """Post the SDK token, decrypt the device's number, compare it with the claim.

        Raises:
            UpstreamUnavailable: the operator failed, timed out, refused HumanGate's appid or
                signature, or answered something that does not decrypt with the app key.
        """
        claimed = national_number(claim.phone_number)
        if claimed is None:
            return NumberVerdict(verified=False, carrier=None, reason="unsupported-number")
        body = self.request_body(claim.evidence)
        response = await send(
            self._client,
            _OPERATOR,
            self._config.timeout,
            method="POST",
            url=self._config.url,
            json=body,
            headers={"Accept": "application/json"},
        )
        if response.status_code != 200:
            raise unavailable(_OPERATOR, f"validate failed (HTTP {response.status_code})")
        answer = json_object(response, _OPERATOR)
        code = answer.get("resultCode")
        if code in EVIDENCE_REJECTED:
            return NumberVerdict(verified=False, carrier=None, reason="invalid-evidence")
        if code != SUCCESS:
            known = _KNOWN_FAULTS.get(code) if isinstance(code, str) else None
            raise unavailable(_OPERATOR, known or "it answered an unknown result code")
        if answer.get("inresponseto") != body["msgid"]:
            raise unavailable(_OPERATOR, "its answer is for another request")
        msisdn = answer.get("msisdn")
        number = (
            _cnsign.decrypt_number(self._config.app_key, msisdn)
            if isinstance(msisdn, str)
            else None
        )
        if number is None:
            raise unavailable(_OPERATOR, "its number does not decrypt with the app key")
        operator_type = answer.get("operatorType")
        carrier = CARRIERS.get(operator_type) if isinstance(operator_type, str) else None
        verified = secrets.compare_digest(_normalise(number), claimed)
        return NumberVerdict(
            verified=verified, carrier=carrier, reason="match" if verified else "mismatch"
        )
