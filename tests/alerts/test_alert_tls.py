"""SMTP over TLS: STARTTLS with login, implicit TLS, and a certificate we do not trust."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.store import Store

from .conftest import FakeClock, MailerFactory, all_alerts
from .smtp_server import Authenticator, Mailbox, TlsFiles, make_tls_files, start_smtp

USER_ENV, PASSWORD_ENV = "ALERTS_TEST_SMTP_USER", "ALERTS_TEST_SMTP_PASSWORD"


@pytest.fixture
def tls(tmp_path: Path) -> TlsFiles:
    """A fresh self-signed certificate for the loopback server."""
    return make_tls_files(tmp_path / "tls")


@pytest.fixture
def authenticator() -> Authenticator:
    """The server's single account."""
    return Authenticator("gateway", "s3cret pass")


@pytest.fixture
def starttls_server(smtp_port: int, mailbox: Mailbox, tls: TlsFiles, authenticator: Authenticator) -> Iterator[None]:
    """A server that insists on STARTTLS and a login before it takes mail."""
    controller = start_smtp(smtp_port, mailbox, tls_context=tls.server_context(), require_starttls=True,
                            auth_required=True, authenticator=authenticator)
    try:
        yield
    finally:
        controller.stop()


@pytest.mark.usefixtures("starttls_server")
def test_starttls_with_login(store: Store, mailbox: Mailbox, tls: TlsFiles, authenticator: Authenticator,
                             make_mailer: MailerFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(USER_ENV, "gateway")
    monkeypatch.setenv(PASSWORD_ENV, "s3cret pass")
    mailer = make_mailer({"tls_context": tls.client_context()}, digest_seconds=0, security="starttls",
                         username_env=USER_ENV, password_env=PASSWORD_ENV)
    alert = store.add_alert("k", "over TLS", "b", partner_id="acme")
    assert mailer.send_due() == 1
    assert mailbox.snapshot()[0].alert_ids == [alert]
    assert authenticator.attempts == 1


@pytest.mark.usefixtures("starttls_server")
def test_wrong_password_is_recorded(store: Store, tls: TlsFiles, mailbox: Mailbox, smtp_port: int,
                                    make_mailer: MailerFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(USER_ENV, "gateway")
    monkeypatch.setenv(PASSWORD_ENV, "wrong")
    mailer = make_mailer({"tls_context": tls.client_context()}, digest_seconds=0, security="starttls",
                         username_env=USER_ENV, password_env=PASSWORD_ENV)
    store.add_alert("k", "t", "b", partner_id="acme")
    assert mailer.send_due() == 0
    assert mailbox.snapshot() == []
    (row,) = all_alerts(store).values()
    assert row.last_error is not None
    assert row.last_error.startswith(f"SMTP server 127.0.0.1:{smtp_port} rejected our login (535")


@pytest.mark.usefixtures("starttls_server")
def test_plain_smtp_to_a_starttls_server_is_refused(store: Store, mailbox: Mailbox, make_mailer: MailerFactory) -> None:
    store.add_alert("k", "t", "b", partner_id="acme")
    assert make_mailer(digest_seconds=0, security="none").send_due() == 0
    assert mailbox.snapshot() == []
    (row,) = all_alerts(store).values()
    assert row.state == "failed" and row.last_error is not None and "530" in row.last_error


def test_implicit_tls(store: Store, clock: FakeClock, mailbox: Mailbox, tls: TlsFiles, smtp_port: int,
                      make_mailer: MailerFactory) -> None:
    controller = start_smtp(smtp_port, mailbox, ssl_context=tls.server_context())
    try:
        alert = store.add_alert("k", "over implicit TLS", "b", partner_id="globex")
        untrusting = make_mailer(digest_seconds=0, security="tls")  # system trust store: our cert is unknown
        assert untrusting.send_due() == 0
        (row,) = all_alerts(store).values()
        assert row.last_error is not None
        assert row.last_error.startswith(f"TLS with SMTP server 127.0.0.1:{smtp_port} failed (tls): "
                                         "self-signed certificate")
        assert mailbox.snapshot() == []
        trusting = make_mailer({"tls_context": tls.client_context()}, digest_seconds=0, security="tls")
        assert trusting.send_due(flush=True) == 0  # its retry time has not come
        clock.advance(30)
        assert trusting.send_due() == 1
        assert mailbox.snapshot()[0].alert_ids == [alert]
    finally:
        controller.stop()
