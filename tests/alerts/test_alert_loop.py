"""The daemon loop: sends in its own thread, survives a broken ledger, stops when told."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import text

from gateway.store import Store

from .conftest import MailerFactory, all_alerts
from .smtp_server import Mailbox

WAIT_SECONDS = 20.0  # an upper bound for the loop to react, not a speed requirement


def wait_for(condition: Callable[[], bool]) -> None:
    """Poll until ``condition`` holds (fail after WAIT_SECONDS)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, "the mailer loop did not get there"
        time.sleep(0.02)


@pytest.mark.usefixtures("smtp_server")
def test_run_sends_survives_store_errors_and_stops(store: Store, mailbox: Mailbox, make_mailer: MailerFactory,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    mailer = make_mailer(digest_seconds=0)
    stop = threading.Event()
    first = store.add_alert("k", "first", "b", partner_id="acme")
    with caplog.at_level(logging.INFO, logger="gateway.alerts"):
        worker = threading.Thread(target=mailer.run, args=(stop, 0.02), daemon=True)
        worker.start()
        try:
            wait_for(lambda: len(mailbox.snapshot()) == 1)
            assert mailbox.snapshot()[0].alert_ids == [first]

            with store.engine.begin() as conn:  # the ledger breaks under the mailer's feet ...
                conn.execute(text("ALTER TABLE alerts RENAME TO alerts_away"))
            wait_for(lambda: any("sending pass failed" in r.getMessage() for r in caplog.records))
            assert worker.is_alive()
            with store.engine.begin() as conn:  # ... and comes back
                conn.execute(text("ALTER TABLE alerts_away RENAME TO alerts"))
            second = store.add_alert("k", "second", "b", partner_id="globex")
            wait_for(lambda: len(mailbox.snapshot()) == 2)
            assert mailbox.snapshot()[1].alert_ids == [second]
        finally:
            stop.set()
            worker.join(WAIT_SECONDS)
    assert not worker.is_alive()
    assert {r.state for r in all_alerts(store).values()} == {"sent"}
    failures = [r for r in caplog.records if "sending pass failed" in r.getMessage()]
    assert len(failures) == 1  # logged once while it lasts, not every pass
    assert not failures[0].exc_info and "\n" not in failures[0].getMessage()  # one line, no traceback
    assert any(r.getMessage() == "alerts: sending works again" for r in caplog.records)
    assert any(r.getMessage() == "alerts: mailer stopped" for r in caplog.records)
