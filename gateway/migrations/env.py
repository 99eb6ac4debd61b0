"""Alembic environment for the ledger.

Used two ways: programmatically by ``gateway.store.migrate`` (which hands over an open connection
in ``config.attributes["connection"]``), and by developers from the command line::

    GATEWAY_DB_URL=sqlite:///dev.db alembic -c gateway/migrations/alembic.ini revision --autogenerate -m "..."
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy.engine import Connection

from gateway.store.engine import make_engine
from gateway.store.schema import metadata

config = context.config
target_metadata = metadata


def _run(connection: Connection) -> None:
    """Configure the migration context on ``connection`` and run the pending migrations."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite ALTERs go through table copies
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    """Emit SQL to stdout instead of running it (``alembic upgrade --sql``)."""
    url = os.environ.get("GATEWAY_DB_URL") or config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run against the connection we were given, or one opened from GATEWAY_DB_URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = os.environ.get("GATEWAY_DB_URL") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("set GATEWAY_DB_URL (or sqlalchemy.url) to the ledger database URL")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
