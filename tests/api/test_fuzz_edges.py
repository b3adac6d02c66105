"""Nothing a client sends gives a 5xx, on SQLite and on a real PostgreSQL: deep nesting, NUL
and lone surrogates in any field, huge numbers and wrong types, in JSON, form and multipart
bodies, query strings and headers, on every route of the API.

Each example is a request a client could send byte for byte; the examples are derandomized so
that a run is repeatable and its length bounded.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from humangate.app import create_app
from humangate.config import Settings
from humangate.testkeys import PASS_SITEKEY
from tests.api.helpers import create_unit

ORIGIN = "http://localhost"
EDGES = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# What a Python string can hold that a database or an encoder refuses.
SPECIALS = ["\x00", "\ud800", "\udfff", "a\x00b", "\ud83d", "\x00\ud800", "\u2028", "\x7f"]
nasty_text = st.one_of(
    st.text(max_size=12),
    st.builds(
        lambda head, special, tail: head + special + tail,
        st.text(max_size=6),
        st.sampled_from(SPECIALS),
        st.text(max_size=6),
    ),
)
huge_numbers = st.one_of(
    st.integers(min_value=-(10**60), max_value=10**60),
    st.sampled_from([2**63, -(2**63) - 1, 10**4000, 2**53 + 1]),
    st.floats(allow_nan=False, allow_infinity=False),
)
scalars = st.none() | st.booleans() | huge_numbers | nasty_text
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(nasty_text, inner, max_size=3),
    max_leaves=8,
)


def _nested(depth: int, kind: str) -> str:
    if kind == "list":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


deep_json = st.builds(
    _nested, st.integers(min_value=50, max_value=20_000), st.sampled_from(["list", "dict"])
)
raw_numbers = st.sampled_from(["1e999", "-1e999", "1" * 5000, "1e-999", "NaN", "Infinity", "-0"])


def _dumps(value: Any) -> bytes:
    # ensure_ascii escapes lone surrogates as \udXXX, as a client's JSON may.
    return json.dumps(value).encode()


def json_objects(names: list[str]) -> st.SearchStrategy[bytes]:
    """JSON objects over the route's own field names: right names, wrong values."""
    # Each value is JSON text already: a deep one cannot even be built as a Python value.
    field_value = st.one_of(json_values.map(json.dumps), deep_json, raw_numbers)
    objects = st.dictionaries(st.sampled_from([*names, "x"]), field_value, max_size=len(names))
    return objects.map(
        lambda fields: (
            "{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in fields.items()) + "}"
        ).encode()
    )


def json_bodies(names: list[str]) -> st.SearchStrategy[bytes]:
    return st.one_of(
        json_objects(names),
        json_values.map(_dumps),
        deep_json.map(str.encode),
        deep_json.map(lambda deep: f'{{"{names[0]}": {deep}}}'.encode()),
        st.binary(max_size=64),
    )


def _percent(value: str) -> str:
    return "".join(f"%{byte:02X}" for byte in value.encode("utf-8", "surrogatepass"))


def form_bodies(names: list[str]) -> st.SearchStrategy[bytes]:
    """URL-encoded forms; a surrogate is sent as the bytes a careless encoder would send."""
    return st.dictionaries(st.sampled_from([*names, "x"]), nasty_text, max_size=len(names)).map(
        lambda fields: "&".join(f"{k}={_percent(v)}" for k, v in fields.items()).encode()
    )


BOUNDARY = "fuzzboundary7MA4YWxk"


def multipart_bodies(names: list[str]) -> st.SearchStrategy[bytes]:
    def encode(fields: dict[str, str]) -> bytes:
        out = b""
        for name, value in fields.items():
            out += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            out += value.encode("utf-8", "surrogatepass") + b"\r\n"
        return out + f"--{BOUNDARY}--\r\n".encode()

    return st.dictionaries(st.sampled_from([*names, "x"]), nasty_text, max_size=len(names)).map(
        encode
    )


def latin1_headers() -> st.SearchStrategy[str]:
    """Header values as a client can put them on the wire (bytes, read as Latin-1)."""
    return st.one_of(
        st.text(st.characters(min_codepoint=1, max_codepoint=255), max_size=40),
        st.sampled_from(
            ["http://[::1", "http://a\x00b", "null", "http://" + "a" * 300, "http://:99999"]
        ),
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def api(
    request: pytest.FixtureRequest, make_settings: Callable[..., Settings]
) -> Iterator[TestClient]:
    """The app on each database, with one real unit whose site key and secret can be aimed at."""
    overrides: dict[str, Any] = {}
    if request.param == "postgres":
        overrides["database_url"] = request.getfixturevalue("fresh_postgres_url")
    with TestClient(create_app(make_settings(**overrides)), headers={"Origin": ORIGIN}) as client:
        yield client


@pytest.fixture
def visual_sitekey(api: TestClient) -> str:
    """A unit of visual challenges in the app's database, so that answers reach the checkers."""
    sitekey, _secret = create_unit(api, mode="visual", domains=["localhost"])
    return sitekey


def assert_clean(reply: Any) -> None:
    assert reply.status_code < 500, (reply.status_code, reply.content[:300])
    payload = reply.json()
    assert isinstance(payload, dict)
    if reply.status_code >= 400:
        assert "error" in payload or "error-codes" in payload, payload


SITEVERIFY_FIELDS = [
    "secret",
    "response",
    "remoteip",
    "sitekey",
    "idempotency_key",
    "expected_action",
]
SITEVERIFY_PATHS = ("/siteverify", "/recaptcha/api/siteverify", "/turnstile/v0/siteverify")


@EDGES
@given(
    body=st.one_of(
        json_bodies(SITEVERIFY_FIELDS).map(lambda b: (b, "application/json")),
        form_bodies(SITEVERIFY_FIELDS).map(lambda b: (b, "application/x-www-form-urlencoded")),
        multipart_bodies(SITEVERIFY_FIELDS).map(
            lambda b: (b, f"multipart/form-data; boundary={BOUNDARY}")
        ),
    ),
    query=form_bodies(SITEVERIFY_FIELDS),
)
def test_siteverify_never_fails_on_input(
    api: TestClient, body: tuple[bytes, str], query: bytes
) -> None:
    content, content_type = body
    for path in SITEVERIFY_PATHS:
        reply = api.post(
            f"{path}?{query.decode()}", content=content, headers={"Content-Type": content_type}
        )
        assert_clean(reply)


@EDGES
@given(secret=nasty_text, sitekey=nasty_text)
def test_siteverify_keys_with_specials_are_refused_as_input(
    api: TestClient, secret: str, sitekey: str
) -> None:
    body = _dumps({"secret": secret, "response": "x", "sitekey": sitekey})
    reply = api.post("/siteverify", content=body, headers={"Content-Type": "application/json"})
    assert_clean(reply)
    if any(special in secret for special in ("\x00", "\ud800", "\udfff", "\ud83d")):
        assert reply.status_code == 200
        assert reply.json()["error-codes"] == ["bad-request"]


CHALLENGE_FIELDS = ["sitekey", "action", "cdata", "lang", "signals"]


@EDGES
@given(
    body=json_bodies(CHALLENGE_FIELDS),
    origin=latin1_headers(),
)
def test_challenge_issue_never_fails_on_input(api: TestClient, body: bytes, origin: str) -> None:
    reply = api.post(
        "/api/v1/challenges",
        content=body,
        headers={"Content-Type": "application/json", "Origin": origin.encode("latin-1")},
    )
    assert_clean(reply)


@EDGES
@given(
    sitekey=nasty_text,
    env=st.dictionaries(
        st.sampled_from(["ua", "lang", "tz", "webgl", "uab", "auto", "scr", "dpr"]),
        json_values,
        max_size=3,
    ),
)
def test_challenge_fields_with_specials_never_fail(
    api: TestClient, sitekey: str, env: dict[str, Any]
) -> None:
    for body in (
        {"sitekey": sitekey},
        {"sitekey": PASS_SITEKEY, "cdata": sitekey, "signals": {"env": env, "fp": sitekey}},
    ):
        reply = api.post(
            "/api/v1/challenges", content=_dumps(body), headers={"Content-Type": "application/json"}
        )
        assert_clean(reply)


CHROME_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


@pytest.mark.parametrize("version", ["\u00b2", "\u0661\u0663\u0661", "\uff11\uff13\uff11"])
def test_brand_versions_in_other_digits_never_fail(api: TestClient, version: str) -> None:
    """Digits to str.isdigit() that are not 0-9: "²" (which int() refuses), Arabic-Indic and
    full-width digits."""
    env = {"ua": CHROME_UA, "uab": [f"Chromium/{version}", f"Google Chrome/{version}"]}
    body = {"sitekey": PASS_SITEKEY, "signals": {"env": env}}
    reply = api.post(
        "/api/v1/challenges", content=_dumps(body), headers={"Content-Type": "application/json"}
    )
    assert_clean(reply)


ANSWER_FIELDS = ["pow", "answer", "trajectory", "signals"]


@EDGES
@given(body=json_bodies(ANSWER_FIELDS), challenge_id=st.one_of(st.just(""), nasty_text))
def test_challenge_answer_never_fails_on_input(
    api: TestClient, visual_sitekey: str, body: bytes, challenge_id: str
) -> None:
    issued = api.post("/api/v1/challenges", json={"sitekey": visual_sitekey}).json()
    for target in (issued["id"], _percent(challenge_id) or "x"):
        for action in ("answer", "audio"):
            reply = api.post(
                f"/api/v1/challenges/{target}/{action}",
                content=body,
                headers={"Content-Type": "application/json"},
            )
            assert_clean(reply)


OWNER_FIELDS = ["secret", "response", "label"]


@EDGES
@given(body=json_bodies(OWNER_FIELDS))
def test_owner_routes_never_fail_on_input(api: TestClient, body: bytes) -> None:
    for path in ("/api/v1/feedback", "/api/v1/calibration"):
        reply = api.post(path, content=body, headers={"Content-Type": "application/json"})
        assert_clean(reply)


PRIVACY_FIELDS = ["env", "fp", "sitekey"]


@EDGES
@given(body=json_bodies(PRIVACY_FIELDS), sitekey=nasty_text)
def test_privacy_routes_never_fail_on_input(api: TestClient, body: bytes, sitekey: str) -> None:
    well_formed = _dumps({"env": {}, "sitekey": sitekey})
    for path in (
        "/privacy/device",
        "/privacy/device/erase",
        "/privacy/device/opt-out",
        "/privacy/device/opt-in",
    ):
        for content in (body, well_formed):
            reply = api.post(path, content=content, headers={"Content-Type": "application/json"})
            assert_clean(reply)


GET_PATHS = (
    "/livez",
    "/readyz",
    "/healthz",
    "/docs",
    "/openapi.json",
    "/humangate.js",
    "/demo",
    "/privacy/device",
)


@EDGES
@given(query=form_bodies(["sitekey", "x"]), header=latin1_headers())
def test_reads_never_fail_on_query_or_headers(api: TestClient, query: bytes, header: str) -> None:
    raw = header.encode("latin-1")
    for path in GET_PATHS:
        reply = api.get(
            f"{path}?{query.decode()}",
            headers={"Origin": raw, "Referer": raw, "User-Agent": raw, "Accept-Language": raw},
        )
        assert reply.status_code < 500, (path, reply.status_code)


CONTENT_TYPES = [
    "application/json",
    "APPLICATION/JSON; charset=latin-1",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    f"multipart/form-data; boundary={BOUNDARY}",
    "multipart/form-data; boundary=",
    "text/plain",
    "",
]


@EDGES
@given(
    body=st.one_of(
        json_bodies(SITEVERIFY_FIELDS),
        form_bodies(SITEVERIFY_FIELDS),
        multipart_bodies(SITEVERIFY_FIELDS),
        st.binary(max_size=200),
    ),
    content_type=st.sampled_from(CONTENT_TYPES),
    header=latin1_headers(),
)
def test_bodies_under_any_content_type_never_fail(
    api: TestClient, body: bytes, content_type: str, header: str
) -> None:
    """Every POST route, whatever the body claims to be, with odd browser headers."""
    raw = header.encode("latin-1")
    headers = {"Content-Type": content_type, "Origin": raw, "User-Agent": raw, "Referer": raw}
    for path in (*SITEVERIFY_PATHS, "/api/v1/challenges", "/api/v1/feedback", "/privacy/device"):
        assert_clean(api.post(path, content=body, headers=headers))
    # The demo is a page: any status below 500 will do.
    assert api.post("/demo", content=body, headers=headers).status_code < 500


DEMO_FIELDS = ["humangate-response", "name", "email"]


@EDGES
@given(
    body=st.one_of(
        form_bodies(DEMO_FIELDS).map(lambda b: (b, "application/x-www-form-urlencoded")),
        multipart_bodies(DEMO_FIELDS).map(
            lambda b: (b, f"multipart/form-data; boundary={BOUNDARY}")
        ),
    )
)
def test_demo_form_never_fails_on_input(api: TestClient, body: tuple[bytes, str]) -> None:
    content, content_type = body
    reply = api.post("/demo", content=content, headers={"Content-Type": content_type})
    assert reply.status_code < 500, reply.text[:300]
