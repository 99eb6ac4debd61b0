"""Bring a ledger database to the current schema by running the Alembic migrations in-process.

No ``alembic.ini`` is needed: the script location is ``gateway/migrations`` next to this package.
Several workers may start at once: SQLite serialises them with ``BEGIN IMMEDIATE``, PostgreSQL with
a transaction-scoped advisory lock, so only one of them applies a migration and the rest see head.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from gateway.store.engine import make_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
_PG_MIGRATION_LOCK = 0x6761_7465  # arbitrary constant: "gate"


def alembic_config() -> Config:
    """An Alembic Config pointing at ``gateway/migrations`` (no ini file)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str | None:
    """The newest migration revision shipped with this code."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def migrate_engine(engine: Engine) -> None:
    """Upgrade the database behind ``engine`` to head, in one transaction."""
    config = alembic_config()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def migrate(url: str) -> None:
    """Upgrade the database at ``url`` to the newest schema; a no-op when it is already there."""
    engine = make_engine(url)
    try:
        migrate_engine(engine)
    finally:
        engine.dispose()
