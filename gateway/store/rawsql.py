"""Hot-path SQL: the statements every landed file and every sent message go through, run on the DBAPI cursor.

SQLAlchemy Core builds a statement object and computes its cache key on every call, which costs
50-100 us per statement: more than SQLite takes to run it, and the larger part of the pipeline's
time per document. The few statements each document passes through are therefore written once
as SQL text here and run on the raw driver connection of the current SQLAlchemy transaction, so
they commit or roll back together with everything else in it.

Rules:
- SQL text uses ``:name`` parameters and only syntax SQLite (3.35+) and PostgreSQL share
  (``INSERT ... ON CONFLICT ... RETURNING``); it is converted to the driver's style once.
- ``"key"`` and ``"at"`` are quoted: they are keywords in PostgreSQL.
- Times go through ``RawSql.ts`` (the exact conversion ``UtcDateTime`` does for the dialect);
  results are plain driver values: hot-path readers take ids, states, counts and text only.
- Everything else in the store stays SQLAlchemy Core: this is an optimisation of a few
  statements, not a second data layer.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Dialect
from sqlalchemy.engine import Connection

from gateway.store.schema import UtcDateTime

_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


class RawSql:
    """Runs fixed SQL text on the driver connection behind a SQLAlchemy ``Connection``."""

    def __init__(self, dialect: Dialect) -> None:
        self.postgresql = dialect.name == "postgresql"
        processor = UtcDateTime().dialect_impl(dialect).bind_processor(dialect)
        assert processor is not None
        self._ts: Callable[[dt.datetime], Any] = processor
        self._texts: dict[str, str] = {}
        self.for_update = " FOR UPDATE" if self.postgresql else ""

    def ts(self, value: dt.datetime | None) -> Any:
        """A timestamp parameter as the driver must get it (UTC; SQLite: SQLAlchemy's text format)."""
        return None if value is None else self._ts(value)

    def text(self, sql: str) -> str:
        """``sql`` in the driver's parameter style (psycopg: ``%(name)s``), converted once."""
        converted = self._texts.get(sql)
        if converted is None:
            converted = _NAMED.sub(r"%(\1)s", sql.replace("%", "%%")) if self.postgresql else sql
            self._texts[sql] = converted
        return converted

    def _cursor(self, conn: Connection, sql: str, params: Mapping[str, Any]) -> Any:
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None
        cursor = dbapi.cursor()
        try:
            cursor.execute(self.text(sql), params)
        except BaseException:
            cursor.close()
            raise
        return cursor

    def execute(self, conn: Connection, sql: str, params: Mapping[str, Any]) -> int:
        """Run a statement; returns the number of rows it changed."""
        cursor = self._cursor(conn, sql, params)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def first(self, conn: Connection, sql: str, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """Run a query (or a statement with RETURNING); its first row, or None."""
        cursor = self._cursor(conn, sql, params)
        try:
            row = cursor.fetchone()
            if row is not None:
                cursor.fetchall()  # drain: SQLite finishes the statement only when it is read to the end
            return None if row is None else tuple(row)
        finally:
            cursor.close()

    def all(self, conn: Connection, sql: str, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run a query; all its rows."""
        cursor = self._cursor(conn, sql, params)
        try:
            return [tuple(row) for row in cursor.fetchall()]
        finally:
            cursor.close()
