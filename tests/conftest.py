"""Fixtures shared by every test area: a store URL on SQLite (always) or PostgreSQL (with GATEWAY_TEST_PG_DSN).

PostgreSQL policy (as dramatiq's fixtures do it): with the DSN set the tests must run, and an
unreachable server FAILS them; without it they skip, except under CI=true where a missing DSN
fails too. Each PostgreSQL test gets a fresh schema (``search_path`` in the URL's ``options``),
dropped afterwards, so tests never see each other's rows and any number of gateway processes
started by one test share that one schema.

A test area may override ``store_kind`` / ``store_url`` in its own conftest (tests/store does).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from store_urls import BACKENDS, make_store_url


@pytest.fixture(params=BACKENDS)
def store_kind(request: pytest.FixtureRequest) -> str:
    """Which store backend this test runs on."""
    return str(request.param)


@pytest.fixture
def store_url(store_kind: str, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh, empty database on the current backend."""
    with make_store_url(store_kind, tmp_path) as url:
        yield url
