"""The units service: each operation the CLI and the console share, on a real SQLite database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from humangate.db import stats as stats_db
from humangate.db.engine import create_engine, create_sessionmaker
from humangate.db.migrate import migrate
from humangate.errors import InvalidInput
from humangate.stats import hour_of
from humangate.units import (
    DEFAULT_DIFFICULTY,
    DEFAULT_KINDS,
    DEFAULT_POW_DIFFICULTY,
    UnitChanges,
    parse_unit_input,
)
from humangate.units import service as units


@pytest.fixture
async def session(tmp_path: Path) -> AsyncIterator[AsyncSession]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'humangate.db'}")
    try:
        await migrate(engine)
        async with create_sessionmaker(engine)() as session:
            yield session
    finally:
        await engine.dispose()


async def test_create_takes_the_defaults_for_what_is_not_given(session: AsyncSession) -> None:
    created = await units.create_unit(session, parse_unit_input(name="Shop", domains="a.org"))
    unit = created.unit
    assert (unit.name, unit.domains, unit.mode) == ("Shop", ("a.org",), "managed")
    assert (unit.kinds, unit.difficulty) == (DEFAULT_KINDS, DEFAULT_DIFFICULTY)
    assert unit.pow_difficulty == DEFAULT_POW_DIFFICULTY
    assert (unit.score_threshold, unit.allow_networks, unit.good_bots) == (None, (), ())
    assert created.secret.startswith("hgs_")
    assert await units.get_unit(session, unit.sitekey) == unit


async def test_create_stores_every_setting_given(session: AsyncSession) -> None:
    settings = parse_unit_input(
        name="Shop",
        domains=["a.org"],
        mode="score",
        kinds=["click"],
        difficulty=0,
        pow_difficulty=1234,
        threshold=0.4,
        allow_networks=["10.0.0.0/8"],
        deny_networks=["192.0.2.1"],
        good_bots=["googlebot"],
    )
    unit = (await units.create_unit(session, settings, account_id=None)).unit
    assert (unit.mode, unit.kinds, unit.difficulty, unit.pow_difficulty) == (
        "score",
        ("click",),
        0,
        1234,
    )
    assert unit.score_threshold == 0.4
    assert (unit.allow_networks, unit.deny_networks) == (("10.0.0.0/8",), ("192.0.2.1/32",))
    assert unit.good_bots == ("googlebot",)


@pytest.mark.parametrize("settings", [UnitChanges(name="Shop"), UnitChanges(domains=("a.org",))])
async def test_create_needs_a_name_and_domains(
    session: AsyncSession, settings: UnitChanges
) -> None:
    with pytest.raises(InvalidInput, match="needs a name and at least one domain"):
        await units.create_unit(session, settings)
    assert await units.list_units(session) == []


async def test_update_disable_rotate_and_delete(session: AsyncSession) -> None:
    created = await units.create_unit(
        session, parse_unit_input(name="Shop", domains="a.org", threshold=0.5)
    )
    sitekey = created.unit.sitekey
    updated = await units.update_unit(session, sitekey, parse_unit_input(threshold=""))
    assert updated is not None and updated.score_threshold is None
    assert updated.name == "Shop"  # what was not given stays
    disabled = await units.set_disabled(session, sitekey, disabled=True)
    assert disabled is not None and disabled.disabled
    enabled = await units.set_disabled(session, sitekey, disabled=False)
    assert enabled is not None and not enabled.disabled
    secret = await units.rotate_secret(session, sitekey, grace=timedelta(hours=1))
    assert secret is not None and secret != created.secret
    assert await units.delete_unit(session, sitekey)
    assert await units.get_unit(session, sitekey) is None
    assert not await units.delete_unit(session, sitekey)


async def test_a_missing_unit_is_none_everywhere(session: AsyncSession) -> None:
    now = datetime.now(UTC)
    assert await units.update_unit(session, "hg-none", UnitChanges(name="x")) is None
    assert await units.set_disabled(session, "hg-none", disabled=True) is None
    assert await units.rotate_secret(session, "hg-none", grace=timedelta()) is None
    assert await units.unit_stats(session, "hg-none", since=now, until=now) is None


async def test_another_owners_unit_is_not_there(session: AsyncSession) -> None:
    created = await units.create_unit(
        session, parse_unit_input(name="Shop", domains="a.org"), account_id=None
    )
    sitekey = created.unit.sitekey
    assert await units.get_unit(session, sitekey, owner=1) is None
    assert await units.list_units(session, owner=1) == []
    assert await units.update_unit(session, sitekey, UnitChanges(name="x"), owner=1) is None
    assert await units.rotate_secret(session, sitekey, grace=timedelta(), owner=1) is None
    assert not await units.delete_unit(session, sitekey, owner=1)
    assert await units.list_units(session) == [created.unit]


async def test_stats_reads_the_units_counters(session: AsyncSession) -> None:
    created = await units.create_unit(session, parse_unit_input(name="Shop", domains="a.org"))
    hour = hour_of(datetime.now(UTC))
    await stats_db.add_counts(session, {(created.unit.id, hour, "issued", "slide"): 3})
    rows = await units.unit_stats(
        session, created.unit.sitekey, since=hour - timedelta(days=1), until=datetime.now(UTC)
    )
    assert rows is not None and sum(row.count for row in rows) == 3
