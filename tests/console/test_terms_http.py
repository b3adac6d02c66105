"""The operator's terms: accepted at sign-up, asked again when the version changes; export and
cancellation stay open without accepting."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from humangate.accounts import list_entries
from humangate.config import Settings
from tests.app_services import services_of
from tests.console.conftest import open_client
from tests.console.test_web_http import EMAIL, PASSWORD, csrf_of, last_code, post

TERMS = {"terms_version": "2026-11", "terms_url": "https://op.example/terms"}


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(console_widget=False, demo=False, **TERMS)


def sign_up_accepting(client: TestClient, settings: Settings) -> None:
    page = client.get("/console/signup")
    assert 'name="accept_terms"' in page.text and TERMS["terms_url"] in page.text
    data = {"identifier": EMAIL, "password": PASSWORD, "accept_terms": "on"}
    reply = post(client, "/console/signup", data, csrf_from="/console/signup")
    assert reply.status_code == 200, reply.text
    confirm = {"csrf": csrf_of(reply.text), "identifier": EMAIL, "code": last_code(settings, EMAIL)}
    done = client.post("/console/signup/confirm", data=confirm, follow_redirects=False)
    assert done.status_code == 303


def versions(client: TestClient) -> list[object]:
    async def read() -> list[object]:
        async with services_of(client).sessions() as session:  # type: ignore[attr-defined]
            page = await list_entries(session, action="terms.accepted")
            return [entry.details["version"] for entry in page.entries]

    return client.portal.call(read)  # type: ignore[union-attr, no-any-return]


def test_sign_up_needs_the_box_ticked(client: TestClient, settings: Settings) -> None:
    data = {"identifier": EMAIL, "password": PASSWORD}
    refused = post(client, "/console/signup", data, csrf_from="/console/signup")
    assert refused.status_code == 400 and "Accept the terms" in refused.text
    sign_up_accepting(client, settings)
    assert client.get("/console", follow_redirects=False).status_code == 200


def test_a_new_version_is_asked_for_before_anything_else(
    client: TestClient, settings: Settings, make_settings: Callable[..., Settings]
) -> None:
    sign_up_accepting(client, settings)
    client.__exit__(None, None, None)
    newer = make_settings(console_widget=False, demo=False, **{**TERMS, "terms_version": "2027-01"})
    again = open_client(newer)
    try:
        again.cookies = client.cookies
        units = again.get("/console/units", follow_redirects=False)
        assert units.status_code == 303
        assert units.headers["location"] == "/console/terms?next=/console/units"
        # Export and cancellation never wait for an acceptance.
        assert again.get("/console/export", follow_redirects=False).status_code == 200
        assert again.get("/console/cancel", follow_redirects=False).status_code == 200
        page = again.get("/console/terms?next=/console/units")
        assert "version 2027-01" in page.text
        csrf = csrf_of(page.text)
        unticked = again.post("/console/terms", data={"csrf": csrf, "next": "/console/units"})
        assert unticked.status_code == 400
        assert again.get("/console/units", follow_redirects=False).status_code == 303
        accepted = again.post(
            "/console/terms",
            data={"csrf": csrf, "next": "/console/units", "accept": "on"},
            follow_redirects=False,
        )
        assert accepted.status_code == 303 and accepted.headers["location"] == "/console/units"
        assert again.get("/console/units", follow_redirects=False).status_code == 200
        assert versions(again) == ["2027-01"]  # the sign-up's acceptance is on the account row
    finally:
        again.__exit__(None, None, None)


def test_without_terms_nothing_is_asked(make_settings: Callable[..., Settings]) -> None:
    client = open_client(make_settings(console_widget=False, demo=False))
    try:
        assert 'name="accept_terms"' not in client.get("/console/signup").text
    finally:
        client.__exit__(None, None, None)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    client = open_client(settings)
    yield client
    client.__exit__(None, None, None)
