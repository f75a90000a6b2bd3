"""Alembic environment: runs on the engine Turnos hands over (see server/migrate.py)."""

from __future__ import annotations

from alembic import context

from server.models import Base

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
