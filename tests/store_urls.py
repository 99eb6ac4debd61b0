"""Store URLs for tests: SQLite in the test's folder, or PostgreSQL in a schema of its own.

PostgreSQL policy: with GATEWAY_TEST_PG_DSN set the tests must run, and an unreachable server FAILS
them; without it they skip, except under CI=true where a missing DSN fails too. Shared by the root
conftest's ``store_url`` fixture and by test areas that need a PostgreSQL URL of their own.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

PG_ENV = "GATEWAY_TEST_PG_DSN"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def pg_dsn_or_skip() -> str:
    """The PostgreSQL test DSN; skip the test without it (fail it under CI=true)."""
    dsn = os.environ.get(PG_ENV)
    if not dsn:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {PG_ENV} is not set: PostgreSQL tests must run in CI")
        pytest.skip(f"{PG_ENV} not set")
    return dsn


@contextmanager
def make_store_url(kind: str, tmp_path: Path) -> Iterator[str]:
    """A store URL for a fresh, empty database of ``kind`` ('sqlite' or 'postgresql')."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'gateway.db'}"
        return
    if kind != "postgresql":
        raise ValueError(f"unknown store backend {kind!r}")
    import psycopg
    from sqlalchemy.engine import make_url

    dsn = pg_dsn_or_skip()
    libpq_dsn = make_url(dsn).set(drivername="postgresql").render_as_string(hide_password=False)
    schema = f"t_{secrets.token_hex(6)}"
    try:
        with psycopg.connect(libpq_dsn, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
    except psycopg.OperationalError as exc:
        pytest.fail(f"{PG_ENV} is set but PostgreSQL is unreachable: {exc}")
    url = make_url(dsn).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(libpq_dsn, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
