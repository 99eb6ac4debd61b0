"""Engines for the ledger: one URL in, a correctly configured SQLAlchemy Engine out.

Rules:
- ``sqlite:///path`` (embedded default) and ``postgresql://`` / ``postgresql+psycopg://`` (several
  workers on several machines) are the two backends; plain ``postgresql://`` DSNs get psycopg 3.
- SQLite: WAL journal, ``synchronous=FULL`` (a commit survives power loss), a busy timeout, foreign
  keys on, and every write transaction starts with ``BEGIN IMMEDIATE`` so two writers queue on the
  lock up front instead of failing half-way with "database is locked". Read-only transactions
  (execution option ``READ_ONLY``) start with a plain deferred ``BEGIN``.
- PostgreSQL: READ COMMITTED (the default); row claims use ``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url

READ_ONLY = "gateway_read_only"  # execution option: this transaction only reads
SQLITE_BUSY_TIMEOUT_MS = 30_000


def normalize_url(url: str) -> str:
    """Map plain PostgreSQL DSNs to the psycopg 3 driver; refuse backends we do not support."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise ValueError("the store needs a SQLite file (sqlite:///path/gateway.db), not an in-memory database")
        return url
    raise ValueError(f"unsupported store URL {parsed.render_as_string()!r}: use sqlite:///... or postgresql://...")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an Engine for ``url`` with the durability and locking settings above."""
    url = normalize_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _set_wal(cursor: Any) -> None:
    """Switch the database to WAL. Switching a new database needs it to itself, and SQLite answers
    "locked" at once (no busy handler) while another connection is opening it: retry for a while."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _configure_sqlite(engine: Engine) -> None:
    """Install the pragmas and the BEGIN IMMEDIATE hook on a SQLite engine."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module: we emit BEGIN ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            _set_wal(cursor)
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
