"""The console pages' way to send the account core's messages: `deliver` with the app's
channels and the page's language."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import Request

from humangate.accounts import Outgoing
from humangate.accounts.delivery import deliver
from humangate.api.deps import get_services


async def send(
    request: Request, outgoing: Iterable[Outgoing], *, language: str | None = None
) -> bool:
    """Render and deliver messages through the app's channels; False if any failed.

    `language` is the account's; without one (before login) the browser's is used. Failures
    are logged and never shown differently to the visitor, so that delivery says nothing about
    whether an account exists.
    """
    services = get_services(request)
    locale = language or request.headers.get("accept-language", "")[:35].split(",")[0]
    return await deliver(services.message_templates, services.channels, outgoing, locale)
