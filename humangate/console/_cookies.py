"""The console's cookies: the session, the device, and the flags every one of them carries.

All are HttpOnly and SameSite=Lax under /console, and Secure in production or behind an https
public URL. A cookie value longer than MAX_COOKIE is read as no cookie at all.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from humangate.api.deps import get_services

SESSION_COOKIE = "hg_session"
DEVICE_COOKIE = "hg_device"
COOKIE_PATH = "/console"
DEVICE_MAX_AGE = 400 * 24 * 3600  # the longest lifetime browsers keep (Chrome caps at 400 days)
MAX_COOKIE = 128


def read_cookie(request: Request, name: str) -> str | None:
    """The cookie's value, or None if it is missing, empty or too long."""
    value = request.cookies.get(name)
    return value if value and len(value) <= MAX_COOKIE else None


def secure_cookies(request: Request) -> bool:
    """Cookies are Secure in production and whenever the public URL is https."""
    settings = get_services(request).settings
    return bool(settings.environment == "production" or settings.public_url.startswith("https://"))


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        path=COOKIE_PATH,
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        path=COOKIE_PATH,
    )


def set_device_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        DEVICE_COOKIE,
        token,
        max_age=DEVICE_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
        path=COOKIE_PATH,
    )


def set_login_cookies(
    request: Request, response: Response, *, session_token: str, device_token: str
) -> None:
    """The new session's cookie and the device's, once a login succeeded."""
    set_session_cookie(request, response, session_token)
    set_device_cookie(request, response, device_token)
