"""CSRF tokens for the console's forms: an HMAC of the server key over what the browser holds.

A token is bound to the session cookie, or before login to the device cookie (minted for this
response if the browser has none), so a form from another site cannot carry a valid one.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData

from humangate.accounts.sessions import new_token
from humangate.api.deps import get_services
from humangate.console._cookies import DEVICE_COOKIE, SESSION_COOKIE, read_cookie
from humangate.console._i18n import N_
from humangate.errors import AccessDenied


def _csrf_binding(request: Request) -> str | None:
    """What a CSRF token is bound to: the session cookie, else the device cookie."""
    session = read_cookie(request, SESSION_COOKIE)
    if session:
        return "s:" + session
    device = getattr(request.state, "new_device", None) or read_cookie(request, DEVICE_COOKIE)
    return "d:" + device if device else None


def _sign(request: Request, binding: str) -> str:
    key = get_services(request).key
    return hmac.new(key, b"console-csrf:" + binding.encode(), hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    """The token for this browser's forms; mints a device cookie first if it has none."""
    binding = _csrf_binding(request)
    if binding is None:
        request.state.new_device = new_token()
        binding = "d:" + request.state.new_device
    return _sign(request, binding)


async def csrf_form(request: Request) -> FormData:
    """The POSTed form, once its `csrf` field matches this browser's token.

    Raises:
        AccessDenied: when the field is missing or wrong (a 403 page); nothing was done yet.
    """
    form = await request.form()
    sent = form.get("csrf")
    binding = _csrf_binding(request)
    if not isinstance(sent, str) or binding is None:
        raise AccessDenied(FORM_EXPIRED)
    if not hmac.compare_digest(sent.encode(), _sign(request, binding).encode()):
        raise AccessDenied(FORM_EXPIRED)
    return form


CsrfForm = Annotated[FormData, Depends(csrf_form)]
FORM_EXPIRED = N_("The form has expired or your browser did not send its cookies.")
