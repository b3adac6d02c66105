"""The public challenge API used by the widget."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from humangate.api.deps import ClientPrefix, DirectoryDep, PageHostname, VerifierDep
from humangate.units import UnitView, hostname_allowed
from humangate.verification import Rejected, Verifier, Visitor, expired_challenge

router = APIRouter(prefix="/api/v1", tags=["challenges"])

Language = Literal["en", "zh"]
ChallengeId = Path(pattern=r"^[A-Za-z0-9_-]{16,64}$", description="The id of an issued challenge.")


class ChallengeRequest(BaseModel):
    """Ask for a challenge for one site key."""

    model_config = ConfigDict(extra="forbid", strict=True)

    sitekey: str = Field(min_length=1, max_length=64)
    action: str = Field(default="", max_length=32, pattern=r"^[A-Za-z0-9_.-]*$")
    cdata: str = Field(default="", max_length=255)
    lang: Language = "en"
    signals: dict[str, Any] | None = None


class AudioRequest(BaseModel):
    """Trade a visual challenge for an audio one, spoken in `language`."""

    model_config = ConfigDict(extra="forbid", strict=True)

    language: Language = "en"


class PowSolution(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    number: int = Field(ge=0, le=2**53)


class AnswerRequest(BaseModel):
    """One answer: a PoW solution, or a visual answer with the trajectory recorded while solving."""

    model_config = ConfigDict(extra="forbid", strict=True)

    pow: PowSolution | None = None
    answer: Any = None
    trajectory: list[Any] | None = Field(default=None, max_length=2000)
    signals: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class LiveChallenge:
    unit: UnitView
    kind: str


async def _live_state(
    verifier: Verifier, directory: DirectoryDep, challenge_id: str, hostname: str | None
) -> LiveChallenge:
    """A live challenge answered from the page it was issued to, without consuming it."""
    state = await verifier.peek(challenge_id)
    if state is None:
        raise expired_challenge()
    unit = await _unit_for_page(directory, state["sitekey"], hostname)
    if hostname != state["hostname"]:
        raise Rejected(403, "invalid-origin", "The answer comes from another origin.")
    return LiveChallenge(unit=unit, kind=state["kind"])


async def _unit_for_page(directory: DirectoryDep, sitekey: str, hostname: str | None) -> UnitView:
    unit = await directory.by_sitekey(sitekey)
    if unit is None:
        raise Rejected(400, "invalid-sitekey", "No verification unit has this site key.")
    if unit.disabled:
        raise Rejected(403, "sitekey-disabled", "This verification unit is disabled.")
    if not hostname_allowed(unit, hostname):
        raise Rejected(
            403, "invalid-origin", "The page's origin is not one of this unit's allowed domains."
        )
    return unit


@router.post("/challenges", summary="Issue a challenge")
async def create_challenge(
    body: ChallengeRequest,
    verifier: VerifierDep,
    directory: DirectoryDep,
    prefix: ClientPrefix,
    hostname: PageHostname,
) -> dict[str, Any]:
    """Check the site key and the page's origin, then issue a `pow` or `slide` challenge."""
    unit = await _unit_for_page(directory, body.sitekey, hostname)
    visitor = Visitor(ip_prefix=prefix, hostname=hostname or "", lang=body.lang)
    return await verifier.issue(unit, visitor, action=body.action, cdata=body.cdata)


@router.post("/challenges/{challenge_id}/answer", summary="Answer a challenge")
async def answer_challenge(
    body: AnswerRequest,
    verifier: VerifierDep,
    directory: DirectoryDep,
    prefix: ClientPrefix,
    hostname: PageHostname,
    challenge_id: str = ChallengeId,
) -> dict[str, Any]:
    """Consume the challenge and check the answer: a pass token, or the next challenge."""
    state = await _live_state(verifier, directory, challenge_id, hostname)
    unit = state.unit
    if state.kind == "pow" and body.pow is None:
        raise Rejected(400, "bad-request", "A pow challenge needs {'pow': {'number': N}}.")
    if state.kind != "pow" and body.answer is None:
        raise Rejected(400, "bad-request", "A visual or audio challenge needs an 'answer'.")
    visitor = Visitor(ip_prefix=prefix, hostname=hostname or "")
    return await verifier.answer(
        unit,
        challenge_id,
        visitor,
        pow_number=body.pow.number if body.pow else None,
        answer=body.answer,
        trajectory=body.trajectory,
    )


@router.post("/challenges/{challenge_id}/audio", summary="Switch to an audio challenge")
async def switch_to_audio(
    verifier: VerifierDep,
    directory: DirectoryDep,
    prefix: ClientPrefix,
    hostname: PageHostname,
    body: AudioRequest | None = None,
    challenge_id: str = ChallengeId,
) -> dict[str, Any]:
    """Consume a visual challenge and issue an audio one of the same difficulty instead."""
    state = await _live_state(verifier, directory, challenge_id, hostname)
    if state.kind in ("pow", "audio"):
        raise Rejected(400, "bad-request", "Only a visual challenge has an audio alternative.")
    language = body.language if body else "en"
    visitor = Visitor(ip_prefix=prefix, hostname=hostname or "", lang=language)
    return await verifier.switch_to_audio(state.unit, challenge_id, visitor)
