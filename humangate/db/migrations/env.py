"""Alembic environment: migrations run on a connection handed over by humangate.db.migrate."""

from __future__ import annotations

from alembic import context

from humangate.db.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("Run migrations with `humangate migrate`, which provides the connection.")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
