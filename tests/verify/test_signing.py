"""HG1 request signing: what a signature covers, what it refuses, and the header shapes."""

from __future__ import annotations

import shutil
import string
import subprocess
import time

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from humangate.errors import Unauthenticated
from humangate.verify.signing import (
    HEADER_APP,
    HEADER_NONCE,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    HEADERS,
    SignedRequest,
    canonical_request,
    read_signature,
    sign,
    signature_headers,
    signature_matches,
    timestamp_fresh,
)

KEY_CHARS = string.ascii_letters + string.digits + "_-"

# The vector of the module docstring, written out by hand rather than computed with the module.
KAT_SECRET = "hgs_known-answer-secret"
KAT_TARGET = "/api/v1/verify/verifications?trace=1"
KAT_TIMESTAMP = 1767225600
KAT_NONCE = "kat-nonce-0123456789"
KAT_BODY = b'{"to":"+8613800138000","channel":"sms"}'
KAT_BODY_SHA256 = "8de1918d7447594d37e71d304c52e652d96aa1526b2e2889cae949f4aec514b5"
KAT_SIGNATURE = "61ab97042a3c3defbad523e609b9d7463e3171bd7dee331cbd6e31d7d7fe086d"
KAT_CANONICAL = (
    "HG1-HMAC-SHA256\nPOST\n/api/v1/verify/verifications?trace=1\n1767225600\n"
    "kat-nonce-0123456789\n" + KAT_BODY_SHA256
)

methods = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
targets = st.builds(
    lambda path, query: "/" + path + ("?" + query if query else ""),
    st.text(alphabet=string.ascii_letters + string.digits + "/-._~%", max_size=40),
    st.text(alphabet=string.ascii_letters + string.digits + "=&%+-._~", max_size=40),
)
timestamps = st.integers(min_value=0, max_value=10**12 - 1)
nonces = st.text(alphabet=KEY_CHARS, min_size=16, max_size=64)
bodies = st.binary(max_size=200)
# HMAC pads a short key with zero bytes, so "k" and "k\0" are one key; app secrets are
# generated URL-safe text and never hold a NUL.
app_secrets = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
    min_size=1,
    max_size=80,
)


def headers_for(secret: str, method: str, target: str, body: bytes) -> SignedRequest:
    return read_signature(signature_headers("hga_" + "a" * 24, secret, method, target, body))


def test_the_known_answer_vector() -> None:
    assert canonical_request("post", KAT_TARGET, KAT_TIMESTAMP, KAT_NONCE, KAT_BODY) == (
        KAT_CANONICAL.encode()
    )
    assert sign(KAT_SECRET, "POST", KAT_TARGET, KAT_TIMESTAMP, KAT_NONCE, KAT_BODY) == (
        KAT_SIGNATURE
    )


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_the_known_answer_vector_by_openssl() -> None:
    def openssl(*args: str, data: bytes) -> str:
        done = subprocess.run(
            ["openssl", "dgst", "-sha256", *args], input=data, capture_output=True, check=True
        )
        return done.stdout.decode().strip().rsplit(" ", 1)[-1]

    assert openssl(data=KAT_BODY) == KAT_BODY_SHA256
    assert openssl("-hmac", KAT_SECRET, data=KAT_CANONICAL.encode()) == KAT_SIGNATURE


def test_an_empty_body_is_signed_as_the_hash_of_nothing() -> None:
    canonical = canonical_request("GET", "/x", 1, "n" * 16, b"")
    assert canonical.endswith(b"\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


@given(app_secrets, methods, targets, bodies)
def test_a_correct_signature_matches(secret: str, method: str, target: str, body: bytes) -> None:
    signed = headers_for(secret, method, target, body)
    assert signature_matches(secret, signed, method, target, body)
    assert signature_matches(secret, signed, method.lower(), target, body)


@given(app_secrets, app_secrets, methods, methods, targets, targets, bodies, bodies)
def test_any_change_of_the_request_or_secret_is_refused(
    secret: str,
    other_secret: str,
    method: str,
    other_method: str,
    target: str,
    other_target: str,
    body: bytes,
    other_body: bytes,
) -> None:
    signed = headers_for(secret, method, target, body)
    if other_secret != secret:
        assert not signature_matches(other_secret, signed, method, target, body)
    if other_method != method:
        assert not signature_matches(secret, signed, other_method, target, body)
    if other_target != target:
        assert not signature_matches(secret, signed, method, other_target, body)
    if other_body != body:
        assert not signature_matches(secret, signed, method, target, other_body)


@given(app_secrets, targets, timestamps, timestamps, nonces, nonces)
def test_a_changed_timestamp_or_nonce_is_refused(
    secret: str, target: str, when: int, other_when: int, nonce: str, other_nonce: str
) -> None:
    assume(when != other_when or nonce != other_nonce)
    headers = signature_headers(
        "hga_key", secret, "POST", target, b"{}", timestamp=when, nonce=nonce
    )
    signed = read_signature(headers)
    assert signature_matches(secret, signed, "POST", target, b"{}")
    moved = SignedRequest(signed.app_key, other_when, other_nonce, signed.signature)
    assert not signature_matches(secret, moved, "POST", target, b"{}")


@given(app_secrets, targets, bodies, st.data())
def test_any_flipped_signature_character_is_refused(
    secret: str, target: str, body: bytes, data: st.DataObject
) -> None:
    signed = headers_for(secret, "POST", target, body)
    index = data.draw(st.integers(min_value=0, max_value=63))
    old = signed.signature[index]
    new = data.draw(st.sampled_from([c for c in "0123456789abcdef" if c != old]))
    flipped = signed.signature[:index] + new + signed.signature[index + 1 :]
    forged = SignedRequest(signed.app_key, signed.timestamp, signed.nonce, flipped)
    assert not signature_matches(secret, forged, "POST", target, body)
    upper = SignedRequest(signed.app_key, signed.timestamp, signed.nonce, signed.signature.upper())
    assume(upper.signature != signed.signature)
    assert not signature_matches(secret, upper, "POST", target, body)


def test_a_query_change_is_refused() -> None:
    signed = headers_for("secret", "GET", "/api/v1/verify/verifications/v1?a=1", b"")
    for target in (
        "/api/v1/verify/verifications/v1?a=2",
        "/api/v1/verify/verifications/v1",
        "/api/v1/verify/verifications/v1?a=1&a=1",
        "/api/v1/verify/verifications/v2?a=1",
    ):
        assert not signature_matches("secret", signed, "GET", target, b"")


def test_default_headers_have_a_fresh_nonce_and_the_current_time() -> None:
    first = read_signature(signature_headers("hga_key", "s", "GET", "/", b""))
    second = read_signature(signature_headers("hga_key", "s", "GET", "/", b""))
    assert first.nonce != second.nonce
    assert timestamp_fresh(first.timestamp, time.time())


def valid_headers() -> dict[str, str]:
    return signature_headers("hga_" + "A" * 24, "s", "GET", "/", b"", timestamp=1700000000)


@pytest.mark.parametrize("name", HEADERS)
@pytest.mark.parametrize("empty", [True, False])
def test_an_absent_or_empty_header_is_missing(name: str, empty: bool) -> None:
    headers = valid_headers()
    if empty:
        headers[name] = ""
    else:
        del headers[name]
    with pytest.raises(Unauthenticated) as refused:
        read_signature(headers)
    assert refused.value.code == "missing-signature"


def test_header_names_match_without_regard_to_case() -> None:
    headers = valid_headers()
    lowered = {name.lower(): value for name, value in headers.items()}
    assert read_signature(lowered) == read_signature(headers)


MALFORMED = {
    HEADER_APP: ["app_" + "a" * 24, "hga_", "hga_" + "a" * 61, "hga_a b", "hga_é", "hga_a\n"],
    HEADER_TIMESTAMP: ["-1", "01", "1.5", " 1", "1\n", "1" * 13, "١٢٣", "0x10", "+5", "1e3"],
    HEADER_NONCE: ["a" * 15, "a" * 65, "a" * 15 + " ", "a" * 16 + "\n", "a" * 15 + "=", "ａ" * 16],
    HEADER_SIGNATURE: ["a" * 63, "a" * 65, "A" * 64, "g" * 64, "a" * 63 + "\n", "٠" * 64],
}


@pytest.mark.parametrize(
    ("name", "value"), [(name, value) for name, values in MALFORMED.items() for value in values]
)
def test_each_malformed_shape_is_refused(name: str, value: str) -> None:
    headers = valid_headers()
    headers[name] = value
    with pytest.raises(Unauthenticated) as refused:
        read_signature(headers)
    assert refused.value.code == "malformed-signature"
    assert value not in refused.value.message


def _shape_ok(name: str, value: str) -> bool:
    """The design's shapes, spelled without regular expressions."""
    if name == HEADER_APP:
        tail = value[4:]
        return value.startswith("hga_") and 1 <= len(tail) <= 60 and set(tail) <= set(KEY_CHARS)
    if name == HEADER_TIMESTAMP:
        digits = set(value) <= set(string.digits)
        return digits and 1 <= len(value) <= 12 and (value == "0" or value[0] != "0")
    if name == HEADER_NONCE:
        return 16 <= len(value) <= 64 and set(value) <= set(KEY_CHARS)
    return len(value) == 64 and set(value) <= set("0123456789abcdef")


header_values = st.one_of(
    st.text(max_size=80),
    st.text(alphabet=KEY_CHARS, max_size=80),
    st.text(alphabet="0123456789abcdef", min_size=60, max_size=68),
    st.text(alphabet=KEY_CHARS, max_size=62).map(lambda tail: "hga_" + tail),
    st.integers(min_value=-5, max_value=10**13).map(str),
)


@given(st.sampled_from(HEADERS), header_values)
def test_read_signature_accepts_exactly_the_designed_shapes(name: str, value: str) -> None:
    headers = valid_headers()
    headers[name] = value
    if not value:
        expected: str | None = "missing-signature"
    else:
        expected = None if _shape_ok(name, value) else "malformed-signature"
    try:
        signed = read_signature(headers)
    except Unauthenticated as refused:
        assert refused.code == expected
    else:
        assert expected is None
        assert (signed.app_key, str(signed.timestamp), signed.nonce, signed.signature) == tuple(
            headers[header] for header in HEADERS
        )


def test_freshness_is_inclusive_at_the_skew() -> None:
    assert timestamp_fresh(1000, 1300) and timestamp_fresh(1300, 1000)
    assert not timestamp_fresh(1000, 1301) and not timestamp_fresh(1301, 1000)
    assert timestamp_fresh(1000, 1010, skew=10) and not timestamp_fresh(1000, 1011, skew=10)


def test_the_secret_is_in_no_header() -> None:
    headers = signature_headers("hga_key", "hgs_very-secret-value", "POST", "/", b"{}")
    assert set(headers) == {HEADER_APP, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE}
    assert all("very-secret" not in value for value in headers.values())
