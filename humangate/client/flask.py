"""Flask: `HumanGate(app)` verifies the posted token; `@humangate.required` guards a view.

Config: HUMANGATE_URL, HUMANGATE_SITEKEY, HUMANGATE_SECRET; optional HUMANGATE_ON_UNREACHABLE
("closed" or "open"), HUMANGATE_TIMEOUT (seconds), HUMANGATE_RETRIES. Templates get
`humangate_widget(action=None)`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, overload

from flask import Flask, abort, current_app, g, request
from markupsafe import Markup, escape

from humangate.client._result import RESPONSE_FIELD, Verification
from humangate.client._sync import Client

_EXTENSION = "humangate"
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

View = TypeVar("View", bound=Callable[..., Any])


class HumanGate:
    def __init__(self, app: Flask | None = None) -> None:
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        config = app.config
        app.extensions[_EXTENSION] = Client(
            config["HUMANGATE_URL"],
            config["HUMANGATE_SECRET"],
            sitekey=config.get("HUMANGATE_SITEKEY"),
            timeout=float(config.get("HUMANGATE_TIMEOUT", 3.0)),
            on_unreachable=str(config.get("HUMANGATE_ON_UNREACHABLE", "closed")),
            retries=int(config.get("HUMANGATE_RETRIES", 2)),
        )
        app.jinja_env.globals["humangate_widget"] = widget_html

    @property
    def client(self) -> Client:
        client: Client = current_app.extensions[_EXTENSION]
        return client

    def verify(self, *, action: str | None = None) -> Verification:
        """The verdict on the current request's `humangate-response` (form field, or a JSON
        body's key), sent with the peer's address."""
        token = request.form.get(RESPONSE_FIELD)
        if token is None and request.is_json:
            body = request.get_json(silent=True)
            value = body.get(RESPONSE_FIELD) if isinstance(body, dict) else None
            token = value if isinstance(value, str) else None
        return self.client.verify(token, remote_ip=request.remote_addr, expected_action=action)

    @overload
    def required(self, view: View) -> View: ...
    @overload
    def required(self, *, action: str | None = None) -> Callable[[View], View]: ...
    def required(
        self, view: View | None = None, *, action: str | None = None
    ) -> View | Callable[[View], View]:
        """POST, PUT, PATCH and DELETE run only with a verified token (403 otherwise); GET and
        HEAD pass, so one view can draw the form. The verdict is `flask.g.humangate`."""

        def decorate(inner: View) -> View:
            @functools.wraps(inner)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                if request.method in _UNSAFE_METHODS:
                    verification = self.verify(action=action)
                    if not verification.success:
                        abort(403)
                    g.humangate = verification
                return inner(*args, **kwargs)

            return wrapper  # type: ignore[return-value]

        return decorate(view) if view is not None else decorate


def widget_html(action: str | None = None) -> Markup:
    """The widget's container and script tag for a form."""
    config = current_app.config
    action_attr = Markup(' data-action="{}"').format(action) if action else Markup("")
    return Markup(
        '<div class="humangate" data-sitekey="{}"{}></div>'
        '<script src="{}/humangate.js" async defer></script>'
    ).format(
        escape(config["HUMANGATE_SITEKEY"]),
        action_attr,
        str(config["HUMANGATE_URL"]).rstrip("/"),
    )
