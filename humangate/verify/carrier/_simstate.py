"""The operator simulators' state and answers, without HTTP: one class per kind.

Each `handle` takes a method, a path, the headers and the parsed body, and returns a status,
a JSON object and extra headers. `simulator.py` puts them behind a real HTTP server.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from humangate.verify.carrier import _cnsign
from humangate.verify.carrier.camara import hash_phone_number

Answer = tuple[int, dict[str, Any], dict[str, str]]

E164 = re.compile(r"\+[1-9][0-9]{4,14}")
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_SDK_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,512}")
CODE_TTL = 60.0
ACCESS_TOKEN_TTL = 300.0
SDK_TOKEN_TTL = 120.0
CLOCK_SKEW = 300.0
VERIFY_SCOPES = frozenset(
    {
        "dpv:FraudPreventionAndDetection#number-verification-verify-read",
        "number-verification:verify",
    }
)
KNOWN_SCOPES = VERIFY_SCOPES | {
    "openid",
    "dpv:FraudPreventionAndDetection#number-verification-share-read",
    "number-verification:device-phone-number:read",
}
_VERIFY_PATH = re.compile(r"/number-verification/v[0-9][0-9a-z]*/verify")


@dataclass
class Network:
    """What the simulated network knows: the device's SIM number and a settable clock."""

    msisdn: str | None = None
    offset: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def now(self) -> float:
        return time.time() + self.offset


def _camara_error(status: int, code: str, message: str) -> Answer:
    return status, {"status": status, "code": code, "message": message}, {}


def _oauth_error(status: int, error: str) -> Answer:
    headers = {"Cache-Control": "no-store"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="operator"'
    return status, {"error": error}, headers


def _redirect(redirect_uri: str, params: dict[str, str]) -> Answer:
    separator = "&" if "?" in redirect_uri else "?"
    return 302, {}, {"Location": f"{redirect_uri}{separator}{urlencode(params)}"}


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return (user, password) if sep else None


@dataclass
class CamaraOperator:
    """An operator's OIDC authorize and token endpoints and its Number Verification API."""

    network: Network
    client_id: str
    client_secret: str
    codes: dict[str, tuple[str, str, frozenset[str], float]] = field(default_factory=dict)
    tokens: dict[str, tuple[str, frozenset[str], float]] = field(default_factory=dict)

    def handle(self, method: str, target: str, headers: dict[str, str], body: Any) -> Answer:
        path = urlsplit(target).path
        if method == "GET" and path == "/authorize":
            return self.authorize(dict(parse_qsl(urlsplit(target).query)))
        if method == "POST" and path == "/token":
            return self.token(headers, body)
        if method == "POST" and _VERIFY_PATH.fullmatch(path):
            return self.verify(headers, body)
        return _camara_error(404, "NOT_FOUND", "The requested resource does not exist.")

    def authorize(self, query: dict[str, str]) -> Answer:
        redirect_uri = query.get("redirect_uri", "")
        if query.get("client_id") != self.client_id or not redirect_uri.startswith("http"):
            # RFC 6749 4.1.2.1: never redirect to a URI not proven to be the client's.
            return _oauth_error(400, "invalid_request")
        state = {"state": query["state"]} if "state" in query else {}
        if query.get("response_type") != "code":
            return _redirect(redirect_uri, {"error": "unsupported_response_type", **state})
        scopes = frozenset(query.get("scope", "").split())
        if "openid" not in scopes or not scopes <= KNOWN_SCOPES:
            return _redirect(redirect_uri, {"error": "invalid_scope", **state})
        with self.network.lock:
            msisdn, now = self.network.msisdn, self.network.now()
            hint = query.get("login_hint", "")
            if msisdn is None:
                return _redirect(redirect_uri, {"error": "login_required", **state})
            if hint.startswith("tel:") and hint[4:] != msisdn:
                return _redirect(redirect_uri, {"error": "access_denied", **state})
            code = secrets.token_urlsafe(24)
            self.codes[code] = (msisdn, redirect_uri, scopes, now + CODE_TTL)
        return _redirect(redirect_uri, {"code": code, **state})

    def token(self, headers: dict[str, str], body: Any) -> Answer:
        credentials = _basic_credentials(headers.get("authorization", ""))
        if credentials is None or not (
            hmac.compare_digest(credentials[0].encode(), self.client_id.encode())
            and hmac.compare_digest(credentials[1].encode(), self.client_secret.encode())
        ):
            return _oauth_error(401, "invalid_client")
        if not isinstance(body, dict) or not isinstance(body.get("code"), str):
            return _oauth_error(400, "invalid_request")
        if body.get("grant_type") != "authorization_code":
            return _oauth_error(400, "unsupported_grant_type")
        with self.network.lock:
            grant = self.codes.pop(body["code"], None)  # single use, even when refused
            now = self.network.now()
            if grant is None or grant[3] < now or grant[1] != body.get("redirect_uri"):
                return _oauth_error(400, "invalid_grant")
            token = secrets.token_urlsafe(32)
            self.tokens[token] = (grant[0], grant[2], now + ACCESS_TOKEN_TTL)
        answer = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": int(ACCESS_TOKEN_TTL),
            "scope": " ".join(sorted(grant[2])),
        }
        return 200, answer, {"Cache-Control": "no-store"}

    def verify(self, headers: dict[str, str], body: Any) -> Answer:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        with self.network.lock:
            # CAMARA: an access token for number verification serves a single API call.
            grant = self.tokens.pop(token, None) if scheme.lower() == "bearer" else None
            expired = grant is not None and grant[2] < self.network.now()
        if grant is None or expired:
            return _camara_error(
                401,
                "UNAUTHENTICATED",
                "Request not authenticated due to missing, invalid, or expired credentials.",
            )
        if not grant[1] & VERIFY_SCOPES:
            return _camara_error(
                403, "PERMISSION_DENIED", "Client does not have sufficient permissions."
            )
        if not isinstance(body, dict) or len(body) != 1:
            return _camara_error(
                400, "INVALID_ARGUMENT", "Give one of phoneNumber, hashedPhoneNumber."
            )
        if isinstance(plain := body.get("phoneNumber"), str) and E164.fullmatch(plain):
            verified = plain == grant[0]
        elif isinstance(hashed := body.get("hashedPhoneNumber"), str) and _HEX64.fullmatch(hashed):
            verified = hmac.compare_digest(hashed.lower(), hash_phone_number(grant[0]))
        else:
            return _camara_error(400, "INVALID_ARGUMENT", "The phone number is malformed.")
        return 200, {"devicePhoneNumberVerified": verified}, {}


@dataclass
class CnOperator:
    """A carrier's SDK token issuance (on the device) and its server-side validate endpoint."""

    network: Network
    app_id: str
    app_key: str
    operator_type: str = "CM"
    tokens: dict[str, tuple[str, str, float]] = field(default_factory=dict)

    def handle(self, method: str, target: str, headers: dict[str, str], body: Any) -> Answer:
        path = urlsplit(target).path
        if method == "POST" and path == "/_sim/sdk-token":
            return self.sdk_token(body)
        if method == "POST" and path == "/tokenValidate":
            return 200, self.validate(body), {}
        return 404, {"resultCode": "404000", "desc": "No such endpoint."}, {}

    def sdk_token(self, body: Any) -> Answer:
        app_id = body.get("appid", self.app_id) if isinstance(body, dict) else self.app_id
        with self.network.lock:
            msisdn = self.network.msisdn
            if msisdn is None or not msisdn.startswith("+86"):
                return 409, {"resultCode": "200010", "desc": "No mainland SIM on mobile data."}, {}
            token = "STsid" + secrets.token_urlsafe(32)
            self.tokens[token] = (msisdn, str(app_id), self.network.now() + SDK_TOKEN_TTL)
        return 200, {"resultCode": "103000", "token": token}, {}

    def validate(self, body: Any) -> dict[str, Any]:
        now = self.network.now()
        fields = body if isinstance(body, dict) else {}
        strings = {name: fields.get(name) for name in (*_cnsign.SIGNED_FIELDS, "sign")}
        answer: dict[str, Any] = {
            "systemtime": _cnsign.systemtime(datetime.fromtimestamp(now, UTC))
        }
        if isinstance(fields.get("msgid"), str):
            answer["inresponseto"] = fields["msgid"]
        if not all(isinstance(value, str) for value in strings.values()):
            return {**answer, "resultCode": "103102", "desc": "Missing or malformed fields."}
        checked = {name: str(value) for name, value in strings.items()}
        sent = _cnsign.parse_systemtime(checked["systemtime"])
        if checked["appid"] != self.app_id:
            return {**answer, "resultCode": "103119", "desc": "Unknown appid."}
        if sent is None or abs(sent.timestamp() - now) > CLOCK_SKEW:
            return {**answer, "resultCode": "103111", "desc": "systemtime out of range."}
        if not hmac.compare_digest(checked["sign"], _cnsign.sign(self.app_key, checked)):
            return {**answer, "resultCode": "103101", "desc": "Bad signature."}
        if not _SDK_TOKEN.fullmatch(checked["token"]):
            return {**answer, "resultCode": "103113", "desc": "Malformed token."}
        with self.network.lock:
            grant = self.tokens.pop(checked["token"], None)  # single use
        if grant is None or grant[1] != self.app_id or grant[2] < now:
            return {**answer, "resultCode": "104201", "desc": "Token invalid, expired or used."}
        national = grant[0].removeprefix("+86")
        return {
            **answer,
            "resultCode": "103000",
            "msisdn": _cnsign.encrypt_number(self.app_key, national),
            "operatorType": self.operator_type,
        }
