"""Database of record: SQLAlchemy models, Alembic migrations, unit functions."""
