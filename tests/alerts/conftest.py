"""Fixtures for the alert mailer: a real store (SQLite; PostgreSQL with GATEWAY_TEST_PG_DSN), a
hand-moved clock, partner profiles and a real aiosmtpd server on a loopback port."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from gateway.alerts import AlertMailer
from gateway.config import SmtpSettings
from gateway.store import AlertRow, Store
from gateway.store.rows import from_mapping
from gateway.store.schema import alerts
from partners.profile import PartnerProfile

from .smtp_server import Mailbox, free_port, start_smtp

OPS = "ops@gateway.example"


class FakeClock:
    """A clock the test moves by hand (timezone-aware, starts at a fixed UTC time)."""

    def __init__(self) -> None:
        self.current = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.current

    def advance(self, seconds: float) -> dt.datetime:
        """Move time forward and return the new now."""
        self.current += dt.timedelta(seconds=seconds)
        return self.current


@pytest.fixture
def clock() -> FakeClock:
    """The clock of the store and the mailer."""
    return FakeClock()


@pytest.fixture
def store(store_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[Store]:
    """A migrated store driven by ``clock``."""
    with Store.open(store_url, tmp_path / "archive", clock=clock) as opened:
        yield opened


def all_alerts(store: Store) -> dict[str, AlertRow]:
    """Every alert row in the ledger, by id (sent ones too)."""
    with store.engine.connect() as conn:
        return {r["id"]: from_mapping(AlertRow, r) for r in conn.execute(select(alerts)).mappings()}


@pytest.fixture
def partners() -> dict[str, PartnerProfile]:
    """acme has its own alert address (and the ops address spelled differently); globex has none."""
    return {
        "acme": PartnerProfile(id="acme", name="ACME Retail", alert_emails=["edi@acme.example", "OPS@Gateway.example"]),
        "globex": PartnerProfile(id="globex", role="3pl"),
    }


@pytest.fixture
def smtp_port() -> int:
    """The loopback port the test SMTP server uses (and re-uses after an outage)."""
    return free_port()


@pytest.fixture
def mailbox() -> Mailbox:
    """Where the test server keeps what it receives."""
    return Mailbox()


@pytest.fixture
def smtp_server(smtp_port: int, mailbox: Mailbox) -> Iterator[Controller]:
    """A plain (no TLS) aiosmtpd server, up for the whole test."""
    controller = start_smtp(smtp_port, mailbox)
    try:
        yield controller
    finally:
        controller.stop()


MailerFactory = Callable[..., AlertMailer]


@pytest.fixture
def make_mailer(store: Store, partners: dict[str, PartnerProfile], clock: FakeClock,
                smtp_port: int) -> MailerFactory:
    """Build a mailer pointed at the test port; keyword arguments override SmtpSettings fields,
    ``mailer_kwargs`` go to AlertMailer."""

    def build(mailer_kwargs: dict[str, Any] | None = None, **settings: Any) -> AlertMailer:
        values: dict[str, Any] = {"host": "127.0.0.1", "port": smtp_port, "ops_emails": [OPS],
                                  "sender": "edi-gateway@gateway.example", "timeout_seconds": 5.0,
                                  "digest_seconds": 60.0}
        values.update(settings)
        return AlertMailer(store, SmtpSettings(**values), partners, clock, **(mailer_kwargs or {}))

    return build
