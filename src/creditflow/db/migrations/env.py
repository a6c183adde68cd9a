"""Alembic environment: migrations always run on a connection handed in by creditflow.db.migrate."""

from __future__ import annotations

from alembic import context

from creditflow.db.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `creditflow migrate` (creditflow.db.migrate.upgrade)")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
