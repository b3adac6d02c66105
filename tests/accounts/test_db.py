"""The account tables and their functions, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from humangate.db import accounts as account_db
from humangate.db import units as unit_db
from humangate.db.engine import create_engine, create_sessionmaker
from humangate.db.migrate import migrate
from humangate.db.models import Account, Unit, UnitSecret
from tests.accounts.conftest import T0

Sessions = async_sessionmaker[AsyncSession]
TABLES = {
    "accounts",
    "account_sessions",
    "known_devices",
    "account_codes",
    "audit_entries",
    "notifications",
    "identifier_holds",
}


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))


async def _account(session: AsyncSession, email: str = "owner@example.com") -> Account:
    return await account_db.add_account(
        session,
        email=email,
        email_key=email.lower(),
        phone=None,
        password_hash="$argon2id$x",
        role="owner",
        status="active",
        now=T0,
    )


async def test_migration_creates_the_account_tables(engine: AsyncEngine) -> None:
    await migrate(engine)  # idempotent
    assert TABLES <= await _tables(engine)
    async with engine.connect() as connection:
        columns = await connection.run_sync(
            lambda c: {col["name"] for col in inspect(c).get_columns("units")}
        )
        keys = await connection.run_sync(lambda c: inspect(c).get_foreign_keys("units"))
    assert "account_id" in columns
    assert [(k["referred_table"], k["constrained_columns"]) for k in keys] == [
        ("accounts", ["account_id"])
    ]


async def test_upgrade_from_0003_keeps_units_their_secrets_and_events(db_url: str) -> None:
    """Adding units.account_id must not rebuild `units`: on SQLite that would cascade."""
    engine = create_engine(db_url)
    try:
        await migrate(engine, "0003")
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO units (sitekey, name, domains, mode, pow_difficulty, disabled,"
                    " device_salt) VALUES ('hgold', 'Old', '[\"a.org\"]', 'managed', 1000,"
                    " false, 'salt')"
                )
            )
            unit_id = (await connection.execute(text("SELECT id FROM units"))).scalar_one()
            await connection.execute(
                text(
                    "INSERT INTO unit_secrets (unit_id, digest, created_at)"
                    " VALUES (:unit, :digest, CURRENT_TIMESTAMP)"
                ),
                {"unit": unit_id, "digest": unit_db.digest_secret("hgs_old")},
            )
        await migrate(engine)
        async with create_sessionmaker(engine)() as session:
            found = await unit_db.find_unit_by_secret(session, "hgs_old")
            assert found is not None and found.sitekey == "hgold"
            unit = await session.get(Unit, unit_id)
            assert unit is not None and unit.account_id is None
        # Down and up again keep them too.
        await migrate_down(engine, "0003")
        assert not TABLES & await _tables(engine)
        await migrate(engine)
        async with create_sessionmaker(engine)() as session:
            assert await unit_db.find_unit_by_secret(session, "hgs_old") == found
    finally:
        await engine.dispose()


async def migrate_down(engine: AsyncEngine, revision: str) -> None:
    from alembic import command

    from humangate.db.migrate import alembic_config

    config = alembic_config(engine.url.render_as_string(hide_password=False))

    def down(connection: object) -> None:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(down)


async def test_deleting_an_account_cascades_to_its_units(sessions: Sessions) -> None:
    async with sessions() as session:
        account = await _account(session)
        await session.commit()
        created = await unit_db.create_unit(
            session, name="Mine", domains=["a.org"], mode="managed", pow_difficulty=1000
        )
        assert await account_db.set_unit_owner(session, created.unit.id, account.id)
        await session.commit()
        # A plain DELETE (no ORM help): the database's own ON DELETE CASCADE does the work.
        await session.execute(delete(Account).where(Account.id == account.id))
        await session.commit()
        assert await session.scalar(select(Unit.id)) is None
        assert await session.scalar(select(UnitSecret.id)) is None


async def test_erase_account_reports_what_it_removed(sessions: Sessions) -> None:
    async with sessions() as session:
        account = await _account(session)
        await account_db.add_notification(
            session, account.id, kind="billing", subject="Bill", body="", now=T0
        )
        await session.commit()
        for name in ("One", "Two"):
            created = await unit_db.create_unit(
                session, name=name, domains=["a.org"], mode="managed", pow_difficulty=1000
            )
            await account_db.set_unit_owner(session, created.unit.id, account.id)
        account_id = account.id
        erased = await account_db.erase_account(session, account_id)
        await session.commit()
    assert (erased.units, erased.notifications, erased.sessions) == (2, 1, 0)
    async with sessions() as session:
        assert await account_db.get_account(session, account_id) is None


async def test_holds(sessions: Sessions) -> None:
    async with sessions() as session:
        await account_db.put_hold(session, "d" * 64, T0 + timedelta(days=10), T0)
        await account_db.put_hold(session, "d" * 64, T0 + timedelta(days=5), T0)  # replaces
        await session.commit()
        assert await account_db.find_hold(session, "d" * 64, T0) == T0 + timedelta(days=5)
        assert await account_db.find_hold(session, "e" * 64, T0) is None
        assert await account_db.find_hold(session, "d" * 64, T0 + timedelta(days=5)) is None
        assert await account_db.delete_expired_holds(session, now=T0 + timedelta(days=6)) == 1


async def test_known_devices(sessions: Sessions) -> None:
    async with sessions() as session:
        account = await _account(session)
        assert await account_db.device_seen(session, account.id, "dev", "net") == (False, False)
        assert await account_db.remember_device(session, account.id, "dev", "net", T0)
        assert not await account_db.remember_device(session, account.id, "dev", "net", T0)
        await session.commit()
        assert await account_db.device_seen(session, account.id, "dev", "net") == (True, True)
        assert await account_db.device_seen(session, account.id, "dev", "other") == (True, False)
        assert await account_db.device_seen(session, account.id, "new", "net") == (False, True)
        assert await account_db.device_seen(session, account.id + 1, "dev", "net") == (False, False)


async def test_identifiers_are_unique(sessions: Sessions) -> None:
    import pytest
    from sqlalchemy.exc import IntegrityError

    async with sessions() as session:
        await _account(session, "a@example.com")
        await session.commit()
        with pytest.raises(IntegrityError):
            await _account(session, "A@example.com")
