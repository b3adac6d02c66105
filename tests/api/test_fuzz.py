"""Whatever arrives, the answer is a 2xx/4xx with an error code, never a 5xx."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from humangate.testkeys import PASS_SITEKEY

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
bodies = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(
        st.sampled_from(
            ["sitekey", "action", "cdata", "signals", "pow", "answer", "trajectory", "x"]
        ),
        json_values,
        max_size=4,
    ).map(lambda v: json.dumps(v).encode()),
)
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def assert_clean(reply_status: int, body: bytes) -> None:
    assert reply_status < 500, body
    payload = json.loads(body)
    assert "error" in payload or "error-codes" in payload or "id" in payload or "success" in payload


@FUZZ
@given(body=bodies)
def test_challenge_endpoint_never_fails_on_input(client: TestClient, body: bytes) -> None:
    reply = client.post(
        "/api/v1/challenges", content=body, headers={"Content-Type": "application/json"}
    )
    assert_clean(reply.status_code, reply.content)


@FUZZ
@given(body=bodies)
def test_answer_endpoint_never_fails_on_input(client: TestClient, body: bytes) -> None:
    challenge = client.post("/api/v1/challenges", json={"sitekey": PASS_SITEKEY}).json()
    reply = client.post(
        f"/api/v1/challenges/{challenge['id']}/answer",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert_clean(reply.status_code, reply.content)


@FUZZ
@given(
    body=st.one_of(
        bodies,
        st.dictionaries(
            st.sampled_from(["secret", "response", "remoteip", "sitekey", "idempotency_key"]),
            st.text(max_size=50),
        ).map(lambda d: "&".join(f"{k}={v}" for k, v in d.items()).encode()),
    ),
    content_type=st.sampled_from(
        [
            "application/json",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
            "text/plain",
            "",
        ]
    ),
)
def test_siteverify_never_fails_on_input(
    client: TestClient, body: bytes, content_type: str
) -> None:
    for path in ("/siteverify", "/recaptcha/api/siteverify", "/turnstile/v0/siteverify"):
        reply = client.post(path, content=body, headers={"Content-Type": content_type})
        assert_clean(reply.status_code, reply.content)
