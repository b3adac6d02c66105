"""The claim's own checks, and the verifiers built from configuration."""

from __future__ import annotations

import pytest

from humangate.errors import InvalidInput
from humangate.verify.carrier import (
    CamaraConfig,
    CnOneTapConfig,
    NumberClaim,
    NumberVerifier,
    verifiers_from_config,
)


@pytest.mark.parametrize("number", ["8613800138000", "+86 138 0013 8000", "+0123456", "+1", ""])
def test_a_claim_needs_an_e164_number(number: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        NumberClaim(number, "evidence")

    assert raised.value.code == "invalid-phone-number"


@pytest.mark.parametrize("evidence", ["", "a\nb", "é-token", "x" * 4097, "tab\there"])
def test_a_claim_needs_printable_evidence(evidence: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        NumberClaim("+8613800138000", evidence)

    assert raised.value.code == "invalid-evidence"


def test_a_claim_hides_its_evidence() -> None:
    assert "secret-code-77" not in repr(NumberClaim("+8613800138000", "secret-code-77"))


def test_verifiers_from_config_builds_the_configured_paths() -> None:
    camara = CamaraConfig(
        "https://op.example/authorize",
        "https://op.example/token",
        "https://api.op.example",
        "client",
        "secret",
    )
    cn = CnOneTapConfig("https://cn.example/tokenValidate", "300012345678", "key")

    both = verifiers_from_config(camara, cn)

    assert set(both) == {"camara", "cn-onetap"}
    assert all(isinstance(v, NumberVerifier) and v.name == name for name, v in both.items())
    assert set(verifiers_from_config(None, cn)) == {"cn-onetap"}
    assert verifiers_from_config(None, None) == {}
