"""CN one-tap: the simulator's validate contract and the client's handling of its answers."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from humangate.errors import ConfigError, UpstreamUnavailable
from humangate.verify.carrier import CnOneTapVerifier, NumberClaim
from tests.verify.carrier._simulators import (
    APP_ID,
    APP_KEY,
    DEVICE,
    CnHarness,
    running_simulator,
)


def _validate(cn: CnHarness, body: dict[str, str]) -> dict[str, object]:
    answer = httpx.post(f"{cn.url}/tokenValidate", json=body)
    assert answer.status_code == 200
    return dict(answer.json())


def test_the_request_is_signed_as_documented(cn: CnHarness) -> None:
    body = cn.verifier().request_body("STsid-some-token-0123456789")
    message = "".join(body[name] for name in ("appid", "msgid", "systemtime"))
    message += body["strictcheck"] + body["token"] + body["version"]

    expected = hmac.new(APP_KEY.encode(), message.encode(), hashlib.sha256).hexdigest()

    assert body["sign"] == expected
    assert body["appid"] == APP_ID and body["encryptionalgorithm"] == "AES"
    assert len(body["systemtime"]) == 17 and body["systemtime"].isdigit()


def test_the_number_comes_back_encrypted_with_the_app_key(cn: CnHarness) -> None:
    body = cn.verifier().request_body(cn.evidence())

    answer = _validate(cn, body)

    assert answer["resultCode"] == "103000"
    assert answer["inresponseto"] == body["msgid"]
    raw = base64.b64decode(str(answer["msisdn"]))
    key = hashlib.md5(APP_KEY.encode()).digest()
    decryptor = Cipher(algorithms.AES(key), modes.CBC(raw[:16])).decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    plain = unpadder.update(decryptor.update(raw[16:]) + decryptor.finalize()) + unpadder.finalize()
    assert plain == b"13800138000"


def test_a_signature_with_the_wrong_key_is_refused(cn: CnHarness) -> None:
    body = CnOneTapVerifier(cn.config(app_key="wrong-key")).request_body(cn.evidence())

    assert _validate(cn, body)["resultCode"] == "103101"


def test_an_unknown_appid_is_refused(cn: CnHarness) -> None:
    body = CnOneTapVerifier(cn.config(app_id="300099999999")).request_body(cn.evidence())

    assert _validate(cn, body)["resultCode"] == "103119"


def test_a_stale_timestamp_is_refused(cn: CnHarness) -> None:
    then = datetime.now(UTC) - timedelta(minutes=10)

    body = cn.verifier().request_body(cn.evidence(), now=then)

    assert _validate(cn, body)["resultCode"] == "103111"


def test_a_request_missing_fields_is_refused(cn: CnHarness) -> None:
    body = cn.verifier().request_body(cn.evidence())
    del body["sign"]

    assert _validate(cn, body)["resultCode"] == "103102"


def test_a_token_issued_to_another_app_is_refused(cn: CnHarness) -> None:
    body = cn.verifier().request_body(cn.evidence(app_id="300077777777"))

    assert _validate(cn, body)["resultCode"] == "104201"


async def test_a_wrong_app_key_is_unavailable_and_never_shown(cn: CnHarness) -> None:
    verifier = CnOneTapVerifier(cn.config(app_key="not-the-key-93"))

    with pytest.raises(UpstreamUnavailable) as raised:
        await verifier.verify(NumberClaim(DEVICE, cn.evidence()))

    assert raised.value.code == "operator-unavailable"
    assert "not-the-key-93" not in str(raised.value)


async def test_the_verdict_names_the_carrier(cn: CnHarness) -> None:
    mobile = await cn.verifier().verify(NumberClaim(DEVICE, cn.evidence()))
    with running_simulator("cn-onetap", "--msisdn", DEVICE, "--operator-type", "CT") as url:
        telecom_sim = CnHarness(url)
        telecom = await telecom_sim.verifier().verify(NumberClaim(DEVICE, telecom_sim.evidence()))

    assert (mobile.carrier, telecom.carrier) == ("china-mobile", "china-telecom")
    assert telecom.verified is True


async def test_a_number_outside_mainland_china_is_unsupported_and_keeps_the_token(
    cn: CnHarness,
) -> None:
    verifier = cn.verifier()
    token = cn.evidence()

    foreign = await verifier.verify(NumberClaim("+447700900123", token))
    own = await verifier.verify(NumberClaim(DEVICE, token))

    assert (foreign.verified, foreign.reason) == (False, "unsupported-number")
    assert own.verified is True


async def test_an_sdk_token_expires() -> None:
    with running_simulator("cn-onetap", "--msisdn", DEVICE) as url:
        cn = CnHarness(url)
        token = cn.evidence()
        assert httpx.post(f"{url}/_sim/clock", json={"advance": 121}).status_code == 200

        verdict = await cn.verifier().verify(NumberClaim(DEVICE, token))

    assert (verdict.verified, verdict.reason) == (False, "invalid-evidence")


def test_the_sdk_gets_no_token_without_a_mainland_sim() -> None:
    with running_simulator("cn-onetap", "--msisdn", "+447700900123") as url:
        answer = httpx.post(f"{url}/_sim/sdk-token", json={})

    assert answer.status_code == 409


def test_the_simulator_answers_garbage_without_a_5xx(cn: CnHarness) -> None:
    answers = [
        httpx.post(f"{cn.url}/tokenValidate", content=b"\x00\xff"),
        httpx.post(f"{cn.url}/tokenValidate", json=["a"]),
        httpx.post(f"{cn.url}/tokenValidate", json={"appid": 1, "token": None}),
        httpx.post(f"{cn.url}/_sim/clock", json={"advance": "soon"}),
    ]

    assert all(answer.status_code < 500 for answer in answers)
    assert answers[0].json()["resultCode"] == "103102"


@pytest.mark.parametrize(
    "changes", [{"url": "not a url"}, {"app_key": ""}, {"app_id": ""}, {"timeout": -1}]
)
def test_a_bad_config_is_refused(cn: CnHarness, changes: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        cn.config(**changes)


def test_the_config_hides_its_key(cn: CnHarness) -> None:
    assert APP_KEY not in repr(cn.config())
    assert APP_KEY not in repr(cn.verifier())
