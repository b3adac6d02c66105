"""Django: a form field that renders the widget and verifies its token, and a view decorator.

Settings: HUMANGATE_URL, HUMANGATE_SITEKEY, HUMANGATE_SECRET; optional HUMANGATE_ON_UNREACHABLE
("closed" or "open"), HUMANGATE_TIMEOUT (seconds), HUMANGATE_RETRIES.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, overload

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.utils.html import format_html

from humangate.client._result import RESPONSE_FIELD, Verification
from humangate.client._sync import Client

FAILED_MESSAGE = "Please complete the human check again."
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

View = TypeVar("View", bound=Callable[..., HttpResponse])
_CLIENTS: dict[tuple[str, str, str | None, float, str, int], Client] = {}


def get_client() -> Client:
    """The client of the current settings; one per distinct configuration, kept for reuse."""
    config = (
        str(settings.HUMANGATE_URL),
        str(settings.HUMANGATE_SECRET),
        getattr(settings, "HUMANGATE_SITEKEY", None),
        float(getattr(settings, "HUMANGATE_TIMEOUT", 3.0)),
        str(getattr(settings, "HUMANGATE_ON_UNREACHABLE", "closed")),
        int(getattr(settings, "HUMANGATE_RETRIES", 2)),
    )
    client = _CLIENTS.get(config)
    if client is None:
        url, secret, sitekey, timeout, on_unreachable, retries = config
        client = _CLIENTS[config] = Client(
            url,
            secret,
            sitekey=sitekey,
            timeout=timeout,
            on_unreachable=on_unreachable,
            retries=retries,
        )
    return client


def close_clients() -> None:
    """Close the kept clients' connections (at shutdown, or after changing the settings)."""
    while _CLIENTS:
        _CLIENTS.popitem()[1].close()


def client_ip(request: HttpRequest) -> str | None:
    """The peer address Django saw; behind a proxy, set it from the proxy's header first."""
    address = request.META.get("REMOTE_ADDR")
    return address if isinstance(address, str) and address else None


class HumanGateWidget(forms.Widget):  # type: ignore[misc]
    """The widget's container and script; the widget fills `humangate-response` itself."""

    def __init__(self, *, action: str | None = None, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.action = action

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> str:
        base = settings.HUMANGATE_URL.rstrip("/")
        action = format_html(' data-action="{}"', self.action) if self.action else ""
        return str(
            format_html(
                '<div class="humangate" data-sitekey="{}"{}></div>'
                '<script src="{}/humangate.js" async defer></script>',
                settings.HUMANGATE_SITEKEY,
                action,
                base,
            )
        )

    def value_from_datadict(self, data: Mapping[str, Any], files: Any, name: str) -> str | None:
        value = data.get(RESPONSE_FIELD)
        return value if isinstance(value, str) else None

    def value_omitted_from_data(self, data: Mapping[str, Any], files: Any, name: str) -> bool:
        return RESPONSE_FIELD not in data


class HumanGateField(forms.Field):  # type: ignore[misc]
    """Cleans to the `Verification` of the posted token, or fails with one message that does
    not say why (the reason is in the Verification's error codes, for logs only).

    Set `remote_ip` (e.g. `form.fields["human"].remote_ip = client_ip(request)`, or build the
    form with `HumanGateFormMixin` and `request=`) to send the visitor's address along."""

    widget = HumanGateWidget
    default_error_messages = {"required": FAILED_MESSAGE, "failed": FAILED_MESSAGE}

    def __init__(self, *, action: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("label", "")
        kwargs.setdefault("widget", HumanGateWidget(action=action))
        super().__init__(**kwargs)
        self.expected_action = action
        self.remote_ip: str | None = None

    def clean(self, value: Any) -> Verification:
        token = value if isinstance(value, str) else ""
        if not token:
            raise ValidationError(self.error_messages["required"], code="required")
        verification = get_client().verify(
            token, remote_ip=self.remote_ip, expected_action=self.expected_action
        )
        if not verification.success:
            raise ValidationError(self.error_messages["failed"], code="humangate")
        return verification


class HumanGateFormMixin:
    """For a form holding a HumanGateField: `MyForm(request.POST, request=request)` sends the
    visitor's address with the token."""

    fields: dict[str, Any]

    def __init__(self, *args: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if request is not None:
            for field in self.fields.values():
                if isinstance(field, HumanGateField):
                    field.remote_ip = client_ip(request)


@overload
def require_humangate(view: View) -> View: ...
@overload
def require_humangate(*, action: str | None = None) -> Callable[[View], View]: ...
def require_humangate(
    view: View | None = None, *, action: str | None = None
) -> View | Callable[[View], View]:
    """A view that changes something (POST, PUT, PATCH, DELETE) runs only with a verified
    `humangate-response` in its POST data (403 otherwise); GET and HEAD pass through, so the
    same view can draw the form. The verdict is `request.humangate`."""

    def decorate(inner: View) -> View:
        @functools.wraps(inner)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method in _UNSAFE_METHODS:
                verification = get_client().verify(
                    request.POST.get(RESPONSE_FIELD),
                    remote_ip=client_ip(request),
                    expected_action=action,
                )
                if not verification.success:
                    return HttpResponseForbidden(FAILED_MESSAGE)
                request.humangate = verification
            return inner(request, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate(view) if view is not None else decorate
