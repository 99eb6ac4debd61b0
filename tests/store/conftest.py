"""Store fixtures: a migrated ledger on the backend chosen by tests/conftest.py (SQLite always, PostgreSQL
with GATEWAY_TEST_PG_DSN), driven by a hand-moved clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from store_helpers import FakeClock

from gateway.store import Store


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
