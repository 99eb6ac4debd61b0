"""Alerts: dedup keys fold repeats into one unsent alert; sent/failed bookkeeping; Alerter protocol."""

from __future__ import annotations

import datetime as dt

from store_helpers import FakeClock

from gateway.store import Store
from inbox.base import Alerter


def test_repeats_fold_into_one_unsent_alert(store: Store, clock: FakeClock) -> None:
    first = store.add_alert("sftp", "acme SFTP down", "timeout", partner_id="acme", dedup_key="sftp:acme")
    clock.advance(60)
    again = store.add_alert("sftp", "acme SFTP down", "timeout again", partner_id="acme", dedup_key="sftp:acme")
    other = store.add_alert("sftp", "globex SFTP down", "refused", dedup_key="sftp:globex")
    plain = [store.add_alert("note", "n", "b"), store.add_alert("note", "n", "b")]
    assert first == again
    assert len({first, other, *plain}) == 4
    pending = {a.id: a for a in store.pending_alerts()}
    assert set(pending) == {first, other, *plain}
    assert pending[first].repeats == 2
    assert pending[first].body == "timeout"
    assert pending[first].last_seen_at == clock()


def test_after_sending_the_same_trouble_alerts_again(store: Store) -> None:
    first = store.add_alert("as2", "bad signature", "x", dedup_key="as2:sig")
    assert store.mark_alert_sent([first], digest_id="digest-1") == 1
    assert store.mark_alert_sent([first]) == 0
    assert store.pending_alerts() == []
    second = store.add_alert("as2", "bad signature", "x", dedup_key="as2:sig")
    assert second != first
    assert [a.id for a in store.pending_alerts()] == [second]


def test_failed_alerts_wait_for_their_retry_time(store: Store, clock: FakeClock) -> None:
    alert = store.add_alert("smtp", "s", "b", dedup_key="k")
    assert store.mark_alert_failed([alert], "SMTP 451", clock() + dt.timedelta(minutes=5)) == 1
    assert store.pending_alerts() == []
    assert store.add_alert("smtp", "s", "b", dedup_key="k") == alert  # failed is still unsent
    clock.advance(5 * 60)
    (due,) = store.pending_alerts()
    assert (due.id, due.state, due.attempts, due.last_error, due.repeats) == (alert, "failed", 1, "SMTP 451", 2)


def test_store_is_an_alerter(store: Store) -> None:
    alerter: Alerter = store
    alerter.alert("sftp", "host key changed", "fingerprint ...", partner_id="acme", dedup_key="hostkey:acme")
    alerter.alert("sftp", "host key changed", "fingerprint ...", partner_id="acme", dedup_key="hostkey:acme")
    (row,) = store.pending_alerts()
    assert (row.partner_id, row.repeats) == ("acme", 2)


def test_expected_acks_become_overdue(store: Store, clock: FakeClock) -> None:
    sent = clock()
    store.expect_ack("acme", "000000005", "5", "0001", document_id=None, sent_at=sent,
                     due_at=sent + dt.timedelta(hours=24))
    store.expect_ack("acme", "000000005", "5", "0001", document_id=None, sent_at=sent,
                     due_at=sent + dt.timedelta(hours=48))  # idempotent: the first expectation stands
    store.expect_ack("acme", "000000005", "5", "0002", document_id=None, sent_at=sent,
                     due_at=sent + dt.timedelta(hours=24))
    assert store.overdue_acks() == []
    clock.advance(days=1)
    assert [a.st02 for a in store.overdue_acks()] == ["0001", "0002"]
    assert store.resolve_ack("acme", "000000005", "5", "0001", "accepted")
    assert not store.resolve_ack("acme", "000000005", "5", "0001", "rejected")
    assert not store.resolve_ack("acme", "999999999", "5", "0001", "accepted")
    assert [a.st02 for a in store.overdue_acks()] == ["0002"]


def test_alert_text_with_nul_bytes_is_recorded(store: Store) -> None:
    """A partner's NUL byte quoted in an alert must not make recording the alert fail (PostgreSQL)."""
    alert_id = store.add_alert("inbound.rejected", "bad \x00 value", "element ISA06 was 'A\x00B'")
    (row,) = [a for a in store.pending_alerts() if a.id == alert_id]
    assert "\x00" not in row.subject + row.body
    assert "\\x00" in row.body
