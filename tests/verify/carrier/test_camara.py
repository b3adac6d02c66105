"""CAMARA: the simulator's contract (OIDC and the Number Verification API) and the client's
handling of what an operator can answer."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from humangate.errors import ConfigError, InvalidInput, UpstreamUnavailable
from humangate.verify.carrier import CamaraVerifier, NumberClaim
from humangate.verify.carrier.camara import SCOPE, hash_phone_number
from tests.verify.carrier._simulators import (
    CLIENT_ID,
    CLIENT_SECRET,
    DEVICE,
    OTHER,
    REDIRECT_URI,
    CamaraHarness,
    running_simulator,
)


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def _exchange(camara: CamaraHarness, code: str, secret: str = CLIENT_SECRET) -> httpx.Response:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    return httpx.post(f"{camara.url}/token", data=form, headers=_basic(CLIENT_ID, secret))


def _redirect_query(answer: httpx.Response) -> dict[str, list[str]]:
    assert answer.status_code == 302, answer.text
    return parse_qs(urlsplit(answer.headers["location"]).query)


def test_the_authorization_url_asks_for_number_verification_silently(
    camara: CamaraHarness,
) -> None:
    url = camara.verifier().authorization_url("st-1", "n-1", REDIRECT_URI, "tel:+8613800138000")
    query = parse_qs(urlsplit(url).query)

    assert url.startswith(f"{camara.url}/authorize?")
    assert query["scope"] == [SCOPE]
    assert query["response_type"] == ["code"]
    assert query["prompt"] == ["none"]
    assert query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == [REDIRECT_URI]
    assert query["state"] == ["st-1"] and query["nonce"] == ["n-1"]
    assert query["login_hint"] == ["tel:+8613800138000"]


def test_the_hash_is_sha256_of_the_number_with_its_plus() -> None:
    # Computed once with `printf %s +8613800138000 | sha256sum`.
    expected = "ec61f3c620a98bdead8c1f1f0ae747abd1b62a0c2dba4fd4bc22cf0d1d8653e5"
    assert hash_phone_number(DEVICE) == expected


def test_the_simulator_refuses_a_bad_client_secret(camara: CamaraHarness) -> None:
    code = camara.evidence()

    refused = _exchange(camara, code, secret="wrong-secret")

    assert refused.status_code == 401
    assert refused.json() == {"error": "invalid_client"}
    assert refused.headers["www-authenticate"].startswith("Basic")
    # A refused client does not spend the code: the real client still can.
    assert _exchange(camara, code).status_code == 200


def test_the_simulator_refuses_a_token_request_without_client_auth(camara: CamaraHarness) -> None:
    form = {"grant_type": "authorization_code", "code": camara.evidence()}

    assert httpx.post(f"{camara.url}/token", data=form).status_code == 401


async def test_a_wrong_client_secret_is_unavailable_and_never_shown(camara: CamaraHarness) -> None:
    verifier = camara.verifier(client_secret="not-the-secret-41")

    with pytest.raises(UpstreamUnavailable) as raised:
        await verifier.verify(camara.claim(DEVICE, camara.evidence()))

    assert raised.value.code == "operator-unavailable"
    assert "not-the-secret-41" not in str(raised.value)


def test_the_simulator_never_redirects_for_an_unknown_client(camara: CamaraHarness) -> None:
    url = CamaraVerifier(camara.config(client_id="someone-else")).authorization_url(
        "s", "n", REDIRECT_URI
    )

    answer = httpx.get(url)

    assert answer.status_code == 400
    assert "location" not in answer.headers


def test_the_simulator_refuses_an_unknown_scope(camara: CamaraHarness) -> None:
    url = camara.verifier(scope="openid admin:everything").authorization_url("s", "n", REDIRECT_URI)

    assert _redirect_query(httpx.get(url))["error"] == ["invalid_scope"]


def test_a_token_without_the_verify_scope_is_refused(camara: CamaraHarness) -> None:
    scope = "openid dpv:FraudPreventionAndDetection#number-verification-share-read"
    url = camara.verifier(scope=scope).authorization_url("s", "n", REDIRECT_URI)
    code = _redirect_query(httpx.get(url))["code"][0]
    token = _exchange(camara, code).json()["access_token"]

    answer = httpx.post(
        f"{camara.url}/number-verification/v0/verify",
        json={"hashedPhoneNumber": hash_phone_number(DEVICE)},
        headers={"Authorization": f"Bearer {token}"},
    )

    assert answer.status_code == 403
    assert answer.json()["code"] == "PERMISSION_DENIED"


def test_an_access_token_serves_one_call(camara: CamaraHarness) -> None:
    token = _exchange(camara, camara.evidence()).json()["access_token"]
    url = f"{camara.url}/number-verification/v0/verify"
    headers = {"Authorization": f"Bearer {token}"}

    first = httpx.post(url, json={"phoneNumber": DEVICE}, headers=headers)
    second = httpx.post(url, json={"phoneNumber": DEVICE}, headers=headers)

    assert first.json() == {"devicePhoneNumberVerified": True}
    assert second.status_code == 401
    assert second.json()["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    "body",
    [
        {"phoneNumber": DEVICE, "hashedPhoneNumber": "0" * 64},
        {"phoneNumber": "8613800138000"},
        {"hashedPhoneNumber": "not-hex"},
        {"phone": DEVICE},
        [],
    ],
)
def test_the_simulator_refuses_a_malformed_verify_body(camara: CamaraHarness, body: object) -> None:
    token = _exchange(camara, camara.evidence()).json()["access_token"]

    answer = httpx.post(
        f"{camara.url}/number-verification/v0/verify",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
    )

    assert answer.status_code == 400
    assert answer.json()["code"] == "INVALID_ARGUMENT"


def test_the_simulator_answers_garbage_with_a_4xx(camara: CamaraHarness) -> None:
    answers = [
        httpx.post(f"{camara.url}/token", content=b"\xff\xfe", headers=_basic(CLIENT_ID, "x")),
        httpx.post(f"{camara.url}/number-verification/v0/verify", content=b"{not json"),
        httpx.post(f"{camara.url}/_sim/device", json={"msisdn": "12"}),
        httpx.get(f"{camara.url}/nowhere"),
    ]

    assert all(400 <= answer.status_code < 500 for answer in answers)


@pytest.mark.parametrize("hashed", [True, False])
async def test_plain_and_hashed_numbers_both_verify(camara: CamaraHarness, hashed: bool) -> None:
    verifier = camara.verifier(hashed=hashed)

    own = await verifier.verify(camara.claim(DEVICE, camara.evidence()))
    other = await verifier.verify(camara.claim(OTHER, camara.evidence()))

    assert (own.verified, other.verified) == (True, False)


async def test_a_code_for_another_redirect_uri_is_invalid_evidence(camara: CamaraHarness) -> None:
    code = camara.evidence(redirect_uri="https://elsewhere.example/cb")

    verdict = await camara.verifier().verify(NumberClaim(DEVICE, code, REDIRECT_URI))

    assert (verdict.verified, verdict.reason) == (False, "invalid-evidence")


async def test_a_code_expires_after_a_minute() -> None:
    with running_simulator("camara", "--msisdn", DEVICE) as url:
        camara = CamaraHarness(url)
        code = camara.evidence()
        assert httpx.post(f"{url}/_sim/clock", json={"advance": 61}).status_code == 200

        verdict = await camara.verifier().verify(camara.claim(DEVICE, code))

    assert (verdict.verified, verdict.reason) == (False, "invalid-evidence")


def test_a_network_without_a_sim_answers_login_required() -> None:
    with running_simulator("camara") as url:
        camara = CamaraHarness(url)
        authorize = camara.verifier().authorization_url("s", "n", REDIRECT_URI)
        before = _redirect_query(httpx.get(authorize))
        httpx.post(f"{url}/_sim/device", json={"msisdn": OTHER}).raise_for_status()
        after = _redirect_query(httpx.get(authorize))

    assert before["error"] == ["login_required"]
    assert "code" in after


def test_a_login_hint_for_another_number_is_denied(camara: CamaraHarness) -> None:
    url = camara.verifier().authorization_url("s", "n", REDIRECT_URI, login_hint=f"tel:{OTHER}")

    assert _redirect_query(httpx.get(url))["error"] == ["access_denied"]


async def test_a_claim_without_a_redirect_uri_is_refused(camara: CamaraHarness) -> None:
    with pytest.raises(InvalidInput) as raised:
        await camara.verifier().verify(NumberClaim(DEVICE, "some-code-1234"))

    assert raised.value.code == "missing-redirect-uri"


async def test_an_injected_client_is_used(camara: CamaraHarness) -> None:
    async with httpx.AsyncClient() as client:
        verifier = CamaraVerifier(camara.config(), client=client)
        verdict = await verifier.verify(camara.claim(DEVICE, camara.evidence()))

    assert verdict.verified is True


@pytest.mark.parametrize(
    "changes",
    [{"token_url": "ftp://op.example/token"}, {"client_secret": ""}, {"timeout": 0}],
)
def test_a_bad_config_is_refused(camara: CamaraHarness, changes: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        camara.config(**changes)


def test_the_config_hides_its_secret(camara: CamaraHarness) -> None:
    assert CLIENT_SECRET not in repr(camara.config())
