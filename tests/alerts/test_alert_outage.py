"""SMTP trouble: an outage loses nothing and sends nothing twice; backoff; timeouts; refused
recipients fail only their digest; missing credentials are a clear error. Never an exception."""

from __future__ import annotations

import datetime as dt
import logging
import socket
from collections import Counter

import pytest

from gateway.store import Store

from .conftest import FakeClock, MailerFactory, all_alerts
from .smtp_server import Mailbox, start_smtp


def raise_five(store: Store) -> dict[str, str]:
    """Five alerts for two partners; their ids mapped to the partner."""
    ids = {}
    for i in range(3):
        alert = store.add_alert("inbound.rejected", f"Rejected order {i} from acme", f"trace F{i}", partner_id="acme")
        ids[alert] = "acme"
    for i in range(2):
        alert = store.add_alert("ack.overdue", f"997 overdue from globex ({i})", f"ISA13 {i}", partner_id="globex")
        ids[alert] = "globex"
    return ids


def test_outage_loses_nothing_and_sends_once(store: Store, clock: FakeClock, mailbox: Mailbox, smtp_port: int,
                                             make_mailer: MailerFactory, caplog: pytest.LogCaptureFixture) -> None:
    mailer = make_mailer(digest_seconds=10)
    ids = raise_five(store)
    clock.advance(10)
    with caplog.at_level(logging.WARNING, logger="gateway.alerts"):
        assert mailer.send_due() == 0  # nobody listens on the port: connection refused
    rows = all_alerts(store)
    assert {r.state for r in rows.values()} == {"failed"}
    assert {r.attempts for r in rows.values()} == {1}
    (error,) = {r.last_error for r in rows.values()}
    assert error is not None and error.startswith(f"cannot connect to SMTP server 127.0.0.1:{smtp_port}")
    assert {r.next_attempt_at for r in rows.values()} == {clock() + dt.timedelta(seconds=30)}
    logged = [r.getMessage() for r in caplog.records]
    assert any("could not send 3 alerts for acme: cannot connect" in m for m in logged)
    assert any("could not send 2 alerts for globex: cannot connect" in m for m in logged)

    # more trouble during the outage is held back for the retry, not tried (and failed) on its own
    late = store.add_alert("inbound.rejected", "Rejected order 9 from acme", "trace F9", partner_id="acme")
    ids[late] = "acme"
    clock.advance(20)
    assert mailer.send_due() == 0
    assert all_alerts(store)[late].state == "pending"

    controller = start_smtp(smtp_port, mailbox)  # the server is back, on the same port
    try:
        clock.advance(10)  # the retry time has come
        assert mailer.send_due() == 6
        assert mailer.send_due() == 0
        clock.advance(3600)
        assert mailer.send_due() == 0
    finally:
        controller.stop()

    mails = mailbox.snapshot()
    received = Counter(i for m in mails for i in m.alert_ids)
    assert received == Counter(set(ids))  # every alert exactly once
    assert sorted(str(m.message["X-EDI-Gateway-Partner"]) for m in mails) == ["acme", "globex"]
    for mail in mails:
        assert {ids[i] for i in mail.alert_ids} == {str(mail.message["X-EDI-Gateway-Partner"])}
    acme_mail = next(m for m in mails if m.alert_ids[0] in ids and ids[m.alert_ids[0]] == "acme")
    assert "earlier send attempts: 1" in acme_mail.text
    rows = all_alerts(store)
    assert {r.state for r in rows.values()} == {"sent"}
    assert rows[late].attempts == 1 and all(rows[i].attempts == 2 for i in ids if i != late)


def test_backoff_doubles_up_to_fifteen_minutes(store: Store, clock: FakeClock, make_mailer: MailerFactory) -> None:
    mailer = make_mailer(digest_seconds=0)
    alert = store.add_alert("k", "t", "b", partner_id="acme")
    waits = []
    for _ in range(8):
        assert mailer.send_due() == 0
        row = all_alerts(store)[alert]
        assert row.next_attempt_at is not None
        waits.append((row.next_attempt_at - clock()).total_seconds())
        clock.advance(waits[-1] - 1)
        assert store.pending_alerts() == []  # not due a second early ...
        assert mailer.send_due() == 0
        clock.advance(1)  # ... but at its time
    assert waits == [30, 60, 120, 240, 480, 900, 900, 900]
    assert all_alerts(store)[alert].attempts == 8


def test_a_silent_server_times_out(store: Store, clock: FakeClock, smtp_port: int,
                                   make_mailer: MailerFactory) -> None:
    mailer = make_mailer(digest_seconds=0, timeout_seconds=0.5)
    with socket.socket() as silent:  # accepts connections (backlog) but never greets
        silent.bind(("127.0.0.1", smtp_port))
        silent.listen(5)
        store.add_alert("k", "t", "b", partner_id="acme")
        assert mailer.send_due() == 0
    (row,) = all_alerts(store).values()
    assert row.state == "failed"
    assert row.last_error is not None and f"SMTP server 127.0.0.1:{smtp_port}" in row.last_error
    assert "0.5s" in row.last_error


def test_refused_recipients_fail_only_their_digest(store: Store, clock: FakeClock, mailbox: Mailbox, smtp_port: int,
                                                   make_mailer: MailerFactory) -> None:
    mailbox.refuse_domains.update({"acme.example", "gateway.example"})
    controller = start_smtp(smtp_port, mailbox)
    try:
        from partners.profile import PartnerProfile

        mailer = make_mailer(digest_seconds=0)
        mailer._partners = {"acme": PartnerProfile(id="acme", alert_emails=["edi@acme.example"]),
                            "globex": PartnerProfile(id="globex", alert_emails=["edi@globex.example"])}
        refused = store.add_alert("k", "acme trouble", "b", partner_id="acme")  # every recipient refused
        partly = store.add_alert("k", "globex trouble", "b", partner_id="globex")  # ops refused, globex takes it
        assert mailer.send_due() == 1
        (mail,) = mailbox.snapshot()
        assert (mail.alert_ids, mail.rcpt_tos) == ([partly], ["edi@globex.example"])
        rows = all_alerts(store)
        assert rows[partly].state == "sent"
        assert rows[refused].state == "failed"
        assert rows[refused].last_error is not None
        assert "refused every recipient" in rows[refused].last_error
        assert "edi@acme.example: 550" in rows[refused].last_error
        # a message-level failure does not hold up the next partner's mail
        other = store.add_alert("k", "globex again", "b", partner_id="globex")
        assert mailer.send_due() == 1
        assert mailbox.snapshot()[-1].alert_ids == [other]
    finally:
        controller.stop()


def test_missing_credentials_are_a_clear_error(store: Store, clock: FakeClock, mailbox: Mailbox,
                                               make_mailer: MailerFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALERTS_TEST_SMTP_USER", raising=False)
    mailer = make_mailer(digest_seconds=0, username_env="ALERTS_TEST_SMTP_USER", password_env="ALERTS_TEST_SMTP_PW")
    store.add_alert("k", "t", "b", partner_id="acme")
    assert mailer.send_due() == 0
    (row,) = all_alerts(store).values()
    assert row.last_error == ("cannot send alerts: smtp.username_env names environment variable "
                              "ALERTS_TEST_SMTP_USER, which is not set")


def test_a_message_the_server_cannot_take_fails_alone(store: Store, clock: FakeClock, mailbox: Mailbox,
                                                      smtp_port: int, make_mailer: MailerFactory) -> None:
    from partners.profile import PartnerProfile

    controller = start_smtp(smtp_port, mailbox, enable_SMTPUTF8=False)
    try:
        mailer = make_mailer(digest_seconds=0, ops_emails=[])
        mailer._partners = {"acme": PartnerProfile(id="acme", alert_emails=["einkäufer@acme.example"]),
                            "globex": PartnerProfile(id="globex", alert_emails=["edi@globex.example"])}
        stuck = store.add_alert("k", "acme trouble", "b", partner_id="acme")
        fine = store.add_alert("k", "globex trouble", "b", partner_id="globex")
        assert mailer.send_due() == 1
        assert [m.alert_ids for m in mailbox.snapshot()] == [[fine]]
        row = all_alerts(store)[stuck]
        assert row.state == "failed" and row.last_error is not None and "SMTPUTF8" in row.last_error
    finally:
        controller.stop()


def test_server_dropping_mid_pass_fails_the_rest(store: Store, clock: FakeClock, mailbox: Mailbox, smtp_port: int,
                                                 make_mailer: MailerFactory) -> None:
    controller = start_smtp(smtp_port, mailbox, command_call_limit={"MAIL": 1, "*": 100})  # 1 mail, then it hangs up
    try:
        mailer = make_mailer(digest_seconds=0)
        first = store.add_alert("k", "acme trouble", "b", partner_id="acme")
        rest = [store.add_alert("k", f"{p} trouble", "b", partner_id=p) for p in ("globex", "initech")]
        assert mailer.send_due() == 1
        assert [m.alert_ids for m in mailbox.snapshot()] == [[first]]
        rows = all_alerts(store)
        assert rows[first].state == "sent"
        assert {rows[i].state for i in rest} == {"failed"}
        (error,) = {rows[i].last_error for i in rest}
        assert error == f"SMTP server 127.0.0.1:{smtp_port} answered 421 4.7.0 MAIL sent too many times"
        assert mailer.send_due() == 0  # held until the retry time
        clock.advance(30)
        assert mailer.send_due() == 1  # one MAIL per connection: one digest per pass ...
        assert mailer.send_due() == 0  # ... and the other waits for its (doubled) retry time
        clock.advance(60)
        assert mailer.send_due() == 1
        assert sorted(i for m in mailbox.snapshot() for i in m.alert_ids) == sorted([first, *rest])
    finally:
        controller.stop()
