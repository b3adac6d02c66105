"""Siteverify, spoken in the dialects of reCAPTCHA, hCaptcha and Cloudflare Turnstile.

Every answer is HTTP 200 with `success`, as those services answer: a verdict on the token, and
also a missing or wrong secret, a missing response or a malformed request (`bad-request`), with
the service's error codes (decision 0012). Each path answers with its service's fields: the
reCAPTCHA path carries `score` and `action` for a score-mode unit only (v3) and neither for the
others (v2); the Turnstile path adds `messages` and `metadata`; `/siteverify` (hCaptcha's path
and HumanGate's own) carries everything HumanGate knows. Only an outage of the store or the
database is not a verdict: 503 with its code and Retry-After.

A disabled unit (by its owner, or by the suspension of its owner's account) answers 200 with
`sitekey-disabled` for every token, minted before or after, and consumes none of them. The unit
comes from the directory's cache, so the refusal starts within HUMANGATE_UNIT_CACHE_SECONDS (5 s)
of the change on every node, as the challenge API's does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile

from humangate.api.deps import get_services
from humangate.api.error_docs import error_responses
from humangate.directory import UnitDirectory
from humangate.errors import BadSiteverify, StorageError
from humangate.loop import Verifier, VerifyResult, iso_utc, verify_test_secret
from humangate.loop.context import LoopContext
from humangate.observability.metrics import count_siteverify
from humangate.testkeys import SCORE_TEST_SECRETS
from humangate.text import is_clean_text, json_too_deep
from humangate.tokens import check_token
from humangate.units import UnitView

router = APIRouter(tags=["siteverify"])

_LIMITS = {
    "secret": 256,
    "response": 4096,
    "remoteip": 64,
    "sitekey": 64,
    "idempotency_key": 128,
    "expected_action": 32,
}
Dialect = Literal["humangate", "recaptcha", "turnstile"]
DIALECTS: dict[str, Dialect] = {
    "/siteverify": "humangate",
    "/recaptcha/api/siteverify": "recaptcha",
    "/turnstile/v0/siteverify": "turnstile",
}
TEST_ACTION = "test"  # what a score test secret answers when no `expected_action` is asked


@dataclass(frozen=True, slots=True)
class Verdict:
    """A result, the unit's site key when one was found, and whether the unit is score-mode;
    the unit, when one was found (its owner's edition decides on `score_reasons`)."""

    result: VerifyResult
    sitekey: str = ""
    scored: bool = False
    unit: UnitView | None = None


async def read_fields(request: Request) -> dict[str, str]:
    """Merge query parameters with a form or JSON body; every field must be a short string
    without NUL or lone surrogates, and a JSON body no deeper than the parser safely reads."""
    fields: dict[str, Any] = dict(request.query_params)
    body = await request.body()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if body:
        if content_type == "application/json":
            if json_too_deep(body):
                raise BadSiteverify
            try:
                parsed = json.loads(body)
            except (ValueError, UnicodeDecodeError) as exc:
                raise BadSiteverify from exc
            if not isinstance(parsed, dict):
                raise BadSiteverify
            fields.update(parsed)
        elif content_type == "multipart/form-data":
            try:
                form = await request.form()
            except Exception as exc:  # any unreadable multipart body is the client's
                raise BadSiteverify from exc
            if any(isinstance(v, UploadFile) for v in form.values()):
                raise BadSiteverify
            fields.update({k: v for k, v in form.items() if isinstance(v, str)})
        else:
            try:
                fields.update(
                    parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict")
                )
            except (UnicodeDecodeError, ValueError) as exc:
                raise BadSiteverify from exc
    known: dict[str, str] = {}
    for name, limit in _LIMITS.items():
        value = fields.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > limit or not is_clean_text(value):
            raise BadSiteverify
        known[name] = value.strip()
    return known


async def verify_fields(
    fields: dict[str, str],
    *,
    directory: UnitDirectory,
    verifier: Verifier,
    test_keys: bool,
    fail_open: frozenset[str] = frozenset(),
) -> tuple[VerifyResult, str]:
    """The result for already-read fields, and the unit's site key when one was found."""
    verdict = await verdict_of(
        fields, directory=directory, verifier=verifier, test_keys=test_keys, fail_open=fail_open
    )
    return verdict.result, verdict.sitekey


async def verdict_of(
    fields: dict[str, str],
    *,
    directory: UnitDirectory,
    verifier: Verifier,
    test_keys: bool,
    fail_open: frozenset[str] = frozenset(),
) -> Verdict:
    """The verdict on already-read fields.

    `fail_open` names the units whose operator chose to accept a genuine, unexpired token
    without its single-use check while the store cannot answer (see `verify_without_store`).
    """
    secret = fields.get("secret", "")
    response = fields.get("response", "")
    expected_action = fields.get("expected_action", "")
    if not secret:
        return Verdict(VerifyResult.failure("missing-input-secret"))
    if test_keys:
        fixed = await _test_secret_verdict(verifier.context, secret, response, expected_action)
        if fixed is not None:
            return fixed if response else Verdict(VerifyResult.failure("missing-input-response"))
    unit = await directory.by_secret(secret)
    if unit is None:
        return Verdict(VerifyResult.failure("invalid-input-secret"))
    if not response:
        return Verdict(VerifyResult.failure("missing-input-response"))
    if fields.get("sitekey") and fields["sitekey"] != unit.sitekey:
        return Verdict(VerifyResult.failure("sitekey-secret-mismatch"))
    if unit.disabled:
        return Verdict(VerifyResult.failure("sitekey-disabled"))
    try:
        result = await verifier.siteverify(
            unit,
            response,
            idempotency_key=fields.get("idempotency_key", ""),
            expected_action=expected_action,
        )
    except StorageError:
        if unit.sitekey not in fail_open or expected_action:
            raise  # the action is in the store's record: without it, nothing to compare
        result = verify_without_store(verifier.context, unit, response)
    return Verdict(result, unit.sitekey, scored=unit.mode == "score", unit=unit)


async def _test_secret_verdict(
    context: LoopContext, secret: str, token: str, expected_action: str
) -> Verdict | None:
    """A published test secret's fixed answer: the v2-style ones of `TEST_SECRETS`, or a
    score-mode (v3-style) success with its score and the action asked for (`expected_action`),
    else TEST_ACTION. Test site keys mint a dummy token that carries no action."""
    now = context.now()
    score = SCORE_TEST_SECRETS.get(secret)
    if score is not None:
        passed = VerifyResult(
            success=True,
            hostname="example.com",
            challenge_ts=now,
            action=expected_action or TEST_ACTION,
            score=score,
        )
        return Verdict(passed, scored=True)
    fixed = verify_test_secret(secret, now=now)
    return None if fixed is None else Verdict(fixed)


def verify_without_store(context: LoopContext, unit: UnitView, token: str) -> VerifyResult:
    """Fail open, for a unit whose operator asked for it: a token this server minted for this
    unit and not expired passes with a score of 0 and the reason `fail-open`. Whether it was
    already used, and its hostname, action and score, are in the store that did not answer:
    a token may pass more than once while the store is down."""
    check = check_token(context.key, token, unit_id=unit.id, now=context.clock())
    if not check.valid:
        return VerifyResult.failure("invalid-input-response")
    if check.expired:
        return VerifyResult.failure("timeout-or-duplicate")
    minted = check.expires_at - context.policy.token_ttl
    return VerifyResult(success=True, challenge_ts=minted, score=0.0, reasons=("fail-open",))


def siteverify_json(
    result: VerifyResult, sitekey: str = "", *, reasons: bool = True
) -> dict[str, Any]:
    """HumanGate's own answer (`/siteverify`): everything it knows about the token, but
    `score_reasons` only when `reasons` (the enterprise edition's, when billing is on)."""
    if not result.success:
        return {"success": False, "error-codes": list(result.error_codes)}
    answer: dict[str, Any] = {
        "success": True,
        "challenge_ts": iso_utc(result.challenge_ts),
        "hostname": result.hostname,
        "error-codes": [],
        "action": result.action,
        "cdata": result.cdata,
    }
    if result.score is not None:
        answer["score"] = result.score
        if reasons:
            answer["score_reasons"] = list(result.reasons)
    if sitekey:
        answer["sitekey"] = sitekey
    return answer


def recaptcha_json(result: VerifyResult, *, scored: bool) -> dict[str, Any]:
    """reCAPTCHA's answer: v3's `score` and `action` for a score-mode unit, v2's for others
    (a v2 library refuses an answer that carries a score)."""
    if not result.success:
        return {"success": False, "error-codes": list(result.error_codes)}
    answer: dict[str, Any] = {
        "success": True,
        "challenge_ts": iso_utc(result.challenge_ts),
        "hostname": result.hostname,
        "error-codes": [],
    }
    if scored:
        answer["score"] = 0.0 if result.score is None else result.score
        answer["action"] = result.action
    return answer


def turnstile_json(result: VerifyResult) -> dict[str, Any]:
    """Turnstile's answer: `messages` always, `action`, `cdata` and `metadata` on success."""
    if not result.success:
        return {"success": False, "error-codes": list(result.error_codes), "messages": []}
    return {
        "success": True,
        "challenge_ts": iso_utc(result.challenge_ts),
        "hostname": result.hostname,
        "error-codes": [],
        "action": result.action,
        "cdata": result.cdata,
        "metadata": {},
        "messages": [],
    }


def answer_json(dialect: Dialect, verdict: Verdict, *, reasons: bool = True) -> dict[str, Any]:
    if dialect == "recaptcha":
        return recaptcha_json(verdict.result, scored=verdict.scored)
    if dialect == "turnstile":
        return turnstile_json(verdict.result)
    return siteverify_json(verdict.result, verdict.sitekey, reasons=reasons)


async def _siteverify(request: Request) -> JSONResponse:
    services = get_services(request)
    dialect = DIALECTS.get(request.scope["path"], "humangate")
    try:
        fields = await read_fields(request)
    except BadSiteverify:
        count_siteverify(("bad-request",))
        return JSONResponse(answer_json(dialect, Verdict(VerifyResult.failure("bad-request"))))
    verdict = await verdict_of(
        fields,
        directory=services.directory,
        verifier=services.verifier,
        test_keys=services.settings.test_keys,
        fail_open=services.settings.fail_open_sitekeys,
    )
    count_siteverify(verdict.result.error_codes)
    reasons = True
    if dialect == "humangate" and verdict.unit is not None and verdict.result.score is not None:
        reasons = (await services.editions.of_account(verdict.unit.account_id)).score_reasons
    return JSONResponse(answer_json(dialect, verdict, reasons=reasons))


def _answer_schema(**success_fields: dict[str, Any]) -> dict[str, Any]:
    """A dialect's answer: `success` and `error-codes` always, the rest on success only."""
    return {
        "type": "object",
        "required": ["success", "error-codes"],
        "additionalProperties": False,
        "properties": {
            "success": {"type": "boolean"},
            "error-codes": {"type": "array", "items": {"type": "string"}},
            "challenge_ts": {"type": "string", "format": "date-time"},
            "hostname": {"type": "string"},
            **success_fields,
        },
    }


_TEXT = {"type": "string"}
_SCORE = {"type": "number", "minimum": 0, "maximum": 1}
_ANSWERS: dict[Dialect, dict[str, Any]] = {
    "humangate": _answer_schema(
        action=_TEXT,
        cdata=_TEXT,
        score=_SCORE,
        score_reasons={"type": "array", "items": _TEXT},
        sitekey=_TEXT,
    ),
    "recaptcha": _answer_schema(score=_SCORE, action=_TEXT),
    "turnstile": _answer_schema(
        action=_TEXT,
        cdata=_TEXT,
        metadata={"type": "object"},
        messages={"type": "array", "items": _TEXT},
    ),
}
_REQUEST = {
    "type": "object",
    "required": ["secret", "response"],
    "properties": {name: {"type": "string", "maxLength": limit} for name, limit in _LIMITS.items()},
}
_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            media: {"schema": _REQUEST}
            for media in (
                "application/x-www-form-urlencoded",
                "application/json",
                "multipart/form-data",
            )
        },
    }
}
_VERDICT = (
    "A verdict, always HTTP 200 as the vendors answer: `success`, or `error-codes` saying why "
    "(the token's, and also a missing or wrong secret, a missing response, `bad-request`)"
)

for path, dialect in DIALECTS.items():
    router.add_api_route(
        path,
        _siteverify,
        methods=["POST"],
        summary=f"Verify a pass token ({path})",
        openapi_extra=_DOC,
        response_class=JSONResponse,
        responses={
            200: {
                "description": _VERDICT,
                "content": {"application/json": {"schema": _ANSWERS[dialect]}},
            },
            **error_responses(413, 503),
        },
    )
