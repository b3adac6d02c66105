"""The widget, the console's scripts and the pages: compressed, revalidated, versioned."""

from __future__ import annotations

import gzip
import re

import pytest
from fastapi.testclient import TestClient

from humangate.api.assets import WIDGET, accepted_encodings, load_asset

GZIP = {"Accept-Encoding": "gzip"}
IDENTITY = {"Accept-Encoding": "identity"}


def test_the_widget_is_gzipped_for_those_who_ask_and_plain_for_the_rest(
    client: TestClient,
) -> None:
    plain = client.get("/humangate.js", headers=IDENTITY)
    assert plain.status_code == 200 and "content-encoding" not in plain.headers
    assert plain.content == WIDGET.read_bytes()

    # httpx decodes the body; the raw bytes on the wire are what the client saved.
    with client.stream("GET", "/humangate.js", headers=GZIP) as zipped:
        raw = b"".join(zipped.iter_raw())
        assert zipped.headers["content-encoding"] == "gzip"
        assert "Accept-Encoding" in zipped.headers["vary"]
    assert gzip.decompress(raw) == plain.content
    assert len(raw) < len(plain.content) / 2
    assert plain.headers["cache-control"] == "public, max-age=300"


def test_a_held_version_is_revalidated_without_its_body(client: TestClient) -> None:
    first = client.get("/humangate.js")
    again = client.get("/humangate.js", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    other = client.get("/humangate.js", headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200


def test_the_versioned_widget_is_immutable_and_an_old_version_gets_todays(
    client: TestClient,
) -> None:
    digest = load_asset(WIDGET).digest
    current = client.get(f"/v/{digest}/humangate.js")
    assert current.status_code == 200
    assert current.headers["cache-control"] == "public, max-age=31536000, immutable"
    old = client.get("/v/0123456789abcdef/humangate.js")
    assert old.status_code == 200 and old.content == current.content
    assert old.headers["cache-control"] == "public, max-age=300"


def test_own_pages_load_the_versioned_widget(client: TestClient) -> None:
    digest = load_asset(WIDGET).digest
    demo = client.get("/demo").text
    assert f'<script src="/v/{digest}/humangate.js" async defer></script>' in demo
    assert f'src="/v/{digest}/humangate.js?render=explicit"' in client.get("/privacy/device").text


def test_pages_and_console_assets_are_gzipped(client: TestClient) -> None:
    for path in ("/", "/demo", "/console/login", "/static/console/console.css"):
        with client.stream("GET", path, headers=GZIP) as reply:
            raw = b"".join(reply.iter_raw())
            assert reply.status_code == 200, path
            assert reply.headers["content-encoding"] == "gzip", path
        assert gzip.decompress(raw), path
    css = client.get("/static/console/console.css")
    again = client.get(
        "/static/console/console.css", headers={"If-None-Match": css.headers["etag"]}
    )
    assert again.status_code == 304


def test_the_landing_page_links_the_demo_the_console_and_the_docs(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    links = set(re.findall(r'href="([^"]+)"', page.text))
    assert {"/demo", "/console", "/docs"} <= links
    for link in links:
        assert client.get(link).status_code == 200, link


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip, deflate, br", {"gzip", "deflate", "br"}),
        ("br;q=0, gzip;q=0.5", {"gzip"}),
        ("GZIP", {"gzip"}),
        ("gzip;q=x", set()),
        ("", set()),
    ],
)
def test_accept_encoding(header: str, expected: set[str]) -> None:
    assert accepted_encodings(header) == expected
