"""Migration 0012 (`verifications.cost`) on SQLite and PostgreSQL: the column comes and goes in
place, and the verifications stay, their cost unknown (NULL) after a way down and up again."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from humangate.db import verify_apps
from humangate.db.engine import create_sessionmaker
from humangate.db.migrate import alembic_config, migrate
from humangate.verify.apps import AppChanges
from tests.db.test_verify_purge import KEY, NOW, verification


async def _down_to(engine: AsyncEngine, revision: str) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))

    def down(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(down)


async def _costs(engine: AsyncEngine) -> list[tuple[str, int | None]]:
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT id, cost FROM verifications ORDER BY id"))
        return [(row[0], row[1]) for row in rows]


async def test_the_cost_column_goes_down_and_up_keeping_the_verifications(
    engine: AsyncEngine,
) -> None:
    async with create_sessionmaker(engine)() as session:
        app = (
            await verify_apps.create_app(
                session, AppChanges(name="Shop"), account_id=None, server_key=KEY, now=NOW
            )
        ).app
        charged, unpriced = verification(app.id, "a", NOW), verification(app.id, "b", NOW)
        charged.cost = 5
        session.add_all([charged, unpriced])
        await session.commit()
    assert await _costs(engine) == [(charged.id, 5), (unpriced.id, None)]
    await _down_to(engine, "0011")
    async with engine.connect() as connection:
        ids = (await connection.execute(text("SELECT id FROM verifications ORDER BY id"))).all()
    assert [row[0] for row in ids] == [charged.id, unpriced.id]
    await migrate(engine)
    assert await _costs(engine) == [(charged.id, None), (unpriced.id, None)]
