"""Every console route, fed hostile input by a logged-in operator with a valid CSRF token, answers
with a page or a 3xx/4xx, never a 5xx or a traceback.

The routes are read from the app itself, so a page added later is covered without listing it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import update

from humangate.config import Settings
from humangate.console import web
from humangate.db.models import Account
from tests.app_services import services_of
from tests.console.conftest import open_client
from tests.console.test_web_http import csrf_of, sign_up

# Values a careless form handler trips over: empty, huge, control and NUL characters, numbers
# out of range, markup, paths, and text that is almost a valid value.
HOSTILE = [
    "",
    " ",
    "x" * 70_000,
    "\x00",
    "a\x00b",
    "\r\n\t",
    "-1",
    "0",
    "99999999999999999999999",
    "1e309",
    "NaN",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "%00",
    "😀" * 50,
    "on",
    "true",
    "owner@example.com",
    "+8613800138000",
    "10.0.0.0/8",
]
# Path parameters: ids, site keys and tokens that do not exist or cannot be parsed.
PATH_VALUES = ["1", "0", "-1", "999999999", "x" * 300, "hg", "%2e%2e", "1.5"]


@pytest.fixture
def admin(settings: Settings) -> Iterator[TestClient]:
    client = open_client(settings)
    sign_up(client, settings)

    async def promote() -> None:
        async with services_of(client).sessions() as session:  # type: ignore[attr-defined]
            await session.execute(update(Account).values(role="admin"))
            await session.commit()

    client.portal.call(promote)  # type: ignore[union-attr]
    yield client
    client.__exit__(None, None, None)


def console_routes() -> list[tuple[str, str]]:
    """(method, path) of every page the console modules put on the console's router."""
    found = []
    for route in web.router.routes:
        if isinstance(route, APIRoute):
            found += [(method, route.path) for method in route.methods]
    return sorted(set(found))


def fill(path: str, value: str) -> str:
    return re.sub(r"\{[^}]+\}", value, path)


def form_fields(client: TestClient, path: str) -> set[str]:
    """The field names the route's own page shows, plus the ones every form has."""
    names = {"csrf", "identifier", "password", "code", "name", "next", "token", "confirm"}
    page = client.get(fill(path, "1").rsplit("/", 1)[0] if path.count("/") > 2 else path)
    names.update(re.findall(r'name="([a-z_\-]+)"', page.text))
    return names


def assert_clean(method: str, path: str, status: int, text: str) -> None:
    assert status < 500, (method, path, status, text[:500])
    assert "Traceback" not in text, (method, path)


def test_every_console_route_survives_hostile_input(admin: TestClient) -> None:
    csrf = csrf_of(admin.get("/console/profile").text)
    routes = console_routes()
    assert len(routes) > 40  # the console's pages are all found
    for method, path in routes:
        if path == "/console/logout":
            continue  # it would end the session the rest of the tour needs
        for value in PATH_VALUES if "{" in path else [""]:
            url = fill(path, value)
            if method == "GET":
                for junk in ("", "?range=x&by=y&q=%00&before_id=-1&action=zz&page=-5&next=//evil"):
                    reply = admin.get(url + junk, follow_redirects=False)
                    assert_clean(method, url + junk, reply.status_code, reply.text)
                continue
            names = form_fields(admin, path)
            for hostile in HOSTILE:
                data = {name: hostile for name in names} | {"csrf": csrf}
                reply = admin.post(url, data=data, follow_redirects=False)
                assert_clean(method, url, reply.status_code, reply.text)
        # The session must survive the tour, or later routes test only the login redirect.
        assert admin.get("/console/profile", follow_redirects=False).status_code == 200, path
