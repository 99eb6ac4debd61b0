"""Migrations and engine settings: upgrade is repeatable, matches the code's schema, SQLite is durable."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from gateway.store import Store, make_engine, migrate, normalize_url
from gateway.store.migrate import current_revision, head_revision
from gateway.store.schema import metadata

TABLES = {"files", "documents", "events", "dedup_keys", "control_numbers", "outbox", "alerts",
          "acks_expected", "control_allocations", "alembic_version"}


def test_migrate_twice_is_a_noop(store_url: str) -> None:
    migrate(store_url)
    engine = make_engine(store_url)
    try:
        assert set(inspect(engine).get_table_names()) == TABLES
        assert current_revision(engine) == head_revision() is not None
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO control_numbers VALUES ('acme', 'out', 'isa', 7, CURRENT_TIMESTAMP)"))
        migrate(store_url)
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
            assert conn.execute(text("SELECT last_value FROM control_numbers")).scalar() == 7
    finally:
        engine.dispose()


def test_migrated_schema_matches_the_code(store_url: str) -> None:
    migrate(store_url)
    engine = make_engine(store_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
        assert diff == []
    finally:
        engine.dispose()


def test_sqlite_is_wal_full_sync_with_busy_timeout(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    with Store.open(url, tmp_path / "archive") as store, store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_sqlite_write_transactions_take_the_lock_up_front(tmp_path: Path) -> None:
    db = tmp_path / "g.db"
    with Store.open(f"sqlite:///{db}", tmp_path / "archive") as store:
        other = sqlite3.connect(db, timeout=0, isolation_level=None)
        try:
            # BEGIN IMMEDIATE: the write lock is held before any statement runs
            with store._write(), pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            with store._read():  # a deferred read transaction blocks no writer
                other.execute("BEGIN IMMEDIATE")
                other.execute("ROLLBACK")
        finally:
            other.close()


def test_urls_are_normalised_or_refused() -> None:
    assert normalize_url("postgresql://u@h/db").startswith("postgresql+psycopg://")
    assert normalize_url("postgres://u@h/db").startswith("postgresql+psycopg://")
    assert normalize_url("sqlite:////var/lib/gateway.db") == "sqlite:////var/lib/gateway.db"
    with pytest.raises(ValueError, match="in-memory"):
        normalize_url("sqlite://")
    with pytest.raises(ValueError, match="unsupported"):
        normalize_url("mysql://u@h/db")


def test_workers_starting_together_migrate_once(store_url: str) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def start_worker() -> None:
        start.wait()
        try:
            migrate(store_url)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=start_worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    engine = make_engine(store_url)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()
