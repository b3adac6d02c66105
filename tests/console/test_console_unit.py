"""The console's own widget unit across nodes: one database and one server key make one unit,
whatever each node's data folder holds, and a pass token from one node verifies on another."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from humangate.config import Settings
from humangate.console.widget import ConsoleUnit, console_keys
from humangate.db import units as unit_db
from humangate.units import UnitView
from tests.app_services import services_of
from tests.console.conftest import open_client
from tests.console.test_web_http import EMAIL, PASSWORD, _pow, csrf_of

KEY = "node-key-" + "n" * 40


@pytest.fixture
def node(tmp_path: Path, make_settings: Callable[..., Settings]) -> Iterator[Callable[..., Any]]:
    """Start a node on the shared database, with its own data folder; all end with the test."""
    started: list[TestClient] = []
    database = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"

    def start(name: str, **overrides: Any) -> TestClient:
        values = {"data_dir": tmp_path / name, "database_url": database, "secret_key": KEY}
        client = open_client(make_settings(demo=False, **{**values, **overrides}))
        started.append(client)
        return client

    yield start
    for client in reversed(started):
        client.__exit__(None, None, None)


def console_unit(client: TestClient) -> ConsoleUnit:
    return services_of(client).console_unit


def console_units(client: TestClient) -> list[UnitView]:
    async def work() -> list[UnitView]:
        async with services_of(client).sessions() as session:  # type: ignore[attr-defined]
            return [u for u in await unit_db.list_units(session) if u.name == "Console"]

    return client.portal.call(work)  # type: ignore[union-attr,no-any-return]


def signs_up_with(client: TestClient, token: str, identifier: str) -> int:
    page = client.get("/console/signup")
    data = {"csrf": csrf_of(page.text), "identifier": identifier, "password": PASSWORD}
    return client.post("/console/signup", data={**data, "humangate-response": token}).status_code


def test_two_nodes_share_one_console_unit(
    node: Callable[..., TestClient], tmp_path: Path, redis_url: str
) -> None:
    # The nodes of one cluster share the database, the server key and the hot-state store.
    shared = {"redis_url": redis_url}
    first = node("a", **shared)
    second = node("b", public_url="http://console.example.org", **shared)
    assert console_unit(first).sitekey == console_unit(second).sitekey
    [unit] = console_units(second)
    assert unit.sitekey == console_unit(first).sitekey and unit.mode == "invisible"
    # Each node adds its host names; none removes another's.
    assert set(unit.domains) == {"localhost", "127.0.0.1", "console.example.org"}
    assert not (tmp_path / "a" / "console.json").exists()
    assert not (tmp_path / "b" / "console.json").exists()

    # A widget token from one node passes the other node's form, and only once.
    token = _pow(first, console_unit(first).sitekey)
    assert signs_up_with(second, token, EMAIL) == 200
    assert signs_up_with(first, token, "second@example.com") == 400
    token = _pow(second, console_unit(second).sitekey)
    assert signs_up_with(first, token, "third@example.com") == 200

    # A restart finds the same unit again.
    third = node("c")
    assert console_unit(third) == console_unit(first)
    assert len(console_units(third)) == 1


def test_another_server_key_is_another_unit() -> None:
    one, same, other = (
        console_keys(KEY.encode()),
        console_keys(KEY.encode()),
        console_keys(b"x" * 48),
    )
    assert one == same and one.secret == same.secret
    assert one.sitekey != other.sitekey and one.secret != other.secret
    assert one.sitekey.startswith("hgc") and len(one.sitekey) == 27
    assert one.secret.startswith("hgs_") and len(one.secret) == 47
    assert one.sitekey[3:] not in one.secret


def test_two_nodes_inserting_at_once_end_with_one_unit(
    node: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = node("a")
    real = unit_db.get_unit_by_sitekey
    looked: list[str] = []

    async def not_yet(session: Any, sitekey: str, **kwargs: Any) -> UnitView | None:
        # The other node's insert lands between this node's look-up and its own insert.
        looked.append(sitekey)
        return None if len(looked) == 1 else await real(session, sitekey, **kwargs)

    monkeypatch.setattr(unit_db, "get_unit_by_sitekey", not_yet)
    second = node("b")
    assert len(looked) == 2  # the failed insert was followed by a second look-up
    assert console_unit(second) == console_unit(first)
    assert len(console_units(second)) == 1


def test_the_old_console_json_is_retired(
    node: Callable[..., TestClient], tmp_path: Path, make_settings: Callable[..., Settings]
) -> None:
    first = node("a")

    async def old_unit() -> unit_db.CreatedUnit:
        async with services_of(first).sessions() as session:  # type: ignore[attr-defined]
            return await unit_db.create_unit(
                session, name="Console", domains=["localhost"], mode="invisible", pow_difficulty=5
            )

    old = first.portal.call(old_unit)  # type: ignore[union-attr]
    folder = tmp_path / "b"
    folder.mkdir()
    (folder / "console.json").write_text(
        json.dumps({"sitekey": old.unit.sitekey, "secret": old.secret})
    )
    (folder / "console.lock").write_text("")
    second = node("b")
    assert console_unit(second) == console_unit(first)
    assert [u.sitekey for u in console_units(second)] == [console_unit(first).sitekey]
    assert not (folder / "console.json").exists() and not (folder / "console.lock").exists()


def test_a_rotated_console_secret_is_restored(node: Callable[..., TestClient]) -> None:
    first = node("a")
    keys = console_unit(first)

    async def rotate() -> UnitView | None:
        async with services_of(first).sessions() as session:  # type: ignore[attr-defined]
            await unit_db.rotate_secret(session, keys.sitekey, grace=timedelta())
            return await unit_db.find_unit_by_secret(session, keys.secret)

    assert first.portal.call(rotate) is None  # type: ignore[union-attr]
    second = node("b")

    async def find() -> UnitView | None:
        async with services_of(second).sessions() as session:  # type: ignore[attr-defined]
            return await unit_db.find_unit_by_secret(session, keys.secret)

    found = second.portal.call(find)  # type: ignore[union-attr]
    assert found is not None and found.sitekey == keys.sitekey
    token = _pow(second, keys.sitekey)
    assert signs_up_with(second, token, EMAIL) == 200
