"""The contract every carrier verifier keeps, each against its operator simulator process.

The same tests run for CAMARA and for CN one-tap: the device's own number verifies, another
number does not, evidence serves once, forged evidence is a verdict, and an operator that is
down or hangs is `UpstreamUnavailable`, never a verdict.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from humangate.errors import UpstreamUnavailable
from tests.verify.carrier._simulators import (
    APP_KEY,
    CLIENT_SECRET,
    DEVICE,
    OTHER,
    Harness,
    closed_url,
    running_simulator,
)


@pytest.fixture(params=["camara", "cn-onetap"])
def harness(request: pytest.FixtureRequest) -> Harness:
    name = "camara" if request.param == "camara" else "cn"
    result: Harness = request.getfixturevalue(name)
    return result


@pytest.fixture(scope="module")
def hanging() -> Iterator[dict[str, str]]:
    """A hanging simulator of each kind: it takes requests and never answers."""
    with (
        running_simulator("camara", "--msisdn", DEVICE, "--hang") as camara_url,
        running_simulator("cn-onetap", "--msisdn", DEVICE, "--hang") as cn_url,
    ):
        yield {"camara": camara_url, "cn-onetap": cn_url}


async def test_the_devices_own_number_verifies(harness: Harness) -> None:
    verdict = await harness.verifier().verify(harness.claim(DEVICE, harness.evidence()))

    assert verdict.verified is True
    assert verdict.reason == "match"


async def test_another_number_does_not_verify(harness: Harness) -> None:
    verdict = await harness.verifier().verify(harness.claim(OTHER, harness.evidence()))

    assert verdict.verified is False
    assert verdict.reason == "mismatch"


async def test_evidence_serves_once(harness: Harness) -> None:
    verifier = harness.verifier()
    claim = harness.claim(DEVICE, harness.evidence())

    first = await verifier.verify(claim)
    second = await verifier.verify(claim)

    assert first.verified is True
    assert second.verified is False
    assert second.reason == "invalid-evidence"


async def test_a_mismatch_spends_the_evidence_too(harness: Harness) -> None:
    verifier = harness.verifier()
    evidence = harness.evidence()

    assert (await verifier.verify(harness.claim(OTHER, evidence))).reason == "mismatch"
    again = await verifier.verify(harness.claim(DEVICE, evidence))

    assert again.verified is False
    assert again.reason == "invalid-evidence"


@pytest.mark.parametrize(
    "forged", ["garbage", "x" * 40, secrets.token_urlsafe(32), "STsid" + "A" * 43]
)
async def test_forged_evidence_is_not_verified(harness: Harness, forged: str) -> None:
    verdict = await harness.verifier().verify(harness.claim(DEVICE, forged))

    assert verdict.verified is False
    assert verdict.reason == "invalid-evidence"


async def test_an_operator_that_is_down_is_unavailable(harness: Harness) -> None:
    verifier = harness.verifier(closed_url())

    with pytest.raises(UpstreamUnavailable) as raised:
        await verifier.verify(harness.claim(DEVICE, "some-evidence-value-123"))

    assert raised.value.code == "operator-unavailable"


async def test_an_operator_that_hangs_is_unavailable_after_the_timeout(
    harness: Harness, hanging: dict[str, str]
) -> None:
    verifier = harness.verifier(hanging[harness.kind], timeout=0.5)
    evidence = "some-evidence-value-123"

    with pytest.raises(UpstreamUnavailable) as raised:
        await verifier.verify(harness.claim(DEVICE, evidence))

    assert raised.value.code == "operator-unavailable"


async def test_failures_carry_no_credential_or_evidence(harness: Harness) -> None:
    evidence = harness.evidence()
    verifier = harness.verifier(closed_url())

    with pytest.raises(UpstreamUnavailable) as raised:
        await verifier.verify(harness.claim(DEVICE, evidence))

    text = str(raised.value)
    for secret in (CLIENT_SECRET, APP_KEY, evidence):
        assert secret not in text
