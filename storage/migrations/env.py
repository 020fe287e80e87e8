"""Alembic environment: always runs on a connection handed over by `storage.migrate`.

The store's engines are async; Alembic is sync. `storage.migrate` opens an async connection and
runs Alembic inside ``AsyncConnection.run_sync``, passing the sync connection through
``config.attributes["connection"]``. So there is no URL here and no ``alembic.ini``.
"""

from __future__ import annotations

from alembic import context

from storage.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `tbbot migrate` (storage.migrate), not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
