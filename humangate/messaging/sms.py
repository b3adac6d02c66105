"""SMS through a provider's HTTP API: one configurable adapter instead of one module per provider.

Most SMS providers take one HTTP request per message: a URL, some authentication and a JSON or
form body naming the number and the text. `HttpSmsGateway` is that request, configured by
HUMANGATE_SMS_* settings. The body template is parsed once, at startup, and the placeholders
`{to}`, `{text}` and `{from}` are substituted inside the parsed structure, so the body stays
valid JSON (or a valid form) whatever the text holds: quotes, newlines, braces, emoji, CJK.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args
from urllib.parse import parse_qsl, urlencode

import httpx

from humangate.errors import ConfigError
from humangate.messaging.base import DeliveryError, SmsMessage

log = logging.getLogger(__name__)

SmsAuth = Literal["none", "basic", "bearer", "header"]
BodyFormat = Literal["json", "form"]
HttpMethod = Literal["POST", "PUT", "PATCH", "GET"]

PLACEHOLDERS = ("to", "text", "from")
DEFAULT_JSON_TEMPLATE = '{"to": "{to}", "text": "{text}", "from": "{from}"}'
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in [key, *_strings(value)]]
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    return []


def _fill(text: str, values: Mapping[str, str]) -> str:
    # One pass: a `{to}` inside the message text is text, not a placeholder.
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


def _fill_json(node: Any, values: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return _fill(node, values)
    if isinstance(node, dict):
        return {_fill(key, values): _fill_json(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [_fill_json(item, values) for item in node]
    return node


class BodyTemplate:
    """A request body with placeholders, parsed once; `render` cannot produce a broken body.

    JSON: a JSON document whose strings may contain placeholders (`{"to": "{to}"}`); values are
    inserted into the parsed strings and the document is serialised again. Form: a query string
    (`to={to}&body={text}`); values are inserted into the decoded pairs, then encoded again.

    Raises:
        ConfigError: the template does not parse, uses an unknown placeholder, or lacks `{to}`
            or `{text}`.
    """

    def __init__(self, template: str, body_format: BodyFormat) -> None:
        self.format = body_format
        try:
            if body_format == "json":
                self._json: Any = json.loads(template)
                strings = _strings(self._json)
            else:
                self._pairs = parse_qsl(template, keep_blank_values=True, strict_parsing=True)
                strings = [s for pair in self._pairs for s in pair]
        except ValueError as exc:
            raise ConfigError(
                f"HUMANGATE_SMS_BODY_TEMPLATE is not a valid {body_format} body ({exc}); "
                'placeholders go inside strings, as in {"to": "{to}"}.'
            ) from None
        used = {name for s in strings for name in _PLACEHOLDER.findall(s)}
        unknown = used - set(PLACEHOLDERS)
        if unknown or not {"to", "text"} <= used:
            raise ConfigError(
                "HUMANGATE_SMS_BODY_TEMPLATE must use {to} and {text}, and may use {from}; "
                f"it uses {sorted(used)}."
            )

    def render_json(self, values: Mapping[str, str]) -> bytes:
        return json.dumps(_fill_json(self._json, values), ensure_ascii=False).encode("utf-8")

    def render_pairs(self, values: Mapping[str, str]) -> list[tuple[str, str]]:
        return [(_fill(key, values), _fill(value, values)) for key, value in self._pairs]


@dataclass(frozen=True, slots=True)
class HttpSmsConfig:
    """How to call the provider. Secrets (`password`, `token`, the URL) are hidden from repr.

    `auth`: none; basic (`username`, `password`); bearer (`token`); header (`auth_header: token`,
    for providers that want an API-key header). `message_id_path`: where the provider's id sits in
    its JSON reply, dotted (`messages.0.id`, `$.` optional); empty: a local id is returned.

    Raises:
        ConfigError: a required value is missing or malformed.
    """

    url: str = field(repr=False)
    body: BodyTemplate = field(repr=False)
    method: HttpMethod = "POST"
    auth: SmsAuth = "none"
    username: str = ""
    password: str = field(default="", repr=False)
    token: str = field(default="", repr=False)
    auth_header: str = ""
    sender: str = ""
    message_id_path: str = ""
    timeout: float = 10.0

    def __post_init__(self) -> None:
        try:
            url = httpx.URL(self.url)
        except httpx.InvalidURL:
            raise ConfigError("HUMANGATE_SMS_URL is not a valid URL.") from None
        if url.scheme not in {"http", "https"} or not url.host:
            raise ConfigError("HUMANGATE_SMS_URL must be an http:// or https:// URL with a host.")
        if self.method not in get_args(HttpMethod) or self.auth not in get_args(SmsAuth):
            raise ConfigError("HUMANGATE_SMS_METHOD or HUMANGATE_SMS_AUTH has an unknown value.")
        if self.method == "GET" and self.body.format != "form":
            raise ConfigError("HUMANGATE_SMS_METHOD=GET sends the template as a query: use form.")
        needs = {"basic": ("username",), "bearer": ("token",), "header": ("auth_header", "token")}
        for name in needs.get(self.auth, ()):
            if not getattr(self, name):
                raise ConfigError(
                    f"HUMANGATE_SMS_AUTH={self.auth} needs HUMANGATE_SMS_{name.upper()}."
                )
        if self.auth == "header" and not _HEADER_NAME.fullmatch(self.auth_header):
            raise ConfigError("HUMANGATE_SMS_AUTH_HEADER must be an HTTP header name.")
        if any(c in value for value in (self.username, self.password, self.token) for c in "\r\n"):
            raise ConfigError("The HUMANGATE_SMS_* credentials must not contain line breaks.")

    @property
    def origin(self) -> str:
        """`scheme://host:port`, the only part of the URL that errors and logs may show."""
        url = httpx.URL(self.url)
        port = f":{url.port}" if url.port else ""
        host = f"[{url.host}]" if ":" in url.host else url.host
        return f"{url.scheme}://{host}{port}"


def _dig(data: Any, path: str) -> Any:
    for step in path.removeprefix("$.").split("."):
        if isinstance(data, dict):
            data = data.get(step)
        elif isinstance(data, list) and step.isdigit() and int(step) < len(data):
            data = data[int(step)]
        else:
            return None
    return data


def _refusal(status: int) -> tuple[str, bool]:
    if 300 <= status < 400:
        return f"it answered with a redirect (HTTP {status}); configure the final URL", False
    if status in {401, 403}:
        return f"it refused our credentials (HTTP {status})", False
    if status in {408, 429}:
        return f"it asked us to try later (HTTP {status})", True
    if 400 <= status < 500:
        return f"it refused the request (HTTP {status})", False
    return f"it failed (HTTP {status})", True


class _HideGatewayUrls(logging.Filter):
    """httpx logs each request's full URL at INFO; a provider's URL may carry an API key.

    The key may sit in the query, the user info or even the path (`/bot<token>/send`), so the
    filter, installed once on the `httpx` logger, shows configured gateways' URLs as their origin
    only, and leaves every other record alone.
    """

    def __init__(self) -> None:
        super().__init__()
        self.endpoints: set[tuple[str, int | None, str]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(self._hide(arg) for arg in record.args)
        return True

    def _hide(self, arg: object) -> object:
        if isinstance(arg, httpx.URL) and (arg.host, arg.port, arg.path) in self.endpoints:
            return f"{arg.scheme}://{arg.netloc.decode('ascii').rpartition('@')[2]}/[hidden]"
        return arg


_hide_urls = _HideGatewayUrls()
logging.getLogger("httpx").addFilter(_hide_urls)


class HttpSmsGateway:
    """Sends each SMS as one HTTP request to the provider; 2xx means accepted.

    Without an injected `client`, each message gets a short-lived client: no connection state
    survives between event loops, and SMS volume is low. Pass a shared `httpx.AsyncClient` to
    reuse connections (its timeout and redirect settings are then the caller's). Redirects are
    not followed, so credentials never travel to a host the operator did not name.
    """

    def __init__(self, config: HttpSmsConfig, *, client: httpx.AsyncClient | None = None) -> None:
        self._config = config
        self._client = client
        url = httpx.URL(config.url)
        _hide_urls.endpoints.add((url.host, url.port, url.path))

    def __repr__(self) -> str:
        return f"HttpSmsGateway({self._config.origin}, auth={self._config.auth})"

    def _request(self, message: SmsMessage) -> dict[str, Any]:
        config = self._config
        values = {"to": message.to, "text": message.text, "from": config.sender}
        headers = {"Accept": "application/json"}
        if config.auth == "bearer":
            headers["Authorization"] = f"Bearer {config.token}"
        elif config.auth == "header":
            headers[config.auth_header] = config.token
        request: dict[str, Any] = {"method": config.method, "url": config.url, "headers": headers}
        if config.auth == "basic":
            request["auth"] = httpx.BasicAuth(config.username, config.password)
        if config.method == "GET":
            pairs = config.body.render_pairs(values)
            request["url"] = httpx.URL(config.url).copy_merge_params(tuple(pairs))
        elif config.body.format == "form":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            request["content"] = urlencode(config.body.render_pairs(values)).encode("ascii")
        else:
            headers["Content-Type"] = "application/json"
            request["content"] = config.body.render_json(values)
        return request

    async def _post(self, request: dict[str, Any]) -> httpx.Response:
        timeout = self._config.timeout
        # httpx's timeout is per phase; the outer one bounds a provider that trickles bytes.
        async with asyncio.timeout(timeout):
            if self._client is not None:
                return await self._client.request(**request)
            async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
                return await client.request(**request)

    def _error(self, what: str, *, temporary: bool, status: int | None = None) -> DeliveryError:
        error = DeliveryError(
            f"SMS through the gateway {self._config.origin} failed: {what}.",
            channel="sms",
            temporary=temporary,
            status=status,
        )
        log.warning("%s", error)
        return error

    async def send(self, message: SmsMessage) -> str:
        """Send one SMS; return the provider's message id (or a local one, see below).

        Raises:
            DeliveryError: the gateway was unreachable, too slow, or answered other than 2xx.
                Its text never holds the URL's path or query, credentials or the reply body.
        """
        try:
            response = await self._post(self._request(message))
        except (TimeoutError, httpx.TimeoutException):
            raise self._error(
                f"no answer within {self._config.timeout:g} s", temporary=True
            ) from None
        except httpx.ConnectError:
            raise self._error("could not connect", temporary=True) from None
        except httpx.HTTPError as exc:
            what = f"the request failed ({type(exc).__name__})"
            raise self._error(what, temporary=True) from None
        if not response.is_success:
            what, temporary = _refusal(response.status_code)
            raise self._error(what, temporary=temporary, status=response.status_code)
        return self._message_id(response)

    def _message_id(self, response: httpx.Response) -> str:
        """The provider's id, or a local one when none is configured or found.

        A missing id is logged, not raised: the provider accepted the message, and an error
        would make the caller send it (and charge for it) twice.
        """
        local = f"local-{uuid.uuid4().hex}"
        if not self._config.message_id_path:
            return local
        try:
            found = _dig(response.json(), self._config.message_id_path)
        except ValueError:
            found = None
        if isinstance(found, str | int) and not isinstance(found, bool) and str(found):
            return str(found)
        log.warning(
            "The SMS gateway %s accepted a message but its reply has no id at %s; using %s.",
            self._config.origin,
            self._config.message_id_path,
            local,
        )
        return local
