"""Digests: one mail per partner with the right recipients, subject and body; the digest window;
repeats folded by dedup key; hostile alert text stays inside the body."""

from __future__ import annotations

from typing import Any

import pytest
from aiosmtpd.controller import Controller

from gateway.store import Store

from .conftest import OPS, FakeClock, MailerFactory, all_alerts
from .smtp_server import Mailbox, Received

pytestmark = pytest.mark.usefixtures("smtp_server")


def by_partner(mails: list[Received]) -> dict[str, Received]:
    """Mails keyed by the partner header the mailer sets (one mail per partner expected)."""
    keyed = {str(m.message["X-EDI-Gateway-Partner"]): m for m in mails}
    assert len(keyed) == len(mails), "more than one mail for a partner"
    return keyed


def test_one_digest_per_partner(store: Store, clock: FakeClock, mailbox: Mailbox, make_mailer: MailerFactory) -> None:
    mailer = make_mailer()
    acme = [store.add_alert("inbound.rejected", f"Rejected purchase order 45000{i} from acme",
                            f"Partner acme sent purchase order 45000{i} in po{i}.edi, which was rejected: "
                            f"N1 segment missing.\nTrace: gateway trace F{i}\nWhat to do: ask acme to re-send.",
                            partner_id="acme") for i in range(3)]
    globex = [store.add_alert("sftp.down", "globex SFTP unreachable", "Connection refused by sftp.globex.example.",
                              partner_id="globex"),
              store.add_alert("ack.overdue", "997 overdue from globex", "ISA13 000000042 not acknowledged.",
                              partner_id="globex")]
    own = store.add_alert("store.disk", "Archive disk 91% full", "Free space on /var/edi.")
    stranger = store.add_alert("inbound.unknown", "File from unknown sender ZZ:INITECH", "Quarantined.",
                               partner_id="initech")

    assert mailer.send_due() == 0  # the digest window (60 s) is still open
    assert mailbox.snapshot() == []
    clock.advance(60)
    assert mailer.send_due() == 7

    mails = by_partner(mailbox.snapshot())
    assert set(mails) == {"acme", "globex", "gateway", "initech"}
    acme_mail = mails["acme"]
    assert acme_mail.rcpt_tos == ["edi@acme.example", "OPS@Gateway.example"]  # ops deduplicated, case-insensitive
    assert acme_mail.mail_from == "edi-gateway@gateway.example"
    assert str(acme_mail.message["From"]) == "edi-gateway@gateway.example"
    assert acme_mail.subject == "[EDI gateway] acme: 3 alerts — Rejected purchase order 450000 from acme (+2 more)"
    assert acme_mail.alert_ids == acme
    text = acme_mail.text
    assert text.startswith("3 alerts for partner acme (ACME Retail), raised between 2024-03-01 12:00:00 UTC")
    for i in range(3):
        assert f"Rejected purchase order 45000{i} from acme" in text
        assert f"   Trace: gateway trace F{i}" in text
    assert text.count("which was rejected: N1 segment missing.") == 3
    assert "seen" not in text

    for key in ("globex", "gateway", "initech"):
        assert mails[key].rcpt_tos == [OPS]  # no alert_emails of their own (or no profile at all)
    assert mails["globex"].alert_ids == globex
    assert mails["globex"].subject == "[EDI gateway] globex: 2 alerts — globex SFTP unreachable (+1 more)"
    assert mails["gateway"].alert_ids == [own]
    assert mails["gateway"].subject == "[EDI gateway] gateway: Archive disk 91% full"
    assert "the gateway itself (no partner)" in mails["gateway"].text
    assert mails["initech"].alert_ids == [stranger]
    assert "partner initech (not in the partner configuration)" in mails["initech"].text

    rows = all_alerts(store)
    assert {r.state for r in rows.values()} == {"sent"}
    for mail in mails.values():
        digest = str(mail.message["X-EDI-Gateway-Digest"])
        assert {rows[i].digest_id for i in mail.alert_ids} == {digest}
        assert str(mail.message["Message-ID"]) == f"<{digest}@edi-gateway>"
    assert store.pending_alerts() == []
    assert mailer.send_due() == 0
    assert len(mailbox.snapshot()) == 4


def test_a_burst_is_one_mail(store: Store, clock: FakeClock, mailbox: Mailbox, make_mailer: MailerFactory) -> None:
    mailer = make_mailer(digest_seconds=30)
    ids = []
    for i in range(150):
        ids.append(store.add_alert("inbound.rejected", f"Rejected invoice INV{i:04d} from acme",
                                   f"Invoice INV{i:04d}: IT1 quantity is not a number.", partner_id="acme"))
        if i % 50 == 49:
            clock.advance(5)  # the burst lasts 15 s, inside the 30 s window
    clock.advance(15)
    assert mailer.send_due() == 150
    (mail,) = mailbox.snapshot()
    assert mail.alert_ids == ids
    assert mail.subject.startswith("[EDI gateway] acme: 150 alerts — Rejected invoice INV0000 from acme (+149 more)")


def test_more_than_a_mail_holds_is_split(store: Store, clock: FakeClock, mailbox: Mailbox,
                                         make_mailer: MailerFactory) -> None:
    mailer = make_mailer({"max_alerts_per_mail": 4}, digest_seconds=0)
    ids = [store.add_alert("k", f"alert {i}", "b", partner_id="globex") for i in range(10)]
    assert mailer.send_due() == 10
    mails = mailbox.snapshot()
    assert [len(m.alert_ids) for m in mails] == [4, 4, 2]
    assert [i for m in mails for i in m.alert_ids] == ids


def test_digest_window_starts_with_the_oldest_alert(store: Store, clock: FakeClock, mailbox: Mailbox,
                                                    make_mailer: MailerFactory) -> None:
    mailer = make_mailer(digest_seconds=60)
    first = store.add_alert("k", "first", "b", partner_id="acme")
    clock.advance(30)
    second = store.add_alert("k", "second", "b", partner_id="acme")
    other = store.add_alert("k", "other", "b", partner_id="globex")
    clock.advance(29)
    assert mailer.send_due() == 0
    clock.advance(1)  # acme's oldest alert has waited 60 s; globex's only 30 s
    assert mailer.send_due() == 2
    assert [m.alert_ids for m in mailbox.snapshot()] == [[first, second]]
    third = store.add_alert("k", "third", "b", partner_id="acme")
    clock.advance(30)
    assert mailer.send_due() == 1  # globex now; acme's new alert waits for its own window
    assert [m.alert_ids for m in mailbox.snapshot()][1:] == [[other]]
    clock.advance(30)
    assert mailer.send_due() == 1
    assert mailbox.snapshot()[-1].alert_ids == [third]
    assert mailer.send_due(flush=True) == 0


def test_flush_ignores_the_window(store: Store, mailbox: Mailbox, make_mailer: MailerFactory) -> None:
    alert = store.add_alert("k", "now please", "b", partner_id="acme")
    assert make_mailer(digest_seconds=3600).send_due(flush=True) == 1
    assert mailbox.snapshot()[0].alert_ids == [alert]


def test_repeats_are_one_line_seen_n_times(store: Store, clock: FakeClock, mailbox: Mailbox,
                                           make_mailer: MailerFactory) -> None:
    mailer = make_mailer(digest_seconds=60)
    for _ in range(4):
        repeated = store.add_alert("sftp.down", "acme SFTP unreachable", "Connection refused by sftp.acme.example.",
                                   partner_id="acme", dedup_key="sftp.down:acme")
        clock.advance(10)
    clock.advance(30)
    assert mailer.send_due() == 1
    (mail,) = mailbox.snapshot()
    assert mail.alert_ids == [repeated]
    assert mail.subject == "[EDI gateway] acme: acme SFTP unreachable (seen 4 times)"
    assert mail.text.count("acme SFTP unreachable") == 1
    assert ("1. acme SFTP unreachable — seen 4 times (first 2024-03-01 12:00:00 UTC, last 2024-03-01 12:00:30 UTC)"
            in mail.text)
    assert mail.text.count("Connection refused by sftp.acme.example.") == 1

    # mixed with another alert, the repeated one still says how often it was seen
    again = store.add_alert("sftp.down", "acme SFTP unreachable", "again", partner_id="acme",
                            dedup_key="sftp.down:acme")
    store.add_alert("sftp.down", "acme SFTP unreachable", "again", partner_id="acme", dedup_key="sftp.down:acme")
    store.add_alert("inbound.rejected", "Rejected order 7 from acme", "b", partner_id="acme")
    assert again != repeated  # the first one was sent: the trouble alerts afresh
    clock.advance(60)
    assert mailer.send_due() == 2
    text = mailbox.snapshot()[-1].text
    assert "1. acme SFTP unreachable — seen 2 times" in text
    assert "2. Rejected order 7 from acme\n" in text


def test_hostile_alert_text_stays_in_the_body(store: Store, mailbox: Mailbox, make_mailer: MailerFactory,
                                              smtp_server: Controller) -> None:
    alert = store.add_alert("inbound.rejected", "Rejected order 1\r\nBcc: victim@elsewhere.example\x07",
                            "line one\r\nline two\x1b[31m\n" + "x" * 3000, partner_id="acme\nBcc: x@y.example")
    assert make_mailer(digest_seconds=0).send_due() == 1
    (mail,) = mailbox.snapshot()
    assert mail.message["Bcc"] is None
    assert "victim@elsewhere.example" not in mail.rcpt_tos
    assert mail.rcpt_tos == [OPS]
    assert mail.subject == "[EDI gateway] acme Bcc: x@y.example: Rejected order 1 Bcc: victim@elsewhere.example"
    assert mail.alert_ids == [alert]
    assert "   line two[31m" in mail.text
    assert "x" * 3000 in mail.text


def test_without_recipients_alerts_wait_as_failed(store: Store, clock: FakeClock, mailbox: Mailbox,
                                                  make_mailer: MailerFactory) -> None:
    mailer = make_mailer(ops_emails=[], digest_seconds=0)
    lost = store.add_alert("k", "globex trouble", "b", partner_id="globex")  # globex has no alert_emails
    kept = store.add_alert("k", "acme trouble", "b", partner_id="acme")
    assert mailer.send_due() == 1
    assert [m.alert_ids for m in mailbox.snapshot()] == [[kept]]
    row = all_alerts(store)[lost]
    assert row.state == "failed"
    assert row.last_error == "no recipients: set smtp.ops_emails or the partner's alert_emails"
    clock.advance(3600)
    assert make_mailer(digest_seconds=0).send_due() == 1  # configuration fixed (ops_emails back): it goes out
    assert mailbox.snapshot()[-1].alert_ids == [lost]


def test_malformed_addresses_are_skipped(store: Store, partners: dict, mailbox: Mailbox,
                                         make_mailer: MailerFactory) -> None:
    from partners.profile import PartnerProfile

    partners["globex"] = PartnerProfile(id="globex", alert_emails=["not an address", "x@y\r\nBcc: z@w",
                                                                    "Globex EDI <edi@globex.example>", ""])
    store.add_alert("k", "t", "b", partner_id="globex")
    assert make_mailer(digest_seconds=0).send_due() == 1
    assert mailbox.snapshot()[0].rcpt_tos == ["edi@globex.example", OPS]


def test_two_mailers_on_one_store_send_each_alert_once(store: Store, clock: FakeClock, mailbox: Mailbox,
                                                        make_mailer: MailerFactory) -> None:
    """Two gateway workers each run a mailer: racing on the same pending alerts, every alert goes out once.

    On PostgreSQL an advisory lock lets one mailer send at a time; on SQLite (one worker) it is the same code.
    """
    import threading

    ids = [store.add_alert("inbound.rejected", f"Rejected PO {i}", f"PO {i} was rejected.", partner_id="acme")
           for i in range(40)]
    clock.advance(60)
    mailers = [make_mailer(), make_mailer()]
    start = threading.Barrier(2)
    sent: list[int] = []

    def run(mailer: Any) -> None:
        start.wait()
        for _ in range(3):
            sent.append(mailer.send_due(flush=True))

    threads = [threading.Thread(target=run, args=(m,)) for m in mailers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    received = [alert_id for mail in mailbox.snapshot() for alert_id in mail.alert_ids]
    assert sorted(received) == sorted(ids)  # each alert exactly once, none lost
    assert sum(sent) == len(ids)
