"""The page for browsers without JavaScript: /challenge?sitekey=… (as reCAPTCHA's fallback).

A site's embed snippet links here from a `<noscript>`. The page shows a text challenge (the one
kind a plain form answers) with an audio alternative, posts the answer back to itself and, on a
pass, shows the token for the visitor to paste into the site's form. No proof of work can be
asked of such a browser, so the loop raises the challenge and counts it in the keyboard path's
network window instead (loop.issue.issue_noscript). The site's host name comes from the link's
Referer and is carried by the form, checked against the unit's domains each time.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from humangate.api.assets import compress_page
from humangate.api.deps import Client, ClientDep, PageHostname, ServicesDep
from humangate.api.site import templates
from humangate.errors import AccessDenied, Expired, InvalidInput, RateLimited, Refusal, StorageError
from humangate.http_errors import status_of
from humangate.loop import Issued, Verifier, Visitor
from humangate.services import Services
from humangate.units import UnitView, hostname_allowed

router = APIRouter(include_in_schema=False)

CHALLENGE_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
SITEKEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
HOSTNAME = re.compile(r"^[a-z0-9.-]{1,253}$")
ACTION = re.compile(r"^[A-Za-z0-9_.-]{0,32}$")
MAX_ANSWER = 32

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Verify that you are a person",
        "intro": "Your browser runs no JavaScript, so this page checks you instead.",
        "see": "Type the characters you see in the picture",
        "image": "Distorted characters to type. Use the audio challenge if you cannot see them.",
        "hear": "Type the digits you hear",
        "verify": "Verify",
        "listen": "Listen instead",
        "look": "Show a picture instead",
        "failed": "That did not work. Here is a new challenge.",
        "expired": "That challenge expired. Here is a new one.",
        "passed": "Verified.",
        "copy": "Copy this code, go back to the page that sent you here and paste it into the "
        "box under the link you followed, then send that page's form.",
        "code": "Your verification code",
        "valid": "It works once, within {minutes} minutes.",
        "refused": "This verification cannot be shown here.",
        "busy": "Too many attempts from your network. Try again later.",
        "down": "The verification service is unavailable. Try again in a moment.",
        "error": "Error code",
    },
    "zh": {
        "title": "验证您是真人",
        "intro": "您的浏览器未运行 JavaScript，因此由本页面来完成验证。",
        "see": "请输入图片中的字符",
        "image": "需要输入的变形字符。如果看不清，请使用语音验证。",
        "hear": "请输入您听到的数字",
        "verify": "验证",
        "listen": "改用语音",
        "look": "改用图片",
        "failed": "验证未通过。请完成新的验证。",
        "expired": "验证已过期。请完成新的验证。",
        "passed": "验证成功。",
        "copy": "请复制此验证码，返回将您带到这里的页面，粘贴到您点击的链接下方的输入框中，"
        "然后提交该页面的表单。",
        "code": "您的验证码",
        "valid": "仅可使用一次，{minutes} 分钟内有效。",
        "refused": "无法在此显示验证。",
        "busy": "您所在网络的尝试次数过多。请稍后再试。",
        "down": "验证服务暂时不可用。请稍后再试。",
        "error": "错误代码",
    },
}


def _lang(request: Request, chosen: str) -> str:
    """`hl` when given, else the browser's first language: Simplified Chinese or English."""
    wanted = chosen or request.headers.get("accept-language", "").split(",")[0]
    return "zh" if wanted.strip().lower().startswith("zh") else "en"


def _visitor(client: Client, hostname: str, lang: str) -> Visitor:
    return Visitor(
        ip_prefix=client.prefix,
        hostname=hostname,
        lang=lang,
        ip=client.ip,
        user_agent=client.user_agent,
        accept_language=client.accept_language,
    )


async def _unit(services: Services, sitekey: str, hostname: str | None) -> UnitView:
    unit = await services.directory.by_sitekey(sitekey) if SITEKEY.match(sitekey) else None
    if unit is None:
        raise InvalidInput("No verification unit has this site key.", code="invalid-sitekey")
    if unit.disabled:
        raise AccessDenied("This verification unit is disabled.", code="sitekey-disabled")
    if not hostname_allowed(unit, hostname):
        raise AccessDenied(
            "The page's origin is not one of this unit's allowed domains.", code="invalid-origin"
        )
    return unit


def _page(request: Request, lang: str, status: int = 200, **context: Any) -> Response:
    text = STRINGS[lang]
    page = templates.TemplateResponse(
        request,
        "noscript.html",
        {"t": text, "lang_tag": "zh-CN" if lang == "zh" else "en", "hl": lang, **context},
        status_code=status,
    )
    page.headers["Cache-Control"] = "no-store"
    page.headers["Referrer-Policy"] = "no-referrer"
    return compress_page(request, page)


def _challenge_page(
    request: Request,
    lang: str,
    issued: Issued,
    *,
    sitekey: str,
    hostname: str,
    action: str,
    notice: str = "",
) -> Response:
    return _page(
        request,
        lang,
        challenge={"id": issued.id, "kind": issued.kind, **issued.payload},
        sitekey=sitekey,
        host=hostname,
        action=action,
        notice=notice,
    )


def _refused_page(request: Request, lang: str, refusal: Refusal | StorageError) -> Response:
    if isinstance(refusal, StorageError):
        return _page(request, lang, 503, problem=STRINGS[lang]["down"], code="unavailable")
    key = "busy" if isinstance(refusal, RateLimited) else "refused"
    page = _page(request, lang, status_of(refusal), problem=STRINGS[lang][key], code=refusal.code)
    if isinstance(refusal, RateLimited) and refusal.retry_after:
        page.headers["Retry-After"] = str(refusal.retry_after)
    return page


async def _issue(
    verifier: Verifier, unit: UnitView, client: Client, hostname: str, lang: str, action: str
) -> Issued:
    return await verifier.issue_noscript(unit, _visitor(client, hostname, lang), action=action)


@router.get("/challenge")
async def challenge_page(
    request: Request,
    services: ServicesDep,
    client: ClientDep,
    hostname: PageHostname,
    sitekey: str = "",
    action: str = "",
    hl: str = "",
) -> Response:
    """A text challenge for the site that linked here (its host from the Referer)."""
    lang = _lang(request, hl)
    try:
        if not ACTION.match(action):
            raise InvalidInput("The action is not valid.")
        unit = await _unit(services, sitekey, hostname)
        assert hostname is not None  # _unit refuses a request without one
        issued = await _issue(services.verifier, unit, client, hostname, lang, action)
    except (Refusal, StorageError) as refusal:
        return _refused_page(request, lang, refusal)
    return _challenge_page(
        request, lang, issued, sitekey=unit.sitekey, hostname=hostname, action=action
    )


@router.post("/challenge")
async def answer_page(request: Request, services: ServicesDep, client: ClientDep) -> Response:
    """Check the answer: the token on a pass, else one neutral message and a new challenge.

    `do=audio` trades the text challenge for an audio one instead of answering it."""
    form = await request.form()
    fields = {name: value for name, value in form.items() if isinstance(value, str)}
    lang = _lang(request, fields.get("hl", ""))
    verifier = services.verifier
    try:
        challenge_id, answer = fields.get("challenge", ""), fields.get("answer", "")
        sitekey, host = fields.get("sitekey", ""), fields.get("host", "")
        action = fields.get("action", "")
        if not (
            CHALLENGE_ID.match(challenge_id)
            and HOSTNAME.match(host)
            and ACTION.match(action)
            and len(answer) <= MAX_ANSWER
        ):
            raise InvalidInput("The form is not valid.")
        state = await verifier.peek(challenge_id)
        if state is not None and not (state.noscript and state.sitekey == sitekey):
            raise InvalidInput("This challenge was not issued to this page.")
        unit = await _unit(services, sitekey, state.hostname if state else host)
        hostname = state.hostname if state else host
        if state is None:
            issued = await _issue(verifier, unit, client, hostname, lang, action)
            return _challenge_page(
                request, lang, issued, sitekey=sitekey, hostname=hostname, action=action,
                notice=STRINGS[lang]["expired"],
            )  # fmt: skip
        visitor = _visitor(client, hostname, lang)
        if fields.get("do") == "audio" and state.kind == "text":
            issued = await verifier.switch_to_audio(unit, challenge_id, visitor)
            return _challenge_page(
                request, lang, issued, sitekey=sitekey, hostname=hostname, action=state.action
            )
        if fields.get("do") == "text" and state.kind == "audio":
            issued = await _issue(verifier, unit, client, hostname, lang, state.action)
            return _challenge_page(
                request, lang, issued, sitekey=sitekey, hostname=hostname, action=state.action
            )
        try:
            answered = await verifier.answer(
                unit, challenge_id, visitor, pow_number=None, answer=answer, trajectory=None
            )
        except Expired:  # sent twice, or it ran out between the two reads
            issued = await _issue(verifier, unit, client, hostname, lang, state.action)
            return _challenge_page(
                request, lang, issued, sitekey=sitekey, hostname=hostname, action=state.action,
                notice=STRINGS[lang]["expired"],
            )  # fmt: skip
        if answered.success:
            minutes = max(1, services.verifier.context.policy.token_ttl // 60)
            return _page(request, lang, token=answered.token, minutes=minutes)
        issued = await _issue(verifier, unit, client, hostname, lang, state.action)
    except (Refusal, StorageError) as refusal:
        return _refused_page(request, lang, refusal)
    return _challenge_page(
        request, lang, issued, sitekey=sitekey, hostname=hostname, action=state.action,
        notice=STRINGS[lang]["failed"],
    )  # fmt: skip
