"""What every carrier number verifier shares: the claim, the verdict and the protocol.

A carrier verifier asks a mobile operator whether the phone number a user typed is the number
of the SIM in the device the user holds, from evidence the device obtained from the network
(a CAMARA authorization code, a Chinese carrier SDK's token). Expected outcomes, a match, a
mismatch or evidence the operator rejects, are verdicts; an operator that fails or does not
answer in time raises `UpstreamUnavailable`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from humangate.errors import InvalidInput

DEFAULT_TIMEOUT = 5.0
"""Seconds allowed for each request to an operator, from connection to last byte."""

Reason = Literal["match", "mismatch", "invalid-evidence", "unsupported-number"]
"""Why a verdict is what it is, for the owner's records only; never shown to the end user."""

Carrier = Literal["china-mobile", "china-unicom", "china-telecom"]

# The CAMARA pattern for a phone number: E.164 with its plus sign, 5 to 15 digits.
_E164 = re.compile(r"\+[1-9][0-9]{4,14}")
# Long enough for any operator's code or token, short enough to bound what we forward.
_MAX_EVIDENCE = 4096


@dataclass(frozen=True, slots=True)
class NumberClaim:
    """A number the user says is theirs, and the device's evidence for it.

    Attributes:
        phone_number: the claimed number in E.164 form (`+8613800138000`).
        evidence: CAMARA: the authorization code the device got at the operator's authorize
            endpoint; CN one-tap: the token the carrier SDK returned on the device.
        redirect_uri: CAMARA: the redirect URI of the authorization request that produced the
            code (the token request must repeat it); unused by the CN one-tap path.

    Raises:
        InvalidInput: the number is not E.164, or the evidence is empty, too long or not
            printable ASCII.
    """

    phone_number: str
    evidence: str = field(repr=False)
    redirect_uri: str | None = None

    def __post_init__(self) -> None:
        if not _E164.fullmatch(self.phone_number):
            raise InvalidInput(
                "The phone number must be in E.164 form, such as +8613800138000.",
                code="invalid-phone-number",
            )
        evidence = self.evidence
        if not evidence or len(evidence) > _MAX_EVIDENCE or not _printable_ascii(evidence):
            raise InvalidInput(
                "The evidence must be 1 to 4096 printable ASCII characters.",
                code="invalid-evidence",
            )


@dataclass(frozen=True, slots=True)
class NumberVerdict:
    """The operator's answer: `verified` only when the device's own number is the claimed one.

    `carrier` names the operator when it said which it is (the CN path: one of the three
    Chinese carriers), else None. `reason` is for the owner only.
    """

    verified: bool
    carrier: str | None
    reason: str


@runtime_checkable
class NumberVerifier(Protocol):
    """Checks a claim with one operator's API; `name` keys it in `verifiers_from_config`."""

    name: str

    async def verify(self, claim: NumberClaim) -> NumberVerdict:
        """Ask the operator whether the claim's number is the device's.

        Raises:
            UpstreamUnavailable: the operator failed, refused HumanGate's own credentials, or
                did not answer in time (code `operator-unavailable`).
        """
        ...


def _printable_ascii(text: str) -> bool:
    return text.isascii() and text.isprintable()
