"""Store fixtures: a ledger on SQLite (always) and on PostgreSQL (when GATEWAY_TEST_PG_DSN is set).

PostgreSQL policy (as dramatiq's fixtures do it): with the DSN set the tests must run, and an
unreachable server FAILS them; without it they skip, except under CI=true where a missing DSN
fails too. Each PostgreSQL test gets a fresh schema (search_path in the URL), dropped afterwards.
``make_store_url`` has no dependency on this directory so it can move to tests/conftest.py.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from store_helpers import FakeClock

from gateway.store import Store

PG_ENV = "GATEWAY_TEST_PG_DSN"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _pg_dsn_or_skip() -> str:
    """The test DSN; skip without it (fail under CI)."""
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
        raise ValueError(kind)
    import psycopg
    from sqlalchemy.engine import make_url

    dsn = _pg_dsn_or_skip()
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


@pytest.fixture(params=BACKENDS)
def store_kind(request: pytest.FixtureRequest) -> str:
    """Which backend this test runs on."""
    return str(request.param)


@pytest.fixture
def store_url(store_kind: str, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh database on the current backend."""
    with make_store_url(store_kind, tmp_path) as url:
        yield url


@pytest.fixture
def clock() -> FakeClock:
    """A hand-moved clock for the store."""
    return FakeClock()


@pytest.fixture
def archive_root(tmp_path: Path) -> Path:
    """Where the store's archive lives."""
    return tmp_path / "archive"


@pytest.fixture
def store(store_url: str, archive_root: Path, clock: FakeClock) -> Iterator[Store]:
    """A migrated store on the current backend, driven by ``clock``."""
    with Store.open(store_url, archive_root, clock=clock) as opened:
        yield opened
