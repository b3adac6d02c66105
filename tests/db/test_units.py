"""One contract for the database of record, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from alembic import command
from sqlalchemy import Connection, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from humangate.db import units as unit_db
from humangate.db.engine import create_engine, create_sessionmaker
from humangate.db.migrate import alembic_config, migrate
from humangate.db.models import UnitSecret

GRACE = timedelta(hours=1)


async def _create(
    sessions: async_sessionmaker[AsyncSession], name: str = "Shop", **kwargs: object
) -> unit_db.CreatedUnit:
    async with sessions() as session:
        return await unit_db.create_unit(
            session,
            name=name,
            domains=kwargs.pop("domains", ["example.com"]),  # type: ignore[arg-type]
            mode=kwargs.pop("mode", "managed"),  # type: ignore[arg-type]
            pow_difficulty=kwargs.pop("pow_difficulty", 50_000),  # type: ignore[arg-type]
            **kwargs,  # type: ignore[arg-type]
        )


async def _by_secret(
    sessions: async_sessionmaker[AsyncSession], secret: str, now: datetime | None = None
) -> unit_db.UnitView | None:
    async with sessions() as session:
        return await unit_db.find_unit_by_secret(session, secret, now=now)


async def _rotate(
    sessions: async_sessionmaker[AsyncSession], sitekey: str, now: datetime | None = None
) -> str | None:
    async with sessions() as session:
        return await unit_db.rotate_secret(session, sitekey, grace=GRACE, now=now)


async def _all_cells(engine: AsyncEngine) -> list[str]:
    """Every value of every column of every row of every table, as text."""
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
        cells: list[str] = []
        for table in tables:
            quoted = engine.dialect.identifier_preparer.quote(table)
            for row in await connection.execute(text(f"SELECT * FROM {quoted}")):
                cells += [str(value) for value in row]
                cells += [bytes(v).hex() for v in row if isinstance(v, bytes | memoryview)]
    return cells


async def _secret_rows(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return len((await connection.execute(select(UnitSecret.id))).all())


# --- migrations ---------------------------------------------------------------------------------


async def test_migrate_is_idempotent(engine: AsyncEngine) -> None:
    await migrate(engine)  # the fixture migrated once already
    await migrate(engine)
    async with engine.connect() as connection:
        tables = set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
        versions = (await connection.execute(text("SELECT version_num FROM alembic_version"))).all()
    assert {"units", "unit_secrets", "alembic_version"} <= tables
    assert len(versions) == 1


async def test_migrations_keep_data(engine: AsyncEngine, sessions) -> None:
    created = await _create(sessions)
    await migrate(engine)
    assert await _by_secret(sessions, created.secret) == created.unit


# --- creating and finding -----------------------------------------------------------------------


async def test_create_unit_returns_a_view_and_a_secret(sessions) -> None:
    created = await _create(sessions, name="Shop", domains=["example.com", "shop.example.com"])
    assert created.unit.name == "Shop"
    assert created.unit.domains == ("example.com", "shop.example.com")
    assert created.unit.mode == "managed"
    assert created.unit.pow_difficulty == 50_000
    assert created.unit.disabled is False
    assert created.unit.id > 0
    assert created.unit.sitekey.startswith("hg")
    assert created.secret.startswith("hgs_") and len(created.secret) >= 40


async def test_secret_is_never_stored_in_clear(engine: AsyncEngine, sessions) -> None:
    created = await _create(sessions)
    rotated = await _rotate(sessions, created.unit.sitekey)
    assert rotated is not None
    cells = await _all_cells(engine)
    assert cells, "the scan read nothing"
    for secret in (created.secret, rotated):
        assert not any(secret in cell for cell in cells)
        secret_body = secret.removeprefix("hgs_")
        assert not any(secret_body in cell for cell in cells)
        # What is stored instead: the digest.
        assert unit_db.digest_secret(secret) in cells


async def test_find_unit_by_secret(sessions) -> None:
    first = await _create(sessions, name="First")
    second = await _create(sessions, name="Second")
    assert await _by_secret(sessions, first.secret) == first.unit
    assert await _by_secret(sessions, second.secret) == second.unit


async def test_wrong_secret_finds_nothing(sessions) -> None:
    created = await _create(sessions)
    assert await _by_secret(sessions, created.secret + "x") is None
    assert await _by_secret(sessions, "hgs_" + "A" * 43) is None
    assert await _by_secret(sessions, "") is None
    assert await _by_secret(sessions, unit_db.digest_secret(created.secret)) is None


async def test_get_unit_by_sitekey(sessions) -> None:
    created = await _create(sessions)
    async with sessions() as session:
        assert await unit_db.get_unit_by_sitekey(session, created.unit.sitekey) == created.unit
        assert await unit_db.get_unit_by_sitekey(session, "hg-unknown") is None


async def test_given_sitekey_and_secret_are_used(sessions) -> None:
    created = await _create(sessions, sitekey="hgdemo", secret="hgs_demo-secret")
    assert created.unit.sitekey == "hgdemo"
    assert created.secret == "hgs_demo-secret"
    assert await _by_secret(sessions, "hgs_demo-secret") == created.unit


async def test_list_units_in_creation_order(sessions) -> None:
    async with sessions() as session:
        assert await unit_db.list_units(session) == []
    names = ["Zeta", "Alpha", "Mu"]
    created = [await _create(sessions, name=name) for name in names]
    async with sessions() as session:
        listed = await unit_db.list_units(session)
    assert [unit.name for unit in listed] == names
    assert listed == [c.unit for c in created]


# --- rotation -----------------------------------------------------------------------------------


async def test_rotate_secret_grace_period(engine: AsyncEngine, sessions) -> None:
    created = await _create(sessions)
    now = datetime.now(UTC)
    new = await _rotate(sessions, created.unit.sitekey, now=now)
    assert new is not None and new != created.secret
    # During the grace period both secrets work.
    assert await _by_secret(sessions, created.secret, now) == created.unit
    assert await _by_secret(sessions, new, now) == created.unit
    almost = now + GRACE - timedelta(seconds=1)
    assert await _by_secret(sessions, created.secret, almost) == created.unit
    # After it only the new one does.
    later = now + GRACE + timedelta(seconds=1)
    assert await _by_secret(sessions, created.secret, later) is None
    assert await _by_secret(sessions, new, later) == created.unit
    # Rotating after the grace period drops the expired secret's row.
    assert await _secret_rows(engine) == 2
    newest = await _rotate(sessions, created.unit.sitekey, now=later)
    assert newest is not None
    assert await _secret_rows(engine) == 2
    assert await _by_secret(sessions, created.secret, later) is None
    assert await _by_secret(sessions, new, later) == created.unit
    assert await _by_secret(sessions, newest, later) == created.unit
    assert await _by_secret(sessions, new, later + GRACE + timedelta(seconds=1)) is None


async def test_rotate_secret_of_unknown_sitekey_is_none(sessions) -> None:
    await _create(sessions)
    assert await _rotate(sessions, "hg-unknown") is None


async def test_rotation_touches_only_its_unit(sessions) -> None:
    first = await _create(sessions, name="First")
    second = await _create(sessions, name="Second")
    now = datetime.now(UTC)
    await _rotate(sessions, first.unit.sitekey, now=now)
    later = now + GRACE + timedelta(seconds=1)
    assert await _by_secret(sessions, first.secret, later) is None
    assert await _by_secret(sessions, second.secret, later) == second.unit


# --- PostgreSQL only ----------------------------------------------------------------------------


async def test_concurrent_migrations_on_postgres(fresh_postgres_url: str) -> None:
    engines = [create_engine(fresh_postgres_url) for _ in range(3)]
    try:
        await asyncio.gather(*(migrate(engine) for engine in engines))
        async with engines[0].connect() as connection:
            versions = await connection.execute(text("SELECT version_num FROM alembic_version"))
            assert len(versions.all()) == 1
        sessions = create_sessionmaker(engines[1])
        created = await _create(sessions)
        assert await _by_secret(create_sessionmaker(engines[2]), created.secret) == created.unit
    finally:
        for engine in engines:
            await engine.dispose()


async def test_upgrade_keeps_units_made_before_kinds_existed(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        await migrate(engine, "0001")
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO units (sitekey, name, domains, mode, pow_difficulty, disabled)"
                    " VALUES ('hgold', 'Old', '[\"a.org\"]', 'managed', 1000, false)"
                )
            )
        await migrate(engine)
        async with create_sessionmaker(engine)() as session:
            unit = await unit_db.get_unit_by_sitekey(session, "hgold")
            assert unit is not None
            assert (unit.kinds, unit.difficulty, unit.domains) == (("slide",), 2, ("a.org",))
            changed = await unit_db.update_unit(
                session, "hgold", unit_db.UnitChanges(kinds=("slide", "click"), difficulty=2)
            )
            assert changed is not None and changed.kinds == ("slide", "click")
    finally:
        await engine.dispose()


async def test_downgrade_to_the_first_schema_keeps_units_and_secrets(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        await migrate(engine)
        async with create_sessionmaker(engine)() as session:
            created = await unit_db.create_unit(
                session, name="Kept", domains=["a.org"], mode="managed", pow_difficulty=1000
            )

        def downgrade(connection: Connection) -> None:
            config = alembic_config(engine.url.render_as_string(hide_password=False))
            config.attributes["connection"] = connection
            command.downgrade(config, "0001")

        async with engine.begin() as connection:
            await connection.run_sync(downgrade)
        async with engine.connect() as connection:
            secrets = (await connection.execute(text("SELECT count(*) FROM unit_secrets"))).scalar()
            names = (await connection.execute(text("SELECT name FROM units"))).scalars().all()
        assert names == ["Kept"] and secrets == 1
        await migrate(engine)
        async with create_sessionmaker(engine)() as session:
            found = await unit_db.find_unit_by_secret(session, created.secret)
        assert found is not None and found.name == "Kept"
    finally:
        await engine.dispose()
