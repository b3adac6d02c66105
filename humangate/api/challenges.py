"""The public challenge API used by the widget."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter, Path
from pydantic import ConfigDict, Field

from humangate.api.deps import (
    Client,
    ClientDep,
    DirectoryDep,
    PageHostname,
    ServicesDep,
    VerifierDep,
)
from humangate.api.error_docs import error_responses
from humangate.api.response_docs import ANSWERED, ISSUED, json_answer
from humangate.api.signals import ApiModel, GestureSignals, IssueSignals, PowSolution
from humangate.errors import AccessDenied, InvalidInput
from humangate.loop import Signals, Verifier, Visitor
from humangate.loop.issue import expired_challenge
from humangate.units import UnitView, hostname_allowed

router = APIRouter(prefix="/api/v1", tags=["challenges"])

Language = Literal["en", "zh"]
ChallengeId = Path(pattern=r"^[A-Za-z0-9_-]{16,64}$", description="The id of an issued challenge.")


class ChallengeRequest(ApiModel):
    """Ask for a challenge for one site key."""

    model_config = ConfigDict(extra="forbid", strict=True)

    sitekey: str = Field(min_length=1, max_length=64)
    action: str = Field(default="", max_length=32, pattern=r"^[A-Za-z0-9_.-]*$")
    cdata: str = Field(default="", max_length=255)
    lang: Language = "en"
    signals: IssueSignals | None = None


class AudioRequest(ApiModel):
    """Trade a visual challenge for an audio one, spoken in `language`."""

    model_config = ConfigDict(extra="forbid", strict=True)

    language: Language = "en"


class AnswerRequest(ApiModel):
    """One answer: a PoW solution, or a visual answer with the trajectory recorded while solving."""

    model_config = ConfigDict(extra="forbid", strict=True)

    pow: PowSolution | None = None
    answer: Any = None
    trajectory: list[Any] | None = Field(default=None, max_length=2000)
    signals: GestureSignals | None = None


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
    unit = await _unit_for_page(directory, state.sitekey, hostname)
    if hostname != state.hostname:
        raise AccessDenied("The answer comes from another origin.", code="invalid-origin")
    return LiveChallenge(unit=unit, kind=state.kind)


async def _unit_for_page(
    directory: DirectoryDep,
    sitekey: str,
    hostname: str | None,
    on_refused_origin: Callable[[int, str | None], None] | None = None,
) -> UnitView:
    unit = await directory.by_sitekey(sitekey)
    if unit is None:
        raise InvalidInput("No verification unit has this site key.", code="invalid-sitekey")
    if unit.disabled:
        raise AccessDenied("This verification unit is disabled.", code="sitekey-disabled")
    if not hostname_allowed(unit, hostname):
        if on_refused_origin is not None:
            on_refused_origin(unit.id, hostname)
        raise AccessDenied(
            "The page's origin is not one of this unit's allowed domains.", code="invalid-origin"
        )
    return unit


@router.post(
    "/challenges",
    summary="Issue a challenge",
    responses={200: json_answer(ISSUED, "A challenge"), **error_responses(400, 403, 413, 429, 503)},
)
async def create_challenge(
    body: ChallengeRequest,
    verifier: VerifierDep,
    directory: DirectoryDep,
    client: ClientDep,
    hostname: PageHostname,
    services: ServicesDep,
) -> dict[str, Any]:
    """Check the site key and the page's origin, then issue a challenge chosen by mode and risk.

    The answer names the challenge's `kind` and carries its payload under that name; a `pow`
    with `gesture: true` (managed mode) also asks the widget for a slide-to-verify gesture.
    A page refused for its origin is counted in the unit's statistics with its host.
    """
    counted = services.counters.count_refused_origin
    unit = await _unit_for_page(directory, body.sitekey, hostname, counted)
    signals = body.signals or IssueSignals()
    environment = signals.env.model_dump(exclude_none=True) if signals.env else None
    issued = await verifier.issue(
        unit,
        _visitor(client, hostname, body.lang),
        action=body.action,
        cdata=body.cdata,
        signals=Signals(environment=environment, first_party=signals.fp),
    )
    answer = issued.to_json()
    if unit.hide_mark and (await services.editions.of_account(unit.account_id)).hide_mark:
        answer["mark"] = False  # the owner's choice, honoured for the enterprise edition
    return answer


def _visitor(client: Client, hostname: str | None, lang: str = "en") -> Visitor:
    return Visitor(
        ip_prefix=client.prefix,
        hostname=hostname or "",
        lang=lang,
        ip=client.ip,
        user_agent=client.user_agent,
        accept_language=client.accept_language,
    )


@router.post(
    "/challenges/{challenge_id}/answer",
    summary="Answer a challenge",
    responses={
        200: json_answer(ANSWERED, "A pass token, or an error code and the next challenge"),
        **error_responses(400, 403, 410, 413, 429, 503),
    },
)
async def answer_challenge(
    body: AnswerRequest,
    verifier: VerifierDep,
    directory: DirectoryDep,
    client: ClientDep,
    hostname: PageHostname,
    challenge_id: str = ChallengeId,
) -> dict[str, Any]:
    """Consume the challenge and check the answer: a pass token, or the next challenge.

    The gesture's trace is scored and then discarded; only its features are kept."""
    state = await _live_state(verifier, directory, challenge_id, hostname)
    unit = state.unit
    if state.kind == "pow" and body.pow is None:
        raise InvalidInput("A pow challenge needs {'pow': {'number': N}}.")
    if state.kind != "pow" and body.answer is None:
        raise InvalidInput("A visual or audio challenge needs an 'answer'.")
    gesture = body.signals or GestureSignals()
    trace = [(p[0], p[1], p[2]) for p in gesture.trace] if gesture.trace else None
    answered = await verifier.answer(
        unit,
        challenge_id,
        _visitor(client, hostname),
        pow_number=body.pow.number if body.pow else None,
        answer=body.answer,
        trajectory=body.trajectory,
        signals=Signals(
            trace=trace,
            pointer=gesture.pointer,
            pow_elapsed_ms=body.pow.elapsed_ms if body.pow else None,
        ),
    )
    return answered.to_json()


@router.post(
    "/challenges/{challenge_id}/audio",
    summary="Switch to an audio challenge",
    responses={
        200: json_answer(ISSUED, "The audio challenge"),
        **error_responses(400, 403, 410, 413, 429, 503),
    },
)
async def switch_to_audio(
    verifier: VerifierDep,
    directory: DirectoryDep,
    client: ClientDep,
    hostname: PageHostname,
    body: AudioRequest | None = None,
    challenge_id: str = ChallengeId,
) -> dict[str, Any]:
    """Consume a visual challenge and issue an audio one of the same difficulty instead."""
    state = await _live_state(verifier, directory, challenge_id, hostname)
    if state.kind in ("pow", "audio"):
        raise InvalidInput("Only a visual challenge has an audio alternative.")
    language = body.language if body else "en"
    issued = await verifier.switch_to_audio(
        state.unit, challenge_id, _visitor(client, hostname, language)
    )
    return issued.to_json()
