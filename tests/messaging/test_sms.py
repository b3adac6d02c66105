"""The HTTP SMS gateway against a real local HTTP server: auth, body templates, every failure."""

from __future__ import annotations

import base64
import json
import logging
import time
import traceback
from typing import Any
from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from humangate.errors import ConfigError, InvalidInput
from humangate.messaging import (
    BodyTemplate,
    DeliveryError,
    HttpSmsConfig,
    HttpSmsGateway,
    SmsMessage,
)
from tests.messaging._gateway import REPLY_MARKER, Gateway

TOKEN = "tok-5ecret-bearer"
API_KEY = "key-5ecret-query"
NASTY = 'He said "hi"\\ \n\ttab {to} {text} }{ 验证码 123456 🔐 </script> & = + % \u2028'
JSON_TEMPLATE = '{"msg": {"to": ["{to}"], "body": "Code: {text}", "sender": "{from}", "n": 1}}'


def _gateway(gateway: Gateway, path: str = "/send", **overrides: Any) -> HttpSmsGateway:
    values: dict[str, Any] = {
        "url": gateway.url + path,
        "body": BodyTemplate(JSON_TEMPLATE, "json"),
        "auth": "bearer",
        "token": TOKEN,
        "sender": "HumanGate",
        "message_id_path": "$.messages.0.id",
        "timeout": 5.0,
    }
    values.update(overrides)
    return HttpSmsGateway(HttpSmsConfig(**values))


def _assert_secret_free(error: DeliveryError, caplog: pytest.LogCaptureFixture) -> None:
    # The original exception (which may quote the reply) is neither chained nor shown.
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__
    shown = "".join(traceback.format_exception_only(error)) + repr(error) + caplog.text
    for secret in (TOKEN, API_KEY, REPLY_MARKER, "/status", "/send", "/slow"):
        assert secret not in shown, secret


# --- body templates (pure) ----------------------------------------------------------------------


def test_json_template_stays_json_whatever_the_text() -> None:
    body = BodyTemplate(JSON_TEMPLATE, "json")
    rendered = body.render_json({"to": "+8613800138000", "text": NASTY, "from": 'A"B'})
    assert json.loads(rendered) == {
        "msg": {"to": ["+8613800138000"], "body": f"Code: {NASTY}", "sender": 'A"B', "n": 1}
    }


@given(st.text(), st.text())
def test_json_template_round_trips_any_text(text: str, sender: str) -> None:
    body = BodyTemplate(JSON_TEMPLATE, "json")
    parsed = json.loads(body.render_json({"to": "+15550100", "text": text, "from": sender}))
    assert parsed["msg"]["body"] == "Code: " + text and parsed["msg"]["sender"] == sender


@given(st.text())
def test_form_template_round_trips_any_text(text: str) -> None:
    body = BodyTemplate("To={to}&Body={text}&From={from}&fixed=a%26b", "form")
    pairs = body.render_pairs({"to": "+15550100", "text": text, "from": "HG"})
    assert pairs == [("To", "+15550100"), ("Body", text), ("From", "HG"), ("fixed", "a&b")]


@pytest.mark.parametrize(
    ("template", "body_format", "words"),
    [
        ('{"to": {to}, "text": "{text}"}', "json", "not a valid json"),
        ('{"to": "{to}", "text": "{txt}"}', "json", "must use {to} and {text}"),
        ('{"to": "{to}"}', "json", "must use {to} and {text}"),
        ("to={to}&text={text}&x={api_key}", "form", "must use"),
        ("to={to}&&text", "form", "not a valid form"),
    ],
)
def test_bad_templates_are_config_errors(template: str, body_format: Any, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        BodyTemplate(template, body_format)


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"url": "ftp://gw.example/send"}, "http:// or https://"),
        ({"url": "https:///send"}, "http:// or https://"),
        ({"auth": "bearer", "token": ""}, "HUMANGATE_SMS_TOKEN"),
        ({"auth": "basic", "username": ""}, "HUMANGATE_SMS_USERNAME"),
        ({"auth": "header", "auth_header": ""}, "HUMANGATE_SMS_AUTH_HEADER"),
        ({"auth": "header", "auth_header": "X Key"}, "header name"),
        ({"auth": "bearer", "token": "a\r\nX-Injected: 1"}, "line breaks"),
        ({"method": "GET"}, "GET sends the template as a query"),
        ({"method": "DELETE"}, "unknown value"),
    ],
)
def test_bad_configs_are_config_errors(overrides: dict[str, Any], words: str) -> None:
    values: dict[str, Any] = {
        "url": "https://gw.example/send",
        "body": BodyTemplate(JSON_TEMPLATE, "json"),
        "auth": "bearer",
        "token": TOKEN,
    } | overrides
    with pytest.raises(ConfigError, match=words) as caught:
        HttpSmsConfig(**values)
    assert TOKEN not in str(caught.value)


def test_secrets_are_not_in_reprs() -> None:
    config = HttpSmsConfig(
        url=f"https://gw.example/send?key={API_KEY}",
        body=BodyTemplate(JSON_TEMPLATE, "json"),
        auth="basic",
        username="u",
        password=TOKEN,
    )
    assert TOKEN not in repr(config) and API_KEY not in repr(config)
    assert API_KEY not in repr(HttpSmsGateway(config))
    assert config.origin == "https://gw.example"


@pytest.mark.parametrize("number", ["8613800138000", "+0123", "+1 555 0100", "+1234567890123456"])
def test_numbers_must_be_e164(number: str) -> None:
    with pytest.raises(InvalidInput, match="E.164"):
        SmsMessage(to=number, text="x")


# --- through the real gateway -------------------------------------------------------------------


async def test_json_with_bearer_token(gateway: Gateway) -> None:
    message_id = await _gateway(gateway).send(SmsMessage("+8613800138000", NASTY))
    assert message_id == "gw-1"
    request = gateway.only()
    assert (request.method, request.path) == ("POST", "/send")
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.body)["msg"] == {
        "to": ["+8613800138000"],
        "body": f"Code: {NASTY}",
        "sender": "HumanGate",
        "n": 1,
    }


async def test_form_with_basic_auth(gateway: Gateway) -> None:
    sms = _gateway(
        gateway,
        body=BodyTemplate("To={to}&Body={text}&From={from}", "form"),
        auth="basic",
        username="AC-account",
        password="pa:ss wörd",
        method="PUT",
    )
    await sms.send(SmsMessage("+15550100", NASTY))
    request = gateway.only()
    assert request.method == "PUT"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    expected = base64.b64encode("AC-account:pa:ss wörd".encode()).decode()
    assert request.headers["authorization"] == f"Basic {expected}"
    assert parse_qsl(request.body.decode("ascii")) == [
        ("To", "+15550100"),
        ("Body", NASTY),
        ("From", "HumanGate"),
    ]


async def test_api_key_header(gateway: Gateway) -> None:
    await _gateway(gateway, auth="header", auth_header="X-Api-Key").send(
        SmsMessage("+15550100", "hi")
    )
    request = gateway.only()
    assert request.headers["x-api-key"] == TOKEN and "authorization" not in request.headers


async def test_get_merges_the_template_into_the_query(gateway: Gateway) -> None:
    sms = _gateway(
        gateway,
        path=f"/send?apikey={API_KEY}",
        method="GET",
        auth="none",
        body=BodyTemplate("to={to}&msg={text}", "form"),
    )
    await sms.send(SmsMessage("+15550100", "a&b=c 验证"))
    request = gateway.only()
    assert parse_qsl(request.query) == [
        ("apikey", API_KEY),
        ("to", "+15550100"),
        ("msg", "a&b=c 验证"),
    ]
    assert request.body == b""


async def test_reply_without_an_id_gets_a_local_one(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    message_id = await _gateway(gateway, path="/plain").send(SmsMessage("+15550100", "hi"))
    assert message_id.startswith("local-")
    assert "has no id at $.messages.0.id" in caplog.text
    unconfigured = await _gateway(gateway, message_id_path="").send(SmsMessage("+15550100", "x"))
    assert unconfigured.startswith("local-")


@pytest.mark.parametrize(
    ("status", "temporary", "words"),
    [
        (400, False, "refused the request"),
        (401, False, "refused our credentials"),
        (403, False, "refused our credentials"),
        (429, True, "try later"),
        (500, True, "it failed"),
        (503, True, "it failed"),
    ],
)
async def test_error_statuses(
    gateway: Gateway,
    caplog: pytest.LogCaptureFixture,
    status: int,
    temporary: bool,
    words: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    sms = _gateway(gateway, path=f"/status/{status}?api_key={API_KEY}")
    with pytest.raises(DeliveryError, match=words) as caught:
        await sms.send(SmsMessage("+15550100", "hi"))
    error = caught.value
    assert (error.status, error.temporary, error.channel) == (status, temporary, "sms")
    assert f"gateway {gateway.url} failed" in str(error)
    _assert_secret_free(error, caplog)


async def test_redirects_are_not_followed(gateway: Gateway) -> None:
    with pytest.raises(DeliveryError, match="redirect") as caught:
        await _gateway(gateway, path="/redirect").send(SmsMessage("+15550100", "hi"))
    assert caught.value.status == 302 and len(gateway.requests) == 1


async def test_timeout(gateway: Gateway, caplog: pytest.LogCaptureFixture) -> None:
    started = time.monotonic()
    with pytest.raises(DeliveryError, match="no answer within 0.3 s") as caught:
        await _gateway(gateway, path=f"/slow?k={API_KEY}", timeout=0.3).send(
            SmsMessage("+15550100", "hi")
        )
    assert time.monotonic() - started < 1.5
    assert caught.value.temporary is True
    _assert_secret_free(caught.value, caplog)


async def test_connection_refused(caplog: pytest.LogCaptureFixture) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = HttpSmsConfig(
        url=f"http://127.0.0.1:{port}/send?api_key={API_KEY}",
        body=BodyTemplate(JSON_TEMPLATE, "json"),
        auth="bearer",
        token=TOKEN,
    )
    with pytest.raises(DeliveryError, match="could not connect") as caught:
        await HttpSmsGateway(config).send(SmsMessage("+15550100", "hi"))
    assert caught.value.temporary is True and caught.value.status is None
    _assert_secret_free(caught.value, caplog)


async def test_httpx_request_log_shows_the_origin_only(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await _gateway(gateway, path=f"/send?api_key={API_KEY}").send(SmsMessage("+15550100", "hi"))
    assert f"HTTP Request: POST {gateway.url}/[hidden]" in caplog.text
    assert API_KEY not in caplog.text and TOKEN not in caplog.text


async def test_shared_client(gateway: Gateway) -> None:
    import httpx

    async with httpx.AsyncClient(timeout=5) as client:
        sms = HttpSmsGateway(_gateway(gateway)._config, client=client)
        ids = [await sms.send(SmsMessage("+15550100", str(n))) for n in range(3)]
    assert ids == ["gw-1", "gw-2", "gw-3"]
